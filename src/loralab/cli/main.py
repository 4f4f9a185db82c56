"""`loralab` entry point: parse, call one library function, print. LoralabError -> one red line, exit 2."""

from __future__ import annotations

import sys

import click
import typer
from rich.console import Console
from rich.markup import escape

from loralab.errors import LoralabError

app = typer.Typer(
    name="loralab",
    help="Find and ship the best way to adapt a transformer: prompt, LoRA, quantization or QLoRA.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True)


def _register() -> None:
    from loralab.cli import compare_cmd, eval_cmd, info_cmds, quant_cmds, rank_cmds, study_cmd, train_cmds

    for module in (info_cmds, rank_cmds, eval_cmd, compare_cmd, study_cmd, train_cmds, quant_cmds):
        module.register(app)
    __import__("loralab.cli.retrieval_cmds", fromlist=["register"]).register(app)  # index, search
    __import__("loralab.cli.serve_cmd", fromlist=["register"]).register(app)  # serve
    __import__("loralab.cli.llm_cmds", fromlist=["register"]).register(app)  # generate, tokens
    __import__("loralab.cli.labelfree_cmd", fromlist=["register"]).register(app)  # labelfree


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's usage errors; typer >= 0.29 raises those of its vendored click copy instead of click's own."""
    errors: list[type[Exception]] = [click.ClickException]
    try:
        from typer._click.exceptions import ClickException as VendoredClickException

        errors.append(VendoredClickException)
    except ImportError:
        pass
    return tuple(errors)


def main() -> None:
    _register()
    try:
        code = app(standalone_mode=False)
    except LoralabError as exc:
        # escaped: messages carry brackets that are not markup, e.g. pip install 'loralab[quant]'
        err_console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except (click.exceptions.Abort, typer.Abort):
        err_console.print("[red]aborted[/red]")
        sys.exit(130)
    except _usage_errors() as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
