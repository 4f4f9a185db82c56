"""JSONL reading with errors that name file, line and field."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loralab.errors import DataError


def open_text(path: Path) -> io.TextIOBase:
    """Open plain or gzip-compressed text, so `.jsonl` and `.jsonl.gz` read the same way."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; a bad line raises DataError naming it."""
    with open_text(path) as handle:
        try:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
                if not isinstance(row, dict):
                    raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
                yield lineno, row
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: cannot read ({exc})") from None


def require_str(row: dict[str, Any], key: str, path: Path, lineno: int, *, allow_empty: bool = False) -> str:
    """The string field `key`, or a DataError that names file, line and field."""
    if key not in row:
        raise DataError(f"{path}:{lineno}: missing field '{key}' (fields present: {', '.join(sorted(row)) or 'none'})")
    value = row[key]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # numeric ids are common in BEIR exports
    if not isinstance(value, str):
        raise DataError(f"{path}:{lineno}: field '{key}' must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise DataError(f"{path}:{lineno}: field '{key}' is empty")
    return value
