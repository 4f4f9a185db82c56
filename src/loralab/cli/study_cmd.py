"""`loralab study run STUDY.yaml --out DIR`: from a task and a budget to a verdict and a shipped winner."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)
study_app = typer.Typer(help="Run a study: candidates by method family, a budget, a verdict, the winner shipped.",
                        no_args_is_help=True)


@study_app.command("run")
def run(
    study: Path = typer.Argument(..., help="the study file (YAML: task, data, budget, candidates)"),
    out: Path = typer.Option(..., help="study folder: steps/, reports, results.json, winner/ (re-run to resume)"),
) -> None:
    """Run the study's steps not done yet, then write its reports and ship the winner."""
    from loralab.compare.report import print_table
    from loralab.study.runner import run_study
    from loralab.study.spec import load_study

    spec = load_study(study)
    results = run_study(spec, out)
    rows = [r for r in results["rows"] if not r.get("failed")]
    if rows:
        print_table(Console(), rows, spec.task, spec.title or f"study: {spec.data.test}")
    verdict = results.get("verdict")
    if verdict:
        console.print(f"[bold]verdict[/bold]: {verdict['reason']}")
    if results.get("winner"):
        console.print(f"winner shipped to {results['winner']['folder']} ({results['winner']['made_by']})")
    console.print(f"reports in {out}: method_comparison.md, quantization_ablation.md, lora_vs_qlora.md, report.html")


def register(app: typer.Typer) -> None:
    app.add_typer(study_app, name="study")
