"""`loralab price-eval`, `loralab generate` and `loralab tokens`: LLM numeric prediction, instruction answers and
tokenizer analysis."""

from __future__ import annotations

import json

import typer
from rich.console import Console

console = Console()


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
    from loralab.artifacts.load import load
    from loralab.tasks.sft.data import Instruction, InstructionFormat
    from loralab.tasks.sft.data import generate as run_generate

    loaded = load(adapter or model, head="causal-lm", base=model if adapter else None)
    default = "chat" if loaded.tokenizer.chat_template else "alpaca"
    fmt = InstructionFormat(prompt_format) if prompt_format else InstructionFormat.load(loaded.adapter_dir, default)
    prompt = fmt.prompt(loaded.tokenizer, Instruction(instruction, input_text, ""))
    print(run_generate(loaded.model, loaded.tokenizer, prompt, max_new_tokens))


def tokens(
    models: list[str] = typer.Option(None, "--model", help="tokenizers to compare (default: the packaged models)"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """How each tokenizer splits numbers, prices and text; a verdict for LLM price prediction."""
    import dataclasses

    from loralab.tasks.lm.tokens import compare_tokenizers, render_table

    reports = compare_tokenizers(list(models) if models else None)
    print(json.dumps([dataclasses.asdict(r) for r in reports]) if json_out else render_table(reports))


def register(app: typer.Typer) -> None:
    app.command()(generate)
    app.command()(tokens)
