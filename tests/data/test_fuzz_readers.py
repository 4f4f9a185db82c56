"""Property tests of the data readers: generated files read back to what was written; damaged files either
read or raise DataError naming the file and the line, never another exception."""

from __future__ import annotations

import math

import pytest
from fuzz_support import (
    JUNK_BYTES,
    TOKEN,
    jsonl_bytes,
    line_corruption,
    nonblank,
    parses_or_names,
    texts,
    write,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loralab.data.beir import read_corpus, read_queries
from loralab.data.jsonl import iter_jsonl, iter_lines
from loralab.data.schemas import Document, Ranking
from loralab.data.trec import read_qrels, read_run, write_run
from loralab.errors import DataError

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TSV_HEADERS = ("_id", "id", "query-id", "qid", "docid")
NO_TSV = "\t\n\r"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-data")


def _ids(strategy, min_size=1, max_size=6):
    return st.lists(strategy, min_size=min_size, max_size=max_size, unique=True)


documents = _ids(nonblank(12)).flatmap(
    lambda ids: st.tuples(*[st.tuples(st.just(i), texts(max_size=40), texts(max_size=12)) for i in ids])
)
queries = _ids(nonblank(12)).flatmap(
    lambda ids: st.tuples(*[st.tuples(st.just(i), nonblank(40), st.just("")) for i in ids])
)
tsv_documents = _ids(nonblank(12, NO_TSV).filter(lambda s: s not in TSV_HEADERS)).flatmap(
    lambda ids: st.tuples(*[st.tuples(st.just(i), texts(max_size=40, exclude=NO_TSV), texts(max_size=12, exclude=NO_TSV))
                            for i in ids])
)
qrels_dicts = st.dictionaries(
    TOKEN.filter(lambda s: s != "query-id"), st.dictionaries(TOKEN, st.integers(-3, 10**6), min_size=1, max_size=4),
    min_size=1, max_size=4,
)
runs = st.dictionaries(
    TOKEN, st.dictionaries(TOKEN, st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=4), min_size=1, max_size=4,
)


def _corpus_jsonl(docs) -> bytes:
    return jsonl_bytes([{"_id": i, "text": t, "title": title} for i, t, title in docs])


def _corpus_tsv(docs) -> bytes:
    return ("_id\ttext\ttitle\n" + "".join(f"{i}\t{t}\t{title}\n" for i, t, title in docs)).encode()


def _queries_jsonl(docs) -> bytes:
    return jsonl_bytes([{"_id": i, "text": t} for i, t, _ in docs])


def _qrels_tsv(qrels, trec: bool) -> bytes:
    if trec:
        return "".join(f"{q} 0 {d} {g}\n" for q, judged in qrels.items() for d, g in judged.items()).encode()
    return ("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q}\t{d}\t{g}\n" for q, judged in qrels.items() for d, g in judged.items())).encode()


def _run_lines(run) -> bytes:
    return "".join(f"{q} Q0 {d} 1 {s!r} tag\n" for q, docs in run.items() for d, s in docs.items()).encode()


# --- valid files read back to what was written -------------------------------------------------------------


@FAST
@given(docs=documents, gz=st.booleans())
def test_corpus_jsonl_round_trips(scratch, docs, gz):
    path = write(scratch / ("corpus.jsonl.gz" if gz else "corpus.jsonl"), _corpus_jsonl(docs))
    assert read_corpus(path) == {i: Document(i, t, title) for i, t, title in docs}


@FAST
@given(docs=tsv_documents)
def test_corpus_tsv_round_trips(scratch, docs):
    path = write(scratch / "corpus.tsv", _corpus_tsv(docs))
    assert read_corpus(path) == {i: Document(i, t, title) for i, t, title in docs}


@FAST
@given(docs=queries, tsv_docs=tsv_documents)
def test_queries_round_trip(scratch, docs, tsv_docs):
    assert read_queries(write(scratch / "queries.jsonl", _queries_jsonl(docs))) == {i: t for i, t, _ in docs}
    tsv = "".join(f"{i}\t{t}\n" for i, t, _ in tsv_docs).encode()
    assert read_queries(write(scratch / "queries.tsv", tsv)) == {i: t for i, t, _ in tsv_docs}


@FAST
@given(qrels=qrels_dicts, trec=st.booleans(), crlf=st.booleans())
def test_qrels_round_trip(scratch, qrels, trec, crlf):
    data = _qrels_tsv(qrels, trec)
    path = write(scratch / "test.tsv", data.replace(b"\n", b"\r\n") if crlf else data)
    assert read_qrels(path) == qrels


@FAST
@given(run=runs)
def test_run_round_trips_through_write_run_and_exact_lines(scratch, run):
    path = scratch / "run.trec"
    write_run(Ranking(run), path)
    back = read_run(path).scores
    assert back.keys() == run.keys()
    for qid, docs in run.items():
        assert back[qid].keys() == docs.keys()
        assert all(math.isclose(back[qid][d], s, abs_tol=1e-6) for d, s in docs.items())
    assert read_run(write(scratch / "exact.trec.gz", _run_lines(run))).scores == run  # repr() scores: exact


@FAST
@given(lines=st.lists(texts(max_size=20, exclude="\n\r"), max_size=5), gz=st.booleans(), bom=st.booleans())
def test_iter_lines_numbers_lines_and_drops_bom_and_crlf(scratch, lines, gz, bom):
    data = (b"\xef\xbb\xbf" if bom else b"") + "".join(f"{line}\r\n" for line in lines).encode()
    path = write(scratch / ("lines.txt.gz" if gz else "lines.txt"), data)
    assert list(iter_lines(path)) == [(n, f"{line}\n") for n, line in enumerate(lines, start=1)]


