"""Checkpoint hygiene for resume: the Trainer writes trainer_state.json last, so a checkpoint without it
was cut off mid-write (e.g. SIGKILL) and must not be resumed from."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def last_complete_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint; incomplete ones are removed so the Trainer never picks them."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = sorted(
        (int(m.group(1)), p) for p in folder.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name))
    )
    complete = None
    for _, path in found:
        if (path / "trainer_state.json").is_file():
            complete = path
        else:
            shutil.rmtree(path, ignore_errors=True)
    return complete
