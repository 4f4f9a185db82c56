"""Property tests of each task's dataset readers (rerank groups, classify, preference JSONL and arena CSV,
regress, sft): generated rows read back to what was written; damaged files read or raise DataError naming the
file, the line and the field, never another exception."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fuzz_support import field_mutation, jsonl_bytes, line_corruption, nonblank, parses_or_names, texts, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loralab.errors import DataError
from loralab.tasks.classify.data import LabeledText, read_labeled_jsonl
from loralab.tasks.preference.data import ARENA_COLUMNS, LABELS, PreferencePair, read_arena_csv, read_preference_jsonl
from loralab.tasks.regress.data import PriceItem, read_price_jsonl
from loralab.tasks.rerank.train import TrainGroup, read_groups_jsonl
from loralab.tasks.sft.data import Instruction, read_instruction_jsonl

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-tasks")


def _rows(row_strategy):
    return st.lists(row_strategy, min_size=1, max_size=5)


doc = nonblank(20) | st.fixed_dictionaries({"text": nonblank(20)}, optional={"title": texts(max_size=8)})
ROWS = {
    "groups.jsonl": _rows(st.fixed_dictionaries(
        {"query": nonblank(), "positive": doc, "negatives": st.lists(doc, min_size=1, max_size=3)},
        optional={"query_id": nonblank(8) | st.integers(0, 10**6)},
    )),
    "labeled.jsonl": _rows(st.fixed_dictionaries({"text": nonblank(), "label": st.integers(0, 10**6)})),
    "pairs.jsonl": _rows(st.fixed_dictionaries(
        {"prompt": nonblank(), "response_a": nonblank(), "response_b": nonblank(), "winner": st.sampled_from(LABELS)},
        optional={"id": nonblank(8)},
    )),
    "prices.jsonl": _rows(st.fixed_dictionaries(
        {"text": nonblank(), "price": st.integers(0, 10**12) | st.floats(0, 1e12)}, optional={"id": nonblank(8)},
    )),
    "instructions.jsonl": _rows(st.fixed_dictionaries(
        {"instruction": nonblank(), "output": nonblank()}, optional={"input": texts(max_size=20)},
    )),
}
READERS = {
    "groups.jsonl": read_groups_jsonl, "labeled.jsonl": read_labeled_jsonl, "pairs.jsonl": read_preference_jsonl,
    "prices.jsonl": read_price_jsonl, "instructions.jsonl": read_instruction_jsonl,
}


def _doc_text(d) -> str:
    return d if isinstance(d, str) else f"{d.get('title') or ''} {d['text']}".strip()


def expected(name: str, rows: list[dict], file: str) -> list:
    """What each reader should make of valid rows in `file` (one row per line; ids default to `file:line`)."""
    if name == "groups.jsonl":
        return [TrainGroup(str(r.get("query_id", n)), r["query"], _doc_text(r["positive"]),
                           [_doc_text(d) for d in r["negatives"]]) for n, r in enumerate(rows, start=1)]
    if name == "labeled.jsonl":
        return [LabeledText(r["text"], r["label"]) for r in rows]
    if name == "pairs.jsonl":
        return [PreferencePair(r.get("id", f"{file}:{n}"), r["prompt"], r["response_a"], r["response_b"], r["winner"])
                for n, r in enumerate(rows, start=1)]
    if name == "prices.jsonl":
        return [PriceItem(r.get("id", f"{file}:{n}"), r["text"], float(r["price"])) for n, r in enumerate(rows, start=1)]
    return [Instruction(r["instruction"], r.get("input", ""), r["output"]) for r in rows]


@pytest.mark.parametrize("name", list(ROWS))
@FAST
@given(data=st.data(), gz=st.booleans())
def test_valid_rows_round_trip(scratch, name, data, gz):
    rows = data.draw(ROWS[name])
    path = write(scratch / (name + ".gz" if gz else name), jsonl_bytes(rows))
    assert READERS[name](path) == expected(name, rows, path.name)


@pytest.mark.parametrize("name", list(ROWS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_file_reads_or_names_file_and_line(scratch, name, data):
    damaged, line = data.draw(ROWS[name].map(jsonl_bytes).flatmap(line_corruption))
    parses_or_names(READERS[name], write(scratch / name, damaged), damaged, line=line)


@pytest.mark.parametrize("name", list(ROWS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_wrong_or_missing_field_names_file_line_and_field(scratch, name, data):
    damaged, line, key = data.draw(ROWS[name].flatmap(field_mutation))
    parses_or_names(READERS[name], write(scratch / name, damaged), damaged, line=line, field=key)


# --- the arena CSV -----------------------------------------------------------------------------------------

def _arena_rows(exclude: str):
    plain = nonblank(20, exclude).map(str.strip).filter(lambda s: s and not s.startswith("["))
    turns = st.lists(nonblank(10, exclude) | st.none(), min_size=1, max_size=3).filter(
        lambda turns: any(isinstance(t, str) for t in turns)
    )
    return st.lists(st.fixed_dictionaries(
        {c: plain | turns for c in ARENA_COLUMNS[:3]} | {"winner": st.sampled_from(LABELS)},
        optional={"id": nonblank(8, exclude).filter(lambda s: s == s.strip())},
    ), min_size=1, max_size=4)


arena_rows = _arena_rows("\r")  # cells over several lines too ('\r\n' in a cell reads as '\n', as text mode did)
one_line_rows = _arena_rows("\r\n")  # a damaged line then is a damaged record


def _arena_csv(rows: list[dict], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        cells = {**{c: json.dumps(v) if isinstance(v, list) else v for c, v in row.items()},
                 **{f"winner_model_{w}" if w != "tie" else "winner_tie": str(int(row["winner"] == w)) for w in LABELS}}
        writer.writerow([cells.get(c, "") for c in columns])
    return out.getvalue().encode("utf-8")


def _cell_text(value) -> str:
    return "\n\n".join(t for t in value if isinstance(t, str)) if isinstance(value, list) else value


@FAST
@given(rows=arena_rows, order=st.permutations([*ARENA_COLUMNS, "id"]), gz=st.booleans())
def test_arena_csv_round_trips(scratch, rows, order, gz):
    path = write(scratch / ("arena.csv.gz" if gz else "arena.csv"), _arena_csv(rows, order))
    pairs = read_arena_csv(path)
    assert [(p.prompt, p.response_a, p.response_b, p.winner) for p in pairs] == [
        (*(_cell_text(r[c]) for c in ARENA_COLUMNS[:3]), r["winner"]) for r in rows
    ]
    assert [p.id for p in pairs if not p.id.startswith(path.name)] == [r["id"] for r in rows if "id" in r]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_arena_csv_reads_or_names_file_and_line(scratch, data):
    rows = data.draw(one_line_rows)
    damaged, line = data.draw(line_corruption(_arena_csv(rows, [*ARENA_COLUMNS, "id"])))
    parses_or_names(read_arena_csv, write(scratch / "arena.csv", damaged), damaged, line=line)


# --- the cases fuzzing found, pinned as examples -----------------------------------------------------------


def test_found_case_price_too_large_for_a_float(tmp_path):
    path = write(tmp_path / "prices.jsonl", b'{"text": "a kettle", "price": 1' + b"0" * 400 + b"}\n")
    with pytest.raises(DataError, match=r"prices\.jsonl:1: field 'price' must be a non-negative number"):
        read_price_jsonl(path)  # was: OverflowError from math.isfinite


@pytest.mark.parametrize("doc", [{"text": ""}, {"text": "ok", "title": ["T"]}, {"text": " ", "title": None}])
def test_found_case_document_object_without_text(tmp_path, doc):
    row = {"query": "q", "positive": "p", "negatives": [doc]}
    with pytest.raises(DataError, match=r"groups\.jsonl:1: field 'negatives\[0\]' must be a non-empty string"):
        read_groups_jsonl(write(tmp_path / "groups.jsonl", jsonl_bytes([row])))


def test_found_cases_arena_csv(tmp_path):
    header = ",".join(ARENA_COLUMNS) + "\n"
    # a quoted cell over three lines: the bad record is reported on the line it starts on, not as record 3
    text = header + '"multi\nline\nprompt",a,b,1,0,0\n\np,a,b,1,1,0\n'
    with pytest.raises(DataError, match=r"arena\.csv:6: exactly one of"):
        read_arena_csv(write(tmp_path / "arena.csv", text.encode()))
    with pytest.raises(DataError, match=r"arena\.csv:3: not UTF-8 text"):
        read_arena_csv(write(tmp_path / "arena.csv", (header + "p,a,b,1,0,0\np,\xe9,b,1,0,0\n").encode("latin-1")))
    bom = write(tmp_path / "arena.csv", b"\xef\xbb\xbf" + (header + "p,a,b,0,0,1\n").encode())
    assert [p.winner for p in read_arena_csv(bom)] == ["tie"]  # was: "missing column(s) prompt" (BOM in the name)
    with pytest.raises(DataError, match=r"arena\.csv:2: column 'response_a' is empty"):
        read_arena_csv(write(tmp_path / "arena.csv", (header + 'p,"[""\\n"", null]",b,1,0,0\n').encode()))
