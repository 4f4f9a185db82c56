"""Every `loralab ...` command in the README parses with the CLI's own parser; the cheap ones run."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer

README = Path(__file__).resolve().parents[1] / "README.md"
CHEAP = {"datasets", "models"}  # run for real: no model, no data beyond the vendored files


def readme_commands() -> list[list[str]]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("loralab ")]


def test_readme_has_commands_and_stays_short():
    assert len(readme_commands()) >= 20
    assert len(README.read_text().splitlines()) <= 200


@pytest.fixture(scope="module")
def cli_group():
    from loralab.cli.main import _register, app

    _register()
    return typer.main.get_command(app)


@pytest.mark.parametrize("args", readme_commands(), ids=lambda a: " ".join(a)[:60])
def test_readme_command_parses(args, cli_group):
    name, rest = args[0], args[1:]
    assert name in cli_group.commands, f"loralab {name}: no such command"
    command = cli_group.commands[name]
    assert not getattr(command, "hidden", False), f"{name} is a hidden alias; the README shows the current verb"
    try:
        command.make_context(name, list(rest))
    except Exception as exc:  # noqa: BLE001 - typer may vendor its own click: match UsageError by class name
        if any(cls.__name__ == "UsageError" for cls in type(exc).__mro__):
            pytest.fail(f"loralab {' '.join(args)}: {exc}")
        raise


@pytest.mark.parametrize("args", [a for a in readme_commands() if a[0] in CHEAP], ids=lambda a: a[0])
def test_cheap_readme_commands_run(args, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "loralab.cli.main", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
