"""Run every method of a comparison, each in a fresh process so its peak RSS and timings are its own."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console

from loralab.bench.config import CompareConfig, MethodSpec
from loralab.eval.profile import cost_per_million_queries

console = Console(stderr=True)
MB = 1024 * 1024


def run_compare(config: CompareConfig, out_dir: Path, isolate: bool = True) -> list[dict[str, Any]]:
    """One result row per method; run folders go to `out_dir/runs/<method>`."""
    from loralab.bench.tasks import task_bench

    out_dir = Path(out_dir)
    runner = task_bench(config.task).runner()
    rows = []
    for method in config.methods:
        console.print(f"[bold]» {method.name}[/bold] ({method.ranker or method.options.get('model')})")
        args = (config.model_dump(), method.model_dump(), str(out_dir / "runs"))
        if isolate:
            with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
                rows.extend(pool.submit(runner, *args).result())
        else:
            rows.extend(runner(*args))
    return rows


def run_method(config_dict: dict[str, Any], method_dict: dict[str, Any], runs_root: str) -> list[dict[str, Any]]:
    """Load the dataset, run one method, save its run folder; its report row plus one per first-stage blend."""
    from loralab.tasks.rerank import load_task_dataset, run_ranker, save_result, with_first_stage

    config = CompareConfig.model_validate(config_dict)
    method = MethodSpec.model_validate(method_dict)
    limits = (_smaller(method.limit_queries, config.limit_queries),
              _smaller(method.limit_candidates, config.limit_candidates))
    dataset = load_task_dataset(config.dataset, *limits)
    result = run_ranker(dataset, method.ranker, show_progress=True, **method.options)
    if method.limit_queries or method.limit_candidates:
        result.notes.append(method_limit_note(len(dataset.queries), limits[1]))
    variants = [(method.name, result)] + [
        (f"{method.name} + first stage (alpha {alpha:g})", with_first_stage(result, dataset, alpha))
        for alpha in method.also_interpolated
    ]
    rows = []
    for name, variant in variants:
        folder = save_result(variant, dataset, Path(runs_root), name)
        rows.append(result_row(name, method, variant, len(dataset.queries), folder.path, config.price_per_hour))
    return rows


def result_row(name: str, method: MethodSpec, result, num_queries: int, run_dir: Path, price_per_hour: float):
    lat = result.latency
    notes = list(result.notes)
    if lat and lat.warmup_seconds >= 5:  # e.g. torch.compile: a cost paid once per process, not per query
        notes.append(f"warm-up (first query, untimed) took {lat.warmup_seconds:.0f} s")
    row: dict[str, Any] = {
        "method": name,
        "ranker": method.ranker,
        "model": result.config.get("model"),
        "quantization": result.config.get("quantize"),
        "num_queries": num_queries,
        **(result.metrics.values if result.metrics else {}),
        **measured_columns(lat, "pairs_per_s", lat.pairs_per_second if lat else None, price_per_hour,
                           result.peak_rss_bytes, result.model_size_bytes),
        "run_dir": str(run_dir),
        "notes": notes,
    }
    row.update(training_columns(method.options.get("model")))
    row.update(usage_columns(result.usage))
    return row


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


def _smaller(a: int | None, b: int | None) -> int | None:
    return min(a, b) if a and b else a or b


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
    if not model or not (Path(model) / "train_config.json").is_file() or not (Path(model) / "metrics.json").is_file():
        return {}
    trained = json.loads((Path(model) / "metrics.json").read_text())
    return {
        "method_kind": trained.get("method"),
        "train_seconds": trained.get("train_seconds"),
        "train_peak_rss_mb": trained.get("peak_rss_bytes", 0) / MB,
        "trainable_params": trained.get("trainable_params"),
        "trainable_percent": trained.get("trainable_percent"),
        "adapter_mb": trained.get("artifact_bytes", 0) / MB if trained.get("artifact") == "adapter" else None,
        "curves": str(Path(model) / "curves.jsonl"),
    }