# --- damaged files: read, or DataError naming file and line ------------------------------------------------

READERS = {
    "corpus.jsonl": (read_corpus, documents.map(_corpus_jsonl)),
    "corpus.jsonl.gz": (read_corpus, documents.map(_corpus_jsonl)),
    "corpus.tsv": (read_corpus, tsv_documents.map(_corpus_tsv)),
    "queries.jsonl": (read_queries, queries.map(_queries_jsonl)),
    "queries.tsv": (read_queries, tsv_documents.map(lambda docs: "".join(f"{i}\t{t}\n" for i, t, _ in docs).encode())),
    "qrels.tsv": (read_qrels, st.tuples(qrels_dicts, st.booleans()).map(lambda a: _qrels_tsv(*a))),
    "run.trec": (read_run, runs.map(_run_lines)),
    "run.trec.gz": (read_run, runs.map(_run_lines)),
    "rows.jsonl": (lambda p: list(iter_jsonl(p)), documents.map(_corpus_jsonl)),
}


@pytest.mark.parametrize("name", list(READERS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_file_reads_or_names_file_and_line(scratch, name, data):
    read, valid = READERS[name]
    damaged, line = data.draw(valid.flatmap(line_corruption))
    parses_or_names(read, write(scratch / name, damaged), damaged, line=line)


@pytest.mark.parametrize("name", ["corpus.jsonl", "run.trec", "qrels.tsv", "corpus.tsv"])
@settings(max_examples=40, deadline=None)
@given(blob=st.binary(max_size=300) | JUNK_BYTES)
def test_random_bytes_read_or_name_file(scratch, name, blob):
    read = READERS[name][0]
    parses_or_names(read, write(scratch / name, blob), blob)


@settings(max_examples=40, deadline=None)
@given(docs=documents, cut=st.integers(min_value=1, max_value=40), flip=st.integers(min_value=0, max_value=255))
def test_damaged_gzip_stream_is_a_data_error(scratch, docs, cut, flip):
    import gzip

    packed = bytearray(gzip.compress(_corpus_jsonl(docs) * 20, mtime=0))
    truncated = bytes(packed[: max(len(packed) - cut, 1)])
    packed[len(packed) // 2] ^= flip or 1
    for blob in (truncated, bytes(packed)):
        path = scratch / "corpus.jsonl.gz"
        path.write_bytes(blob)
        try:
            read_corpus(path)
        except DataError as exc:
            assert "corpus.jsonl.gz:" in str(exc)


# --- the cases fuzzing found, pinned as examples -----------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    (b'{"_id": "d1", "text": "ok"}\n{"_id": "d2", "text": "caf\xe9"}\n', r"corpus\.jsonl:2: not UTF-8 text \(byte 0xe9"),
    (b'{"_id": "d1", "text": 1' + b"9" * 5000 + b"}\n", r"corpus\.jsonl:1: invalid JSON \(Exceeds the limit"),
    (b"[" * 100_000 + b"\n", r"corpus\.jsonl:1: invalid JSON \(maximum recursion depth"),
    (b'{"_id": "d1", "text": "a"}\n{"_id": "d1", "text": "b"}\n',
     r"corpus\.jsonl:2: document id 'd1' already used on line 1"),
    (b"", r"corpus\.jsonl: the corpus has no documents"),
])
def test_found_cases_corpus(tmp_path, raw, expected):
    with pytest.raises(DataError, match=expected):
        read_corpus(write(tmp_path / "corpus.jsonl", raw))


def test_found_cases_bom_and_crlf_read_like_plain_utf8(tmp_path):
    path = write(tmp_path / "queries.tsv", b"\xef\xbb\xbf_id\ttext\r\nq1\tflea\r\n")
    assert read_queries(path) == {"q1": "flea"}  # was: the BOM kept in the header, so "\ufeff_id" became a query


@pytest.mark.parametrize("line, expected", [
    (b"q1 Q0 d1 1 nan tag\n", r"run\.trec:1: field 'score' must be a finite number"),
    (b"q1 Q0 d1 1 1e999 tag\n", r"run\.trec:1: field 'score' must be a finite number"),
    (b"q1 Q0 d1 1 0.5 tag\nq1 Q0 d1 2 0.4 tag\n", r"run\.trec:2: document 'd1' is listed twice for query 'q1'"),
    (b"q1 Q0 d1 1 0.5 \xff\n", r"run\.trec:1: not UTF-8 text"),
])
def test_found_cases_run(tmp_path, line, expected):
    with pytest.raises(DataError, match=expected):
        read_run(write(tmp_path / "run.trec", line))


def test_found_cases_qrels(tmp_path):
    with pytest.raises(DataError, match=r"qrels\.tsv:3: document 'd1' is judged twice for query 'q1' .*\(1 and 0\)"):
        read_qrels(write(tmp_path / "qrels.tsv", b"q1 0 d1 1\nq1 0 d2 0\nq1 0 d1 0\n"))
    assert read_qrels(write(tmp_path / "qrels.tsv", b"q1 0 d1 1\nq1 0 d1 1\n")) == {"q1": {"d1": 1}}  # same grade
    with pytest.raises(DataError, match=r"qrels\.tsv:1: not UTF-8"):
        read_qrels(write(tmp_path / "qrels.tsv", b"q\xe91 0 d1 1\n"))
    with pytest.raises(DataError, match=r"corpus\.tsv:2: the id column \(first\) is empty"):
        read_corpus(write(tmp_path / "corpus.tsv", b"d1\tok\n\tno id\n"))
