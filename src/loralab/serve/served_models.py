"""What one server holds: a ranker (plus adapters on it) and optionally a classifier, by served name.

Model calls happen only on the batcher's single model thread, so switching adapters between batches
needs no lock.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from loralab.data.schemas import Document
from loralab.errors import ConfigError, UnknownNameError
from loralab.artifacts.load import resolve_model
from loralab.rankers.base import PAIRWISE_KINDS
from loralab.serve.adapters import attach_adapters, check_adapter_folder, check_safetensors_model

ENCODER_KINDS = ("cross-encoder", "bi-encoder", "splade")  # take the server's max_length and batch size


@dataclass
class ServeModels:
    ranker: object
    ranker_kind: str
    base_names: list[str]  # what clients may send as `model` for the base; the first is the one reported
    adapters: dict[str, Path] = field(default_factory=dict)
    classifier: object | None = None
    classifier_name: str | None = None
    peft_model: object | None = None
    base_served: bool = True  # False: an untrained head under adapters; only the adapters answer

    @classmethod
    def load(cls, model: str, ranker_kind: str = "cross-encoder", adapters: dict[str, Path] | None = None,
             classifier: str | None = None, served_names: list[str] | None = None, max_length: int = 256,
             batch_size: int = 64, allow_untrained_head: bool = False,
             ranker_options: dict | None = None) -> ServeModels:
        """`served_names`: the names clients send for the base model (e.g. a hosted API's model name; default:
        the folder's name). A cross-encoder whose head is untrained is refused, unless `allow_untrained_head`,
        or unless adapters (which carry their own trained heads) are served on it: then the base is not.
        `ranker_options`: the ranker's own options (a prompt's template, dtype, ...; a study's winner records
        them), over the server's max_length and batch size for encoders."""
        from loralab.tasks.classify.predictor import ClassifierConfig, SequenceClassifier
        from loralab.rankers.registry import build_ranker, ranker_config

        check_serve_inputs(model, ranker_kind, adapters, classifier)
        names = _unique_names(served_names or [_default_name(model)])
        tolerate_random_head = allow_untrained_head or bool(adapters)
        sizes = {"max_length": max_length, "batch_size": batch_size} if ranker_kind in ENCODER_KINDS else {}
        config = ranker_config(ranker_kind, **{**sizes, **(ranker_options or {}), "model": model})
        if ranker_kind == "cross-encoder":
            config.allow_untrained_head = tolerate_random_head
        if hasattr(config, "document_cache"):
            # no document vectors kept between requests: a server sees ever new texts (a cache without eviction
            # only grows), and it swaps adapters on the model between batches (a vector from one is wrong for another)
            config.document_cache = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the untrained-head case is decided below, not warned about
            ranker = build_ranker(config)
        served = cls(ranker, ranker_kind, names, dict(adapters or {}))
        served.base_served = allow_untrained_head or not getattr(ranker, "head_is_new", False)
        if clash := set(served.base_names) & set(served.adapters):
            raise ConfigError(f"adapter name '{sorted(clash)[0]}' is also a name of the base model; rename one")
        if served.adapters:
            served.peft_model = attach_adapters(ranker.model, served.adapters)
            ranker.model = served.peft_model
        if classifier:
            config = ClassifierConfig(model=classifier, max_length=max_length, batch_size=batch_size,
                                      allow_untrained_head=allow_untrained_head)
            served.classifier = SequenceClassifier(config)
            served.classifier_name = _default_name(classifier)
        return served

    @property
    def base_name(self) -> str:
        return self.base_names[0]

    @property
    def ranker_names(self) -> list[str]:
        """The names a rerank request may send; the first is the default for a request without `model`."""
        return [*(self.base_names if self.base_served else []), *self.adapters]

    def resolve_ranker(self, requested: str | None) -> str:
        """The model key (base name or adapter) a request's `model` field picks; absent = the default."""
        names = self.ranker_names
        if requested is None:
            return self.base_name if self.base_served else names[0]
        if requested in self.adapters:
            return requested
        if requested in self.base_names and self.base_served:
            return self.base_name
        hint = ("; the base model is not served: its relevance head is untrained (only its adapters are)"
                if requested in self.base_names else "")
        raise UnknownNameError(f"model '{requested}' is not served here{hint}; available: {', '.join(names)}")

    def resolve_classifier(self, requested: str | None) -> str:
        if self.classifier is None:
            raise UnknownNameError("no classifier is loaded; start the server with --classifier <model>")
        if requested in (None, self.classifier_name):
            return self.classifier_name
        raise UnknownNameError(f"classifier '{requested}' is not served here; available: {self.classifier_name}")

    def warm_up(self) -> None:
        """One real forward per served model (and adapter): compiled or lazily built kernels (torchao int8,
        oneDNN primitives) are made now, before the server reports ready, not on a client's first request."""
        pair = [("warm-up query", Document(id="warm-up", text="a short warm-up passage"))]
        for name in dict.fromkeys(self.resolve_ranker(n) for n in self.ranker_names):
            self.score_pairs(name, pair)
        if self.classifier is not None:
            self.classify(self.classifier_name, ["a short warm-up text"])

    def score_pairs(self, key: str, pairs: list[tuple[str, Document]]) -> list[float]:
        """Library scores (the same `score_pairs` that `ranker.score` uses) with `key`'s adapter active."""
        queries = [q for q, _ in pairs]
        docs = [d for _, d in pairs]
        with self.active(key):
            return self.ranker.score_pairs(queries, docs)

    @contextlib.contextmanager
    def active(self, key: str):
        """Make `key` (base model or adapter) the one the ranker's model computes with."""
        if self.peft_model is None:
            yield
        elif key == self.base_name:
            with self.peft_model.disable_adapter():
                yield
        else:
            self.peft_model.set_adapter(key)
            yield

    def classify(self, key: str, texts: list[str]) -> list[list[float]]:
        return self.classifier.predict_proba(texts)

    def normalize(self, score: float) -> float:
        """0..1 relevance as Cohere and TEI (raw_scores=false) report it: sigmoid of a cross-encoder logit."""
        if self.ranker_kind == "cross-encoder":
            return 1.0 / (1.0 + math.exp(-score)) if score >= -700 else 0.0
        return score

    @property
    def max_length(self) -> int:
        return self.ranker.config.max_length

    def info(self) -> dict:
        return {
            "model": self.base_name,
            "served_model_names": self.ranker_names,
            "base_served": self.base_served,
            "model_spec": self.ranker.config.model,
            "ranker": self.ranker_kind,
            "max_length": self.max_length,
            "adapters": {name: str(path) for name, path in self.adapters.items()},
            "classifier": None if self.classifier is None else {
                "name": self.classifier_name, "labels": self.classifier.labels,
            },
            "safetensors_only": True,
            "trust_remote_code": False,
        }


def check_serve_inputs(model: str, ranker_kind: str, adapters: dict[str, Path] | None, classifier: str | None) -> None:
    """The checks that need no model load (so a supervisor can fail before starting workers)."""
    if ranker_kind not in PAIRWISE_KINDS:  # the batcher mixes pairs of concurrent requests
        raise ConfigError(f"--ranker '{ranker_kind}': the server serves {', '.join(PAIRWISE_KINDS)} (rankers that score "
                          "each document on its own); re-rank with it through `loralab rerank` instead")
    if adapters and ranker_kind != "cross-encoder":
        raise ConfigError(f"--adapter: adapters are served on a cross-encoder, not on a {ranker_kind}")
    for adapter_name, folder in (adapters or {}).items():
        check_adapter_folder(adapter_name, folder)
    check_safetensors_model(resolve_model(model))
    if classifier:
        check_safetensors_model(resolve_model(classifier))


def _unique_names(names: list[str]) -> list[str]:
    cleaned = [n.strip() for n in names]
    if any(not n for n in cleaned):
        raise ConfigError("--served-model-name: a name cannot be empty")
    return list(dict.fromkeys(cleaned))


def _default_name(spec: str) -> str:
    path = Path(spec)
    return path.name if path.exists() else spec
