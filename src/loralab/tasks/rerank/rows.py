"""`loralab compare` rows for re-ranking: one ranker per row, plus one per first-stage blend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loralab.tasks.rows import RowRequest, measured_columns, method_limit_note, training_columns, usage_columns


def rows(request_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """Load the dataset, run one method, save its run folder; its report row plus one per first-stage blend."""
    from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker, save_result, with_first_stage

    request = RowRequest(**request_dict)
    dataset = load_task_dataset(request.dataset, request.queries, request.candidates)
    result = run_ranker(dataset, request.ranker, show_progress=True, **request.options)
    if request.limit_queries or request.limit_candidates:
        result.notes.append(method_limit_note(len(dataset.queries), request.candidates))
    variants = [(request.name, result)] + [
        (f"{request.name} + first stage (alpha {alpha:g})", with_first_stage(result, dataset, alpha))
        for alpha in request.also_interpolated
    ]
    out = []
    for name, variant in variants:
        folder = save_result(variant, dataset, Path(request.runs_root), name)
        out.append(result_row(name, request, variant, len(dataset.queries), folder.path))
    return out


def result_row(name: str, request: RowRequest, result, num_queries: int, run_dir: Path) -> dict[str, Any]:
    lat = result.latency
    notes = list(result.notes)
    if lat and lat.warmup_seconds >= 5:  # e.g. torch.compile: a cost paid once per process, not per query
        notes.append(f"warm-up (first query, untimed) took {lat.warmup_seconds:.0f} s")
    row: dict[str, Any] = {
        "method": name,
        "ranker": request.ranker,
        "model": result.config.get("model"),
        "quantization": result.config.get("quantize"),
        "num_queries": num_queries,
        **(result.metrics.values if result.metrics else {}),
        **measured_columns(lat, "pairs_per_s", lat.pairs_per_second if lat else None, request.price_per_hour,
                           result.peak_rss_bytes, result.size_bytes),
        "run_dir": str(run_dir),
        "notes": notes,
    }
    row.update(training_columns(request.options.get("model")))
    row.update(usage_columns(result.extra.get("usage")))
    return row
