"""`loralab eval --task T`: the one scoring verb for every task (old per-task verbs stay as hidden aliases)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from loralab.cli.options import parse_options

console = Console(stderr=True)
TASKS = "rerank | classify | preference | regress | sft | retrieve"


def eval_(
    task: str = typer.Option("rerank", help=TASKS),
    data: str = typer.Option(..., "--data", "--dataset", help="dataset name (see `loralab datasets`) or folder/file"),
    model: str = typer.Option(None, help="alias, folder, GGUF, hub id, trained run or quantized folder"),
    run: Path = typer.Option(None, help="rerank: score this TREC run file (qid Q0 docid rank score tag)"),
    ranker: str = typer.Option(
        None, help="rerank: bi-encoder | cross-encoder | splade | prompt-* (default cross-encoder)"),
    option: list[str] = typer.Option(None, "--option", "-o", help="ranker option KEY=VALUE (repeatable)"),
    quantize: str = typer.Option(None, help="post-training quantization after loading, e.g. int8-dynamic, bf16"),
    split: str = typer.Option(None, help="classify/preference/regress/sft: the split scored (default test)"),
    limit: int = typer.Option(None, help="only the first N queries/examples (regress, sft: a seeded subset)"),
    limit_candidates: int = typer.Option(None, help="rerank: only each query's top N candidates"),
    max_length: int = typer.Option(None, help="max tokens per input"),
    batch_size: int = typer.Option(None, help="inputs per forward pass"),
    interpolate: float = typer.Option(None, help="rerank/retrieve: ALPHA x re-ranker + (1-ALPHA) x first stage"),
    adapter: str = typer.Option(None, help="regress/sft: a PEFT adapter folder to put on --model"),
    decoding: str = typer.Option(None, help="regress: greedy | topk | median (the training-median baseline)"),
    top_k: int = typer.Option(None, help="regress: K of top-K weighted decoding"),
    seed: int = typer.Option(None, help="regress/sft: seed of the fixed subset"),
    index_dir: Path = typer.Option(None, help="retrieve: an index holding the dataset's corpus"),
    mode: str = typer.Option(None, help="retrieve: bm25 | dense | splade | hybrid"),
    fusion: str = typer.Option(None, help="retrieve, hybrid: rrf | weighted"),
    alpha: float = typer.Option(None, help="retrieve, weighted fusion: weight of the dense scores"),
    k: int = typer.Option(None, "-k", help="retrieve: documents retrieved per query"),
    rerank: str = typer.Option(None, help="retrieve: also re-rank the top k with kind:model or a run folder"),
    rerank_k: int = typer.Option(None, help="retrieve: re-rank only the first-stage top N"),
    chroma_url: str = typer.Option(None, help="retrieve: Chroma server URL instead of the one in index.json"),
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", "--runs-root", help="where the run folder goes"),
    name: str = typer.Option(None, help="run folder name (default from task, data and model)"),
    json_out: bool = typer.Option(False, "--json", help="print the result as one JSON object on the last line"),
) -> None:
    """Score a model (or a TREC run, or an index) on a task: its metrics, per-example scores and cost."""
    arguments = dict(locals())
    from loralab.tasks.evaluate import evaluate, save_evaluation

    given = {key: value for key, value in arguments.items()
             if key not in ("task", "runs_dir", "name", "json_out", "option")}
    if option:
        given["options"] = parse_options(option)
    for key in ("run", "index_dir"):
        given[key] = str(given[key]) if given[key] is not None else None
    result = evaluate(task, **given)
    label = Path(str(run or model or index_dir or task)).name
    folder = save_evaluation(result, runs_dir, name or f"eval-{task}-{Path(data).name}-{label}")
    if json_out:
        print(json.dumps({**result.summary(), "run_dir": str(folder.path)}, default=str))
        return
    console.print(_table(result, f"{task}: {label} on {data} ({result.num_examples} examples)"))
    for note in result.summary()["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}")
    console.print(f"run folder {folder.path}")


def _table(result, title: str) -> Table:
    table = Table("metric", "value", title=title)
    for key, value in (result.metrics.values.items() if result.metrics else []):
        marker = " (primary)" if key == result.primary else ""
        table.add_row(key + marker, f"{value:.4f}" if isinstance(value, float) else str(value))
    if result.latency:
        table.add_row("p50 ms", f"{result.latency.p50_ms:.1f}")
        table.add_row("p95 ms", f"{result.latency.p95_ms:.1f}")
    if result.throughput:
        table.add_row(result.throughput_unit, f"{result.throughput:.1f}")
    return table


def _alias(task: str):
    """A hidden old verb (classify-eval, ...): `eval` with its --task fixed."""

    def command(**kwargs) -> None:
        eval_(**{**kwargs, "task": task})

    signature = inspect.signature(eval_)
    params = [p for p in signature.parameters.values() if p.name != "task"]
    command.__signature__ = signature.replace(parameters=params)
    command.__annotations__ = {k: v for k, v in eval_.__annotations__.items() if k != "task"}
    command.__doc__ = f"Alias of `loralab eval --task {task}`."
    return command


OLD_VERBS = {"classify-eval": "classify", "preference-eval": "preference", "price-eval": "regress",
             "sft-eval": "sft", "retrieve-eval": "retrieve"}


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_)
    for verb, task in OLD_VERBS.items():
        app.command(verb, hidden=True)(_alias(task))
