"""Run every method of a comparison, each in a fresh process so its peak RSS and timings are its own."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console

from loralab.compare.config import CompareConfig, MethodSpec
from loralab.tasks.rows import RowRequest

console = Console(stderr=True)


def run_compare(config: CompareConfig, out_dir: Path, isolate: bool = True) -> list[dict[str, Any]]:
    """One result row per method; run folders go to `out_dir/runs/<method>`."""
    from loralab.compare.task_tables import task_bench

    out_dir = Path(out_dir)
    runner = task_bench(config.task).rows
    rows = []
    for method in config.methods:
        console.print(f"[bold]» {method.name}[/bold] ({method.ranker or method.options.get('model')})")
        request = row_request(config, method, out_dir / "runs").to_dict()
        if isolate:
            with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
                rows.extend(pool.submit(runner, request).result())
        else:
            rows.extend(runner(request))
    return rows


def row_request(config: CompareConfig, method: MethodSpec, runs_root: Path) -> RowRequest:
    return RowRequest(
        name=method.name, dataset=config.dataset, runs_root=str(runs_root), ranker=method.ranker,
        options=dict(method.options), also_interpolated=list(method.also_interpolated),
        limit_queries=method.limit_queries, limit_candidates=method.limit_candidates,
        config_limit_queries=config.limit_queries, config_limit_candidates=config.limit_candidates,
        price_per_hour=config.price_per_hour,
    )
