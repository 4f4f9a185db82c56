"""JSONL reading with errors that name file, line and field."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loralab.errors import DataError


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) of a plain or gzip text file, each line with its '\\n' ('\\r\\n' becomes '\\n').

    Lines are decoded one by one, so bytes that are not UTF-8, a damaged or truncated gzip stream raise a
    DataError naming the line; a UTF-8 byte-order mark (Excel, Notepad) is dropped.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    lineno = 0
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as handle:
            for lineno, raw in enumerate(handle, start=1):
                try:
                    text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise DataError(
                        f"{path}:{lineno}: not UTF-8 text (byte {raw[exc.start]:#04x} at column {exc.start + 1}); "
                        "save the file as UTF-8"
                    ) from None
                if text:  # empty only for a file holding just a byte-order mark
                    yield lineno, (text[:-2] + "\n" if text.endswith("\r\n") else text)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}:{lineno + 1}: cannot read ({exc}); is the file complete and, if .gz, gzip?") from None


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; a bad line raises DataError naming it."""
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        except (ValueError, RecursionError) as exc:  # an integer over 4300 digits; nesting too deep
            raise DataError(f"{path}:{lineno}: invalid JSON ({str(exc).split(';')[0]})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
        yield lineno, row


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
