"""`loralab rerank` and `loralab eval`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from loralab.cli.options import parse_options
from rich.console import Console
from rich.table import Table

console = Console()


def _metrics_table(title: str, values: dict[str, float]) -> Table:
    table = Table("metric", "value", title=title)
    for name, value in values.items():
        table.add_row(name, f"{value:.4f}")
    return table


def rerank(
    dataset: str = typer.Option(..., "--data", "--dataset", help="dataset name (see `loralab datasets`) or BEIR folder"),
    ranker: str = typer.Option(
        "bi-encoder",
        help="bm25 | bi-encoder | cross-encoder | splade | prompt-pointwise | prompt-listwise | prompt-rating | "
        "ensemble (-o 'members=[{ranker: bi-encoder, model: mpnet}, {ranker: splade}]')",
    ),
    model: str = typer.Option(
        None, help="packaged alias, local folder, GGUF file or hub id (default: minilm; splade-tiny for splade; "
        "smollm2-135m-instruct for prompt-*); with -o backend=openai the server's model name"
    ),
    out: Path = typer.Option(..., help="TREC run file to write"),
    max_length: int = typer.Option(None, help="max tokens per input (default 256; prompt-*: longest prompt, 4096)"),
    batch_size: int = typer.Option(None, help="pairs per forward pass (default 32; prompt-*: 8)"),
    option: list[str] = typer.Option(
        None, "--option", "-o", help="ranker option KEY=VALUE, repeatable (e.g. -o window=20 -o backend=openai "
        "-o base_url=http://127.0.0.1:8000/v1 -o template=my_prompt.yaml)"
    ),
    limit: int = typer.Option(None, help="only the first N queries (quick runs)"),
    limit_candidates: int = typer.Option(None, help="only each query's top N first-stage candidates (quick runs)"),
    interpolate: float = typer.Option(
        None, help="blend with the first stage: ALPHA x re-ranker + (1-ALPHA) x first stage, min-max per query"
    ),
    runs_dir: Path = typer.Option(Path("runs"), help="where the run folder (manifest, metrics) goes"),
    crossfit: str = typer.Option(
        None, help="MODEL0,MODEL1[,...]: cross-fitting, fold k of the judged queries (sorted by id, contiguous "
        "parts) re-ranked by model k, each trained without fold k's candidates (loralab labelfree holdout)"),
    json_out: bool = typer.Option(False, "--json", help="print metrics as one JSON line last"),
) -> None:
    """Re-rank a dataset's candidates and write a TREC run file (plus a run folder)."""
    from loralab.data.trec import write_run
    from loralab.errors import ConfigError
    from loralab.tasks.rerank.evaluate import FIRST_STAGE, load_task_dataset, run_crossfit, run_ranker, save_result

    data = load_task_dataset(dataset, max_queries=limit, max_candidates=limit_candidates)
    options = {} if ranker == FIRST_STAGE else {"model": model, "max_length": max_length, "batch_size": batch_size}
    options = {k: v for k, v in {**options, **parse_options(option or [])}.items() if v is not None}
    if crossfit:
        if "model" in options:
            raise ConfigError("--crossfit names one model per fold; drop --model")
        result = run_crossfit(data, ranker, [m.strip() for m in crossfit.split(",")], interpolate=interpolate, **options)
    else:
        result = run_ranker(data, ranker, interpolate=interpolate, **options)
    if limit or limit_candidates:
        result.notes.append(
            f"limited run: {len(data.queries)} queries" + (f", top {limit_candidates} candidates" if limit_candidates else "")
        )
    write_run(result.outputs, out, tag=ranker)
    folder = save_result(result, data, runs_dir, f"rerank-{data.name}-{ranker}")
    console.print(f"wrote {out} ({len(result.outputs)} queries); run folder {folder.path}")
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    if result.metrics:
        console.print(_metrics_table(f"{ranker} on {data.name}", result.metrics.values))
    if result.latency:
        lat = result.latency
        console.print(f"latency p50 {lat.p50_ms:.1f} ms, p95 {lat.p95_ms:.1f} ms; {lat.pairs_per_second:.1f} pairs/s")
    if result.extra.get("usage"):
        use = result.extra["usage"]
        console.print(
            f"tokens/query in {use['tokens_in_per_query']:.0f}, out {use['tokens_out_per_query']:.1f}; "
            f"{use['calls']} model calls, {use['failures']} failed (fallback scores)"
        )
    if json_out and result.metrics:
        print(json.dumps(result.metrics.values))


def register(app: typer.Typer) -> None:
    app.command()(rerank)
