"""`EvalResult`: what every evaluation returns, whatever the task.

Aggregate metrics (with the primary one and its direction), the per-example scores behind them (per query for
ranking: significance tests and confidence intervals need them), and what the run cost: latency profile,
throughput, peak RSS, size. `outputs` (a ranking, the predictions) stays in memory; `to_dict` is what is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loralab.eval.metrics import Metrics
from loralab.eval.profile import LatencyProfile


@dataclass
class EvalResult:
    task: str  # rerank | classify | preference | regress | sft | retrieve
    metrics: Metrics | None  # None: nothing to score against (e.g. a re-ranking without qrels)
    config: dict[str, Any] = field(default_factory=dict)  # what was evaluated (model, ranker, data, options)
    per_example: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> {example id: value}
    latency: LatencyProfile | None = None
    throughput: float | None = None  # examples (re-ranking: pairs) per second
    throughput_unit: str = "items/s"
    peak_rss_bytes: int | None = None
    size_bytes: int | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # task-specific facts (usage, split, decoding, ...)
    outputs: Any = None  # the ranking or predictions themselves; not part of to_dict
    data_files: list[Path] = field(default_factory=list)  # hashed into the run manifest

    @property
    def primary(self) -> str | None:
        return self.metrics.primary if self.metrics else None

    @property
    def primary_value(self) -> float | None:
        return self.metrics.primary_value if self.metrics else None

    @property
    def num_examples(self) -> int:
        return self.metrics.num_queries if self.metrics else 0

    def summary(self) -> dict[str, Any]:
        """One flat JSON object: the metric values, which is primary and its direction, the cost; per-example
        scores left out (see to_dict)."""
        return {
            "task": self.task,
            **(dict(self.metrics.values) if self.metrics else {}),
            "primary": self.primary,
            "greater_is_better": self.metrics.greater_is_better if self.metrics else None,
            "num_examples": self.num_examples,
            "config": self.config,
            "latency": self.latency.to_dict() if self.latency else None,
            "throughput": self.throughput,
            "throughput_unit": self.throughput_unit,
            "peak_rss_bytes": self.peak_rss_bytes,
            "size_bytes": self.size_bytes,
            "notes": list(self.notes) + (list(self.metrics.notes) if self.metrics else []),
            **self.extra,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "per_example": self.per_example}
