"""Starting the CLI is quiet and light: no optional library is imported, and none logs its load-failure noise."""

from __future__ import annotations

import subprocess
import sys

import pytest

NOISE = ("Failed to load", "register_constant", "kernels-community")
OPTIONAL = ("torchao", "bitsandbytes", "optimum.quanto", "chromadb", "fastapi")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], check=False, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("argv", [["--help"], ["datasets"]], ids=["help", "datasets"])
def test_cli_starts_without_library_noise(argv):
    done = _run("-m", "loralab.cli.main", *argv)
    assert done.returncode == 0, done.stderr
    for text in (done.stdout, done.stderr):
        for needle in NOISE:
            assert needle not in text, f"{needle!r} printed by `loralab {' '.join(argv)}`:\n{text}"


def test_building_the_commands_imports_no_optional_library():
    code = (
        "import sys\n"
        "import loralab.cli.main as m\n"
        "m._register()\n"
        "import typer.main\n"
        "typer.main.get_command(m.app)\n"
        f"print([name for name in {OPTIONAL!r} if name in sys.modules])\n"
    )
    done = _run("-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_torchao_and_bitsandbytes_imports_are_muted_but_real_warnings_are_not():
    pytest.importorskip("torchao")
    pytest.importorskip("bitsandbytes")
    code = (
        "import logging\n"
        "import loralab\n"
        "import torchao, bitsandbytes\n"
        "logging.getLogger('torchao').warning('a real torchao warning')\n"
    )
    done = _run("-c", code)
    assert done.returncode == 0, done.stderr
    for needle in NOISE:
        assert needle not in done.stderr, done.stderr
    assert "a real torchao warning" in done.stderr
