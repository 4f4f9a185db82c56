"""Step folders: `<out>/<step>/` holds the step's output, a `.partial.jsonl` while it runs, and `step.json` when done.

A finished step is skipped when its settings hash and sample size match, and refused when the hash does not (its
output would no longer follow from the config). A killed step resumes from its partial file: rows are appended
and flushed batch by batch, and a last line cut by the kill is dropped. A step finished for fewer passages
resumes from its output (and from its partial file when that larger run was killed): only the new passages' work
is done.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from loralab.artifacts.atomic import atomic_write_json
from loralab.data.jsonl import iter_jsonl
from loralab.errors import ConfigError


class StepFolder:
    def __init__(self, out: Path, step: str, key: str, sample: int):
        self.folder, self.step, self.key, self.sample = Path(out) / step, step, key, sample
        self.output = self.folder / f"{step}.jsonl.gz"
        self.partial = self.folder / f"{step}.partial.jsonl"
        self.record = self.folder / "step.json"
        self.partial_key = self.folder / f"{step}.partial.key"

    def done(self) -> bool:
        if not self.record.is_file():
            return False
        record = json.loads(self.record.read_text())
        if record.get("key") != self.key:
            raise ConfigError(f"{self.folder} was made with other settings (key {record.get('key')}, now {self.key}): "
                              "use a new out folder, or delete this step folder and the ones after it")
        return self.output.is_file() and record.get("sample") == self.sample

    def rows(self) -> list[dict[str, Any]]:
        return [row for _, row in iter_jsonl(self.output)]

    def resume(self, ids: list[str], field: str) -> list[dict[str, Any]]:
        """The rows already done whose `field` is one of `ids`: the output of a run finished for another sample
        size (same settings, or `done()` would have refused it) plus what a killed run left in the partial file."""
        finished = self.rows() if self.output.is_file() and self.record.is_file() else []
        wanted, kept = set(ids), {}
        for row in finished + self._partial_rows():  # a kill inside finish() leaves a row in both: keep one
            if row[field] in wanted:
                kept.setdefault(row[field], row)
        return list(kept.values())

    def _partial_rows(self) -> list[dict[str, Any]]:
        """A killed run's rows; the partial file is rewritten without a cut last line."""
        if not self.partial.is_file():
            return []
        made_with = self.partial_key.read_text().strip() if self.partial_key.is_file() else self.key
        if made_with != self.key:
            raise ConfigError(f"{self.partial} is an unfinished run with other settings (key {made_with}, now "
                              f"{self.key}): delete {self.folder} to start the step again, or restore the settings")
        rows, good = [], []
        for line in self.partial.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
                good.append(line)
            except json.JSONDecodeError:
                break
        self.partial.write_text("".join(f"{line}\n" for line in good), encoding="utf-8")
        return rows

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.partial_key.is_file():
            self.partial_key.write_text(self.key + "\n")
        with open(self.partial, "a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
            handle.flush()
            os.fsync(handle.fileno())

    def finish(self, rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
        """Write the compressed output (mtime 0: the same rows give the same bytes), then `step.json`."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.output.with_name(f".{self.output.name}.tmp")
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
            handle.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8"))
        os.replace(tmp, self.output)
        atomic_write_json(self.record, {"step": self.step, "key": self.key, "sample": self.sample, "rows": len(rows),
                                        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"), **summary})
        self.partial.unlink(missing_ok=True)
        self.partial_key.unlink(missing_ok=True)
