"""`loralab labelfree CHAIN.yaml`: training data for a re-ranker from a corpus with no labels."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

console = Console(stderr=True)


def labelfree(
    chain: Path = typer.Argument(..., help="the chain config (YAML: corpus, out, passages, generator, teacher, ...)"),
    until: Optional[str] = typer.Option(None, help="stop after this step: generate, mine, score or groups"),
    out: Optional[str] = typer.Option(None, help="the chain folder (default: the config's out)"),
    passages: Optional[int] = typer.Option(None, help="passages to write a query for (default: the config's; a "
                                           "chain with query_log samples query_log.sample log queries instead)"),
) -> None:
    """Generate queries, mine negatives, score them with a teacher, write training groups (cached, resumable)."""
    from loralab.tasks.rerank.labelfree.chain import run_chain
    from loralab.tasks.rerank.labelfree.config import load_chain_config

    config = load_chain_config(chain, out=out, passages=passages)

    def show(step: str, state: str, summary: dict) -> None:
        shown = {k: v for k, v in summary.items() if k not in ("step", "key", "finished")}
        console.print(f"[bold]{step}[/bold] {state}" + (f": {shown}" if shown else ""))

    run_chain(config, until, on_step=show)
    groups = config.folder / "groups" / "groups.jsonl.gz"
    if groups.is_file():
        console.print(f"training groups: {groups}\n  loralab train --task rerank --data {groups} --loss margin-mse")


def register(app: typer.Typer) -> None:
    app.command("labelfree")(labelfree)
