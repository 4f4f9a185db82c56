"""Progress of long loops, for a parent process to read: `report(done, total, unit)` writes
{"done", "total", "unit", "time"} to the file named by $LORALAB_PROGRESS (atomically, at most twice a second),
and does nothing when that variable is unset. `loralab study run` sets it for each step's process and shows the
step's ETA from it; training (per optimizer step) and evaluation loops (per query, batch or example) report.

Hand-written because the loops already draw their own tqdm bars for a terminal; a parent in another process
cannot read those, and a file is what survives a kill of either side."""

from __future__ import annotations

import json
import os
import time

ENV = "LORALAB_PROGRESS"
_last = 0.0


def report(done: int, total: int, unit: str = "item") -> None:
    global _last
    path = os.environ.get(ENV)
    if not path:
        return
    now = time.time()
    if done < total and now - _last < 0.5:
        return
    _last = now
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump({"done": done, "total": total, "unit": unit, "time": now}, handle)
        os.replace(tmp, path)
    except OSError:
        pass  # progress is a display aid: never let it fail the work


def read(path: str | os.PathLike) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None
