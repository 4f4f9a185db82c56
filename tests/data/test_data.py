from pathlib import Path

import pytest

from loralab.data.beir import load_beir, read_queries
from loralab.data.jsonl import iter_jsonl
from loralab.data.registry import list_datasets, load_rerank_dataset
from loralab.data.schemas import Ranking
from loralab.data.trec import read_qrels, read_run, write_run
from loralab.errors import DataError, UnknownNameError


def test_beir_folder_loads_with_candidates(beir_folder):
    data = load_rerank_dataset(beir_folder)
    assert set(data.queries) == {"q1", "q2"}
    assert data.corpus["d1"].full_text == "Fleas A flea life cycle lasts weeks to months."
    assert data.corpus["d2"].full_text == "Concrete flooring costs vary by finish."
    assert data.qrels["q2"] == {"d2": 1, "d3": 0}
    assert [d for d, _ in data.candidates.ranked("q1")] == ["d3", "d1", "d2"]


def test_malformed_jsonl_line_names_file_and_line(beir_folder):
    corpus = beir_folder / "corpus.jsonl"
    corpus.write_text(corpus.read_text() + '{"_id": "d4", "text": broken}\n')
    with pytest.raises(DataError, match=r"corpus\.jsonl:4: invalid JSON"):
        load_beir(beir_folder)


def test_missing_field_names_the_field(tmp_path):
    path = tmp_path / "queries.jsonl"
    path.write_text('{"_id": "q1", "text": "ok"}\n{"_id": "q2", "body": "wrong"}\n')
    with pytest.raises(DataError, match=r"queries\.jsonl:2: missing field 'text'"):
        read_queries(path)


def test_gzip_jsonl_reads_like_plain(tmp_path):
    import gzip

    path = tmp_path / "x.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write('{"a": 1}\n\n{"a": 2}\n')
    assert [row["a"] for _, row in iter_jsonl(path)] == [1, 2]


def test_unknown_dataset_name_lists_known_ones():
    with pytest.raises(UnknownNameError, match="trec-dl-2019"):
        load_rerank_dataset("no-such-dataset")


def test_registry_has_the_shipped_datasets():
    names = {spec.name for spec in list_datasets()}
    assert {"trec-dl-2019", "scifact", "scifact-train"} <= names
    for spec in list_datasets():
        assert (spec.folder / "SOURCE.md").is_file(), spec.name


def test_trec_run_round_trip_keeps_order(tmp_path):
    ranking = Ranking({"q1": {"a": 0.5, "b": 2.0, "c": -1.0}, "q2": {"x": 1.0}})
    path = tmp_path / "out" / "run.trec"
    write_run(ranking, path, tag="t")
    lines = path.read_text().splitlines()
    assert lines[0] == "q1 Q0 b 1 2.000000 t"
    assert read_run(path).ranked("q1") == [("b", 2.0), ("a", 0.5), ("c", -1.0)]


def test_bad_run_line_is_reported(tmp_path):
    path = tmp_path / "bad.trec"
    path.write_text("q1 Q0 d1 1 1.0 tag\nq1 Q0 d2 2 notanumber tag\n")
    with pytest.raises(DataError, match=r"bad\.trec:2: field 'score'"):
        read_run(path)


def test_trec_and_beir_qrels_formats(tmp_path):
    trec = tmp_path / "q.txt"
    trec.write_text("1 0 d1 3\n1 0 d2 0\n")
    assert read_qrels(trec) == {"1": {"d1": 3, "d2": 0}}
    with pytest.raises(DataError, match="q.txt"):
        (tmp_path / "q.txt").write_text("1 0 d1\n1 d2\n")
        read_qrels(trec)


def test_dl19_is_complete_and_limited_copy_is_consistent():
    data = load_rerank_dataset("trec-dl-2019")
    assert len(data.queries) == 43 and len(data.corpus) == 4297
    assert all(len(docs) == 100 for docs in data.candidates.scores.values())
    small = data.limited(max_queries=3, max_candidates=10)
    assert len(small.queries) == 3 and set(small.qrels) == set(small.queries)
    assert all(len(docs) == 10 for docs in small.candidates.scores.values())
    assert data.relevance_level == 2
