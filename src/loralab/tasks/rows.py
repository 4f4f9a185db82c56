"""What every task's `loralab compare` rows share: the request a row is made from, and the measured columns.

A task's rows come from `loralab.tasks.<name>.rows.rows(request)`; the request is plain data because the
comparison runs each row in a fresh process (so its peak RSS and timings are its own).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from loralab.errors import ConfigError
from loralab.eval.profile import cost_per_million_queries

MB = 1024 * 1024


@dataclass
class RowRequest:
    name: str  # the row's display name
    dataset: str
    runs_root: str  # where the row's run folder goes
    ranker: str | None = None  # re-ranking rows: which ranker
    options: dict[str, Any] = field(default_factory=dict)
    also_interpolated: list[float] = field(default_factory=list)
    limit_queries: int | None = None  # the method's own limit (None: the comparison's)
    limit_candidates: int | None = None
    config_limit_queries: int | None = None
    config_limit_candidates: int | None = None
    price_per_hour: float = 0.10

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def queries(self) -> int | None:
        return smaller(self.limit_queries, self.config_limit_queries)

    @property
    def candidates(self) -> int | None:
        return smaller(self.limit_candidates, self.config_limit_candidates)

    def check_options(self, task: str, valid: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
        """The method's options, refused with one clear error when unknown or missing."""
        unknown = sorted(set(self.options) - valid)
        missing = [r for r in required if r not in self.options]
        if unknown or missing:
            problem = "; ".join(filter(None, [f"unknown option {', '.join(unknown)}" if unknown else "",
                                             f"needs {', '.join(repr(m) for m in missing)}" if missing else ""]))
            raise ConfigError(f"{task} method '{self.name}': {problem}; valid options: {', '.join(sorted(valid))}")
        return dict(self.options)


def smaller(a: int | None, b: int | None) -> int | None:
    return min(a, b) if a and b else a or b


def measured_columns(latency, throughput_key: str, throughput: float | None, price_per_hour: float,
                     peak_rss_bytes: int | None, size_bytes: int | None) -> dict[str, Any]:
    """The columns every task's row shares: latency, throughput, cost per 1M queries (or items), RSS, size.

    `latency`: a LatencyProfile whose "queries" are what the task's cost is priced per (None: not timed)."""
    return {
        "p50_ms": latency.p50_ms if latency else None,
        "p95_ms": latency.p95_ms if latency else None,
        throughput_key: throughput,
        "cost_per_1m": cost_per_million_queries(latency.queries_per_second, price_per_hour) if latency else None,
        "peak_rss_mb": peak_rss_bytes / MB if peak_rss_bytes else None,
        "size_mb": size_bytes / MB if size_bytes else None,
    }


def method_limit_note(num_queries: int, limit_candidates: int | None) -> str:
    return (
        f"run on {num_queries} queries" + (f", top {limit_candidates} candidates each" if limit_candidates else "")
        + " (a per-method --limit: not directly comparable with rows run on more)"
    )


def usage_columns(usage: dict[str, Any] | None) -> dict[str, Any]:
    """Prompt rankers: tokens and failures per query; with token prices the cost is the token bill."""
    if not usage:
        return {}
    columns = {
        "tokens_in_per_query": usage["tokens_in_per_query"],
        "tokens_out_per_query": usage["tokens_out_per_query"],
        "failures": usage["failures"],
    }
    if usage.get("token_cost_per_1m") is not None:
        columns["cost_per_1m"] = usage["token_cost_per_1m"]
    return columns


def training_columns(model: str | None) -> dict[str, Any]:
    """For a model that is a trained run folder: what training cost (from its metrics.json)."""
    from loralab.artifacts.run_folder import RunFolder

    run = RunFolder.open(model) if model else None
    trained = run.metrics if run is not None else {}
    if not trained:
        return {}
    return {
        "method_kind": trained.get("method"),
        "train_seconds": trained.get("train_seconds"),
        "train_peak_rss_mb": trained.get("peak_rss_bytes", 0) / MB,
        "trainable_params": trained.get("trainable_params"),
        "trainable_percent": trained.get("trainable_percent"),
        "adapter_mb": trained.get("artifact_bytes", 0) / MB if trained.get("artifact") == "adapter" else None,
        "base_mb": _total(trained.get("base_param_bytes")) / MB if trained.get("base_param_bytes") else None,
        "curves": str(run.path / "curves.jsonl"),
    }


def _total(param_bytes) -> int:
    """`parameter_bytes` totals are recorded as a breakdown dict; older runs stored the number alone."""
    return param_bytes.get("total", 0) if isinstance(param_bytes, dict) else int(param_bytes)
