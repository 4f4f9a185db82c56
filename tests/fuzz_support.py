"""Hypothesis strategies and the one check every reader fuzz test makes.

The check: a reader given any bytes either returns, or raises the project's own error whose message names the
file and, for a problem on one line, that line (`name.jsonl:7: ...`); whole-file problems (no rows, missing
CSV columns) name the file and say what is missing. Any other exception fails the test.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from hypothesis import strategies as st

from loralab.errors import ConfigError, DataError

# Every code point UTF-8 can encode (lone surrogates cannot be written to a UTF-8 file).
CHARS = st.characters(blacklist_categories=("Cs",))
# Whitespace-free tokens: ids in whitespace-separated TREC files.
TOKEN = st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=10).filter(
    lambda s: s.split() == [s]
)
# Whole-file problems: the message names the file and what the file lacks, not a line.
FILE_LEVEL = ("has no", "no examples", "no preference pairs", "no items", "no training groups", "missing column")


def texts(min_size: int = 0, max_size: int = 30, exclude: str = "") -> st.SearchStrategy[str]:
    chars = CHARS if not exclude else st.characters(blacklist_categories=("Cs",), blacklist_characters=exclude)
    return st.text(chars, min_size=min_size, max_size=max_size)


def nonblank(max_size: int = 30, exclude: str = "") -> st.SearchStrategy[str]:
    return texts(1, max_size, exclude).filter(lambda s: s.strip())


JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | texts(max_size=8)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts(max_size=6), inner, max_size=3),
    max_leaves=6,
)
# Raw JSON texts json.dumps will not write: huge integers and numbers, deep nesting, bare words.
RAW_JSON_JUNK = st.sampled_from([
    "9" * 5000, "1" + "0" * 400, "-1" + "0" * 400, "1e999", "-1e999", "NaN", "Infinity", "-Infinity",
    "[" * 5000, "{" * 5000, '"\\ud800"',
    "truee", "'single'", '"unterminated', "0x10", "01", "1_000", "",
])
JUNK_BYTES = st.binary(max_size=40) | st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\r", b"\t",
                                                       b"\xef\xbb\xbf", b'"', b"\\"])


def jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


@st.composite
def line_corruption(draw, data: bytes) -> tuple[bytes, int | None]:
    """`data` damaged one way; with the line number the damage is on when it is on one line only."""
    lines = data.split(b"\n")
    k = draw(st.integers(0, max(len(lines) - 1, 0)))
    kind = draw(st.sampled_from(["truncate", "insert", "replace_line", "duplicate_line", "bom", "empty", "crlf"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data)))], None
    if kind == "insert":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(JUNK_BYTES) + data[at:], None
    if kind == "replace_line":
        one_line = JUNK_BYTES.filter(lambda b: b"\n" not in b)
        junk = draw(one_line | JSON_VALUES.map(_dumps) | RAW_JSON_JUNK.map(str.encode))
        return b"\n".join([*lines[:k], junk, *lines[k + 1:]]), k + 1
    if kind == "duplicate_line":
        return b"\n".join([*lines[: k + 1], lines[k], *lines[k + 1:]]), k + 2
    if kind == "bom":
        return b"\xef\xbb\xbf" + data, None
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n"), None
    return b"", None


@st.composite
def field_mutation(draw, rows: list[dict]) -> tuple[bytes, int, str]:
    """JSONL of `rows` with one field of one row dropped or set to a junk value (raw JSON text, so numbers
    json.dumps would not write, such as 10**400, 1e999 or NaN, appear too): (bytes, its line, the field)."""
    k = draw(st.integers(0, len(rows) - 1))
    key = draw(st.sampled_from(sorted(rows[k])))
    rest = {name: value for name, value in rows[k].items() if name != key}
    if draw(st.booleans()):
        line = json.dumps(rest, ensure_ascii=False)
    else:
        raw = draw(RAW_JSON_JUNK.filter(bool) | JSON_VALUES.map(lambda v: json.dumps(v, ensure_ascii=False)))
        line = json.dumps({**rest, key: None}, ensure_ascii=False)[:-5] + raw + "}"  # '"key": null}' -> raw
    data = jsonl_bytes(rows[:k]) + line.encode("utf-8") + b"\n" + jsonl_bytes(rows[k + 1:])
    return data, k + 1, key


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
    return path


def parses_or_names(read, path: Path, data: bytes, *, line: int | None = None, field: str | None = None,
                    error=DataError):
    """`read(path)`, or None when it raised `error` naming the file and the line (`line`, the damaged one, when
    given) and `field` (the damaged one, when given) unless the line is not JSON at all."""
    try:
        return read(path)
    except error as exc:
        message = str(exc)
        assert path.name in message, message
        found = re.search(re.escape(path.name) + r":(\d+): ", message)
        if found is None:
            assert any(phrase in message for phrase in FILE_LEVEL), f"no line number in: {message}"
            return None
        number = int(found.group(1))
        assert 1 <= number <= data.count(b"\n") + 1, message
        if line is not None:
            assert number == line, message
        if field is not None and "invalid JSON" not in message:
            assert f"'{field}" in message, message
        return None


# --- YAML configs ------------------------------------------------------------------------------------------

YAML_JUNK = JSON_VALUES | st.dates() | st.datetimes() | st.integers(10**400, 10**401) | st.sampled_from(["", "~", "yes"])
# Where a config problem is reported: a line (YAML syntax), or a field (`methods.2.ranker: Field required`).
CONFIG_WHERE = re.compile(
    r"line \d+|\.yaml:\d+: |\.yaml: .+?: (Field required|Input should|Extra inputs|Value error|List should)"
    r"|expected a mapping|nested too deeply|anchor refers to itself"
)


def _slots(value, trail=()):
    """(container, key, trail of keys) for every value inside nested dicts and lists."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        yield value, key, (*trail, key)
        yield from _slots(inner, (*trail, key))


@st.composite
def config_mutation(draw, config: dict) -> tuple[dict, str]:
    """A deep copy of `config` with one value replaced by junk, one key dropped, or an unknown key added; with the
    name of the field that should appear in the error (the key, or for a list item the list's key)."""
    config = json.loads(json.dumps(config))
    slots = list(_slots(config))
    container, key, trail = draw(st.sampled_from(slots))
    named = next(k for k in reversed(trail) if isinstance(k, str))
    kind = draw(st.sampled_from(["replace", "drop", "add"]))
    if kind == "drop" and isinstance(container, dict):
        del container[key]
    elif kind == "add" and isinstance(container, dict):
        named = draw(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).filter(lambda k: k not in container))
        container[named] = draw(YAML_JUNK)
    else:
        container[key] = draw(YAML_JUNK)
    return config, named


def config_names_where(read, path: Path, *, field: str | None = None):
    """`read(path)`, or None when it raised ConfigError naming the file and a line or field (`field`, if given)."""
    try:
        return read(path)
    except ConfigError as exc:
        message = str(exc)
        assert path.name in message, message
        assert CONFIG_WHERE.search(message), f"neither a line nor a field in: {message}"
        if field is not None:
            assert field in message, message
        return None
