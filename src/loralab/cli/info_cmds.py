"""`loralab datasets` and `loralab models`: what is available offline."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table


def datasets() -> None:
    """List the named datasets (usable wherever a dataset path is accepted)."""
    from loralab.data.registry import list_datasets

    table = Table("name", "kind", "description", title="datasets")
    for spec in list_datasets():
        table.add_row(spec.name, spec.kind, spec.description)
    Console().print(table)


def models() -> None:
    """List packaged model aliases and whether each is installed."""
    from loralab.models.packaged import PACKAGED

    table = Table("alias", "kind", "installed", "description / install", title="packaged models")
    for model in PACKAGED.values():
        installed = model.location() is not None
        table.add_row(
            model.alias, model.kind, "[green]yes[/green]" if installed else "[red]no[/red]",
            model.description if installed else model.install,
        )
    Console().print(table)
    Console().print("Any Hugging Face hub id or local model folder works too (hub ids need network).")


def register(app: typer.Typer) -> None:
    app.command()(datasets)
    app.command()(models)
