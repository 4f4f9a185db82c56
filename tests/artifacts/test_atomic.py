"""Atomic writes under SIGKILL: the target is its old complete content (or absent), never half a file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from loralab.artifacts.atomic import atomic_write_json, atomic_write_text

# The child writes a large file through atomic.py, but the temp file's write stops halfway (flushed to disk)
# and reports the temp path: the parent's SIGKILL then lands mid-write every time, not by timing luck.
CHILD = textwrap.dedent("""
    import json, pathlib, sys, time
    from loralab.artifacts import atomic

    def half_then_wait(self, data, encoding=None, errors=None, newline=None):
        with open(self, "w", encoding=encoding, errors=errors, newline=newline) as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            print(self, len(data), flush=True)
            time.sleep(120)
            handle.write(data[len(data) // 2:])

    pathlib.Path.write_text = half_then_wait
    target, kind = pathlib.Path(sys.argv[1]), sys.argv[2]
    rows = [{"id": i, "text": "row %d " % i * 8} for i in range(20_000)]  # about 1.5 MB
    if kind == "json":
        atomic.atomic_write_json(target, {"rows": rows})
    else:
        atomic.atomic_write_text(target, "".join(json.dumps(r) + "\\n" for r in rows))
""")


def _kill_mid_write(target, kind: str):
    """Run the child until its temp file is half written, SIGKILL it; the temp path, its size and the full size."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(target), kind], stdout=subprocess.PIPE, text=True)
    try:
        report = child.stdout.readline().split()
        assert report, "the child finished without pausing: atomic.py no longer writes through Path.write_text"
        tmp, full = report[0], int(report[1])
        written = os.path.getsize(tmp)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
    return tmp, written, full


@pytest.mark.parametrize("kind", ["text", "json"])
def test_sigkill_mid_write_leaves_old_content(tmp_path, kind):
    target = tmp_path / "out.json"
    old = {"rows": [{"id": 0, "text": "old"}]}
    atomic_write_json(target, old)
    before = target.read_bytes()

    tmp, written, full = _kill_mid_write(target, kind)

    assert 0 < written < full, "the kill did not land mid-write"
    assert target.read_bytes() == before and json.loads(before) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.json", os.path.basename(tmp)])
    atomic_write_text(target, "new\n")  # a leftover temp of a killed writer does not block the next write
    assert target.read_text() == "new\n"


def test_sigkill_mid_first_write_leaves_no_target(tmp_path):
    target = tmp_path / "first.jsonl"
    tmp, written, full = _kill_mid_write(target, "text")
    assert 0 < written < full
    assert not target.exists()
    assert os.path.dirname(tmp) == str(tmp_path) and os.path.basename(tmp).startswith(".first.jsonl.")
