"""`loralab compare`: run a comparison config and write the report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console


def compare(
    config: Path = typer.Option(..., help="YAML: task (default rerank), dataset, methods [{name, ranker, model, ...}], price_per_hour"),
    out: Path = typer.Option(..., help="report folder (report.md, report.html, PNG charts, runs/)"),
    limit: int = typer.Option(None, help="override: only the first N queries (quick runs)"),
    limit_candidates: int = typer.Option(None, help="override: only each query's top N candidates (quick runs)"),
) -> None:
    """Run every method of a comparison on one dataset and write the report."""
    from loralab.compare.config import load_compare_config
    from loralab.compare.engine import run_compare
    from loralab.compare.report import print_table, write_report

    cfg = load_compare_config(config)
    if limit:
        cfg.limit_queries = limit
    if limit_candidates:
        cfg.limit_candidates = limit_candidates
    rows = run_compare(cfg, out)
    paths = write_report(cfg, rows, out)
    console = Console()
    # Fitted to the terminal: headers wrap and low-value columns drop out before any metric would be cut.
    print_table(console, rows, cfg.task, title=f"{cfg.task}: {cfg.dataset}")
    console.print(f"report: {paths['markdown']} and {paths['html']}")


def register(app: typer.Typer) -> None:
    app.command()(compare)
