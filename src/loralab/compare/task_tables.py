"""Which tasks `loralab compare` can run, and how each one's table looks.

A task's rows come from `loralab.tasks.<name>.rows.rows(request_dict)` (a RowRequest as a dict: it crosses into
a fresh process) -> list of row dicts with the task's quality keys plus the shared ones (method, model,
quantization, num_queries, p50_ms, p95_ms, peak_rss_mb, size_mb, cost_per_1m, run_dir, notes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from loralab.errors import UnknownNameError
from loralab.tasks.classify import rows as classify_rows
from loralab.tasks.preference import rows as preference_rows
from loralab.tasks.regress import rows as regress_rows
from loralab.tasks.rerank import rows as rerank_rows

Column = tuple[str, str, str]  # (row key, header, format)


@dataclass(frozen=True)
class TaskBench:
    name: str
    rows: Callable  # (RowRequest dict) -> list of row dicts
    quality_columns: tuple[Column, ...]
    primary: str  # the quality key charts plot
    speed_columns: tuple[Column, ...]
    unit: str  # what one latency sample is: "query" (re-ranking its candidates), "example", ...
    latency_note: str
    needs_ranker: bool = False
    greater_is_better: bool = True  # of the primary metric


_PLURALS = {"query": "queries"}  # irregular plurals of the units; the rest take an "s"


def plural(unit: str, count: float | None = None) -> str:
    """`unit` for `count` of them ("1 query", "3 queries"); plural when count is None ("cost per 1M queries")."""
    if count == 1:
        return unit
    return _PLURALS.get(unit, f"{unit}s")


def _speed(throughput_key: str, throughput_label: str, unit: str) -> tuple[Column, ...]:
    return (
        ("p50_ms", f"p50 ms/{unit}", "{:.1f}"),
        ("p95_ms", f"p95 ms/{unit}", "{:.1f}"),
        (throughput_key, throughput_label, "{:.1f}"),
        ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
        ("size_mb", "size MB", "{:.1f}"),
        ("cost_per_1m", f"$ / 1M {plural(unit)}", "{:.2f}"),
    )


_TASKS: dict[str, TaskBench] = {}


def register_task_bench(bench: TaskBench) -> None:
    if bench.name in _TASKS:
        raise ValueError(f"compare task '{bench.name}' is already registered")
    _TASKS[bench.name] = bench


def task_bench(name: str) -> TaskBench:
    if name not in _TASKS:
        raise UnknownNameError(f"unknown compare task '{name}'; choose one of: {', '.join(_TASKS)}")
    return _TASKS[name]


def task_names() -> list[str]:
    return list(_TASKS)


register_task_bench(TaskBench(
    name="rerank",
    rows=rerank_rows.rows,
    quality_columns=(("ndcg@10", "NDCG@10", "{:.4f}"), ("mrr@10", "MRR@10", "{:.4f}"), ("recall@100", "R@100", "{:.4f}")),
    primary="ndcg@10",
    speed_columns=_speed("pairs_per_s", "pairs/s", "query"),
    unit="query",
    latency_note="one query re-ranking all of its candidates, batched",
    needs_ranker=True,
))
register_task_bench(TaskBench(
    name="preference",
    rows=preference_rows.rows,
    quality_columns=(("accuracy", "accuracy", "{:.4f}"), ("log_loss", "log loss", "{:.4f}"),
                     ("decisive_accuracy", "decisive acc.", "{:.4f}"), ("swap_flip_rate", "swap flips", "{:.3f}")),
    primary="accuracy",
    speed_columns=_speed("items_per_s", "pairs/s", "pair"),
    unit="pair",
    latency_note="one (prompt, response A, response B) pair scored in both orders, batched",
))
register_task_bench(TaskBench(
    name="regress",
    rows=regress_rows.rows,
    quality_columns=(("mae", "MAE", "{:.2f}"), ("median_abs_error", "median abs err", "{:.2f}"),
                     ("rmsle", "RMSLE", "{:.3f}"), ("hit_rate", "within 20%/£5", "{:.3f}"), ("unparsed", "unparsed", "{}")),
    primary="mae",
    greater_is_better=False,
    speed_columns=_speed("items_per_s", "items/s", "item"),
    unit="item",
    latency_note="one item's prompt and decoding, one at a time",
))
register_task_bench(TaskBench(
    name="classify",
    rows=classify_rows.rows,
    quality_columns=(("accuracy", "accuracy", "{:.4f}"), ("macro_f1", "macro-F1", "{:.4f}")),
    primary="accuracy",
    speed_columns=_speed("items_per_s", "examples/s", "example"),
    unit="example",
    latency_note="one text classified on its own (batch of one); examples/s is the batched rate",
))
