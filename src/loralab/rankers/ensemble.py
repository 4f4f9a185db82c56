"""An ensemble ranker: several rankers' scores for the same candidates, calibrated per query, then averaged.

Members score on different scales (a cosine in [-1, 1], a SPLADE dot product in the tens, a logit), so each
member's scores over one query's candidates are standardized first (z-score, or min-max) and the weighted mean
of the standardized scores is the ensemble's. Calibration needs the query's whole candidate list, so the
ensemble has no per-pair `score_pairs` (it cannot be served through the batching server).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from loralab.data.schemas import Document
from loralab.errors import ConfigError

CALIBRATIONS = ("zscore", "minmax")


@dataclass
class EnsembleConfig:
    kind: ClassVar[str] = "ensemble"
    members: list[dict[str, Any]] = field(default_factory=list)  # ranker specs: {ranker: kind, **options}
    weights: list[float] | None = None  # None: equal weights
    calibration: str = "zscore"  # zscore | minmax, over each query's candidates

    def __post_init__(self):
        if len(self.members) < 2 or not all(isinstance(m, dict) and "ranker" in m for m in self.members):
            raise ConfigError("an ensemble needs at least two members, each a ranker spec {ranker: kind, ...}")
        if self.weights is not None and (len(self.weights) != len(self.members) or min(self.weights) < 0
                                         or sum(self.weights) <= 0):
            raise ConfigError(f"ensemble weights must be {len(self.members)} non-negative numbers, not all 0")
        if self.calibration not in CALIBRATIONS:
            raise ConfigError(f"ensemble calibration must be one of {', '.join(CALIBRATIONS)}, got '{self.calibration}'")
        if any(m["ranker"] == "ensemble" for m in self.members):
            raise ConfigError("an ensemble member cannot itself be an ensemble: list its members instead")

    def member_configs(self) -> list:
        from loralab.rankers.registry import ranker_config

        return [ranker_config(m["ranker"], **{k: v for k, v in m.items() if k != "ranker"}) for m in self.members]


def calibrate(scores: Sequence[float], method: str) -> np.ndarray:
    values = np.asarray(scores, dtype=np.float64)
    if values.size == 0:
        return values
    if method == "zscore":
        spread = values.std()
        return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def combine(member_scores: Sequence[Sequence[float]], weights: Sequence[float] | None, method: str) -> list[float]:
    """One query's ensemble scores from each member's scores of the same candidates."""
    stacked = np.stack([calibrate(s, method) for s in member_scores])
    return np.average(stacked, axis=0, weights=weights).tolist()


class EnsembleRanker:
    def __init__(self, config: EnsembleConfig):
        from loralab.rankers.registry import build_ranker

        self.config = config
        self.members = [build_ranker(c) for c in config.member_configs()]
        self.name = "ensemble(" + " + ".join(m.name for m in self.members) + ")"
        self.warm_up = any(getattr(m, "warm_up", False) for m in self.members)
        self.model_size_bytes = sum(getattr(m, "model_size_bytes", 0) or 0 for m in self.members)

    def score(self, query: str, docs: Sequence[Document]) -> list[float]:
        if not docs:
            return []
        return combine([m.score(query, docs) for m in self.members], self.config.weights, self.config.calibration)
