"""Ranker kinds by name: typed config in, ranker out. Configs round-trip to plain dicts (YAML/JSON)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from loralab.errors import ConfigError, UnknownNameError
from loralab.rankers.base import Ranker
from loralab.rankers.bi_encoder import BiEncoderConfig, BiEncoderRanker
from loralab.rankers.cross_encoder import CrossEncoderConfig, CrossEncoderRanker
from loralab.rankers.ensemble import EnsembleConfig, EnsembleRanker
from loralab.rankers.prompt import (
    ListwiseConfig, ListwiseRanker, PointwiseConfig, PointwiseRanker, RatingConfig, RatingRanker,
)
from loralab.rankers.splade import SpladeConfig, SpladeRanker

_KINDS: dict[str, tuple[type, Callable[[Any], Ranker]]] = {}


def register_ranker(config_cls: type, build: Callable[[Any], Ranker]) -> None:
    if config_cls.kind in _KINDS:
        raise ValueError(f"ranker kind '{config_cls.kind}' is already registered")
    _KINDS[config_cls.kind] = (config_cls, build)


def ranker_kinds() -> list[str]:
    return list(_KINDS)


def ranker_config(kind: str, **options: Any):
    """The typed config for `kind`; unknown options raise a ConfigError naming the valid ones."""
    if kind not in _KINDS:
        raise UnknownNameError(f"unknown ranker '{kind}'; choose one of: {', '.join(['bm25', *_KINDS])}")
    config_cls = _KINDS[kind][0]
    valid = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ConfigError(f"ranker '{kind}' has no option {', '.join(unknown)}; valid options: {', '.join(sorted(valid))}")
    return config_cls(**{k: v for k, v in options.items() if v is not None})


def config_to_dict(config) -> dict[str, Any]:
    return {"ranker": config.kind, **dataclasses.asdict(config)}


def build_ranker(config) -> Ranker:
    """Dispatch on the config's type (torchao style)."""
    for config_cls, build in _KINDS.values():
        if type(config) is config_cls:
            return build(config)
    raise ConfigError(f"no ranker accepts a {type(config).__name__}")


register_ranker(BiEncoderConfig, BiEncoderRanker)
register_ranker(CrossEncoderConfig, CrossEncoderRanker)
register_ranker(SpladeConfig, SpladeRanker)
register_ranker(PointwiseConfig, PointwiseRanker)  # prompt-pointwise
register_ranker(ListwiseConfig, ListwiseRanker)  # prompt-listwise
register_ranker(RatingConfig, RatingRanker)  # prompt-rating
register_ranker(EnsembleConfig, EnsembleRanker)  # several rankers, calibrated per query
