"""`loralab price-eval`, `loralab generate` and `loralab tokens`: LLM numeric prediction, instruction answers and
tokenizer analysis."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

console = Console()


def price_eval(
    model: str = typer.Option("smollm2-135m-instruct", help="alias, model folder, trained run or adapter folder"),
    adapter: str = typer.Option(None, help="PEFT adapter folder to put on --model"),
    data: str = typer.Option("amazon-uk-prices", help="registered price dataset, folder of <split>.jsonl, or a file"),
    split: str = typer.Option("test"),
    limit: int = typer.Option(300, help="fixed seeded subset of N items (0 = all)"),
    seed: int = typer.Option(42),
    decoding: str = typer.Option("greedy", help="greedy | topk (top-K probability-weighted) | median (baseline)"),
    top_k: int = typer.Option(5),
    quantize: str = typer.Option("none", help="base model only: none | int8 | nf4"),
    runs_root: Path = typer.Option(Path("runs"), help="the run folder is written under here"),
    name: str = typer.Option(None, help="run name (default from model and decoding)"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """MAE, RMSLE and hit rate of LLM price prediction; writes predictions and a scatter plot."""
    from loralab.tasks.regress_eval import PriceEvalConfig, evaluate_prices, save_price_eval

    cfg = PriceEvalConfig(model=model, data=data, split=split, limit=limit or None, seed=seed, decoding=decoding,
                          top_k=top_k, quantize=quantize, adapter=adapter)
    result = evaluate_prices(cfg)
    folder = save_price_eval(result, runs_root, name or f"price-{Path(model).name}-{quantize}-{decoding}")
    out = {**result.metrics, "run_dir": str(folder.path), "notes": result.notes}
    if result.latency:
        out["p50_ms"] = result.latency.p50_ms
    print(json.dumps(out) if json_out else out)


def generate(
    instruction: str = typer.Argument(..., help="what to do"),
    input_text: str = typer.Option("", "--input", help="optional input the instruction refers to"),
    model: str = typer.Option("smollm2-135m-instruct", help="base model, or a trained sft run folder"),
    adapter: str = typer.Option(None, help="PEFT adapter folder (or sft run folder) loaded on the base"),
    prompt_format: str = typer.Option(None, "--format", help="alpaca | chat (default: the adapter's, else chat "
                                      "when the tokenizer has a template)"),
    max_new_tokens: int = typer.Option(64),
) -> None:
    """Answer an instruction with a base model plus an optional LoRA/QLoRA adapter (greedy)."""
    from loralab.tasks.lm_loading import load_lm
    from loralab.tasks.sft import Instruction, InstructionFormat
    from loralab.tasks.sft import generate as run_generate

    loaded = load_lm(model, adapter=adapter)
    default = "chat" if loaded.tokenizer.chat_template else "alpaca"
    fmt = InstructionFormat(prompt_format) if prompt_format else InstructionFormat.load(loaded.adapter_dir, default)
    prompt = fmt.prompt(loaded.tokenizer, Instruction(instruction, input_text, ""))
    print(run_generate(loaded.model, loaded.tokenizer, prompt, max_new_tokens))


def sft_eval(
    model: str = typer.Option("smollm2-135m-instruct", help="base model, or a trained sft run folder"),
    adapter: str = typer.Option(None, help="PEFT adapter folder loaded on the base"),
    data: str = typer.Option("amazon-uk-instructions", help="built-in instructions or a JSONL/folder"),
    split: str = typer.Option("test"),
    limit: int = typer.Option(100, help="fixed seeded subset of N examples (0 = all)"),
) -> None:
    """Exact-match rate of instruction answers (greedy) against the references."""
    from loralab.tasks.sft import exact_match

    print(json.dumps(exact_match(model, data, split, limit or None, adapter)))


def tokens(
    models: list[str] = typer.Option(None, "--model", help="tokenizers to compare (default: the packaged models)"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """How each tokenizer splits numbers, prices and text; a verdict for LLM price prediction."""
    import dataclasses

    from loralab.tasks.tokens import compare_tokenizers, render_table

    reports = compare_tokenizers(list(models) if models else None)
    print(json.dumps([dataclasses.asdict(r) for r in reports]) if json_out else render_table(reports))


def register(app: typer.Typer) -> None:
    app.command("price-eval")(price_eval)
    app.command()(generate)
    app.command("sft-eval")(sft_eval)
    app.command()(tokens)
