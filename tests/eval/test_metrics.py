import pytest

from loralab.data.registry import load_rerank_dataset
from loralab.data.schemas import Ranking
from loralab.eval.metrics import evaluate_ranking
from loralab.errors import DataError


def test_bm25_on_dl19_matches_anserini():
    data = load_rerank_dataset("trec-dl-2019")
    metrics = evaluate_ranking(data.candidates, data.qrels, data.relevance_level)
    assert metrics.values["ndcg@10"] == pytest.approx(0.5058, abs=5e-5)
    assert metrics.primary == "ndcg@10" and metrics.greater_is_better
    assert metrics.num_queries == 43


def test_binary_metrics_respect_relevance_level():
    qrels = {"q": {"a": 1, "b": 2}}
    ranking = Ranking({"q": {"a": 2.0, "b": 1.0, "c": 0.5}})
    lenient = evaluate_ranking(ranking, qrels, relevance_level=1)
    strict = evaluate_ranking(ranking, qrels, relevance_level=2)
    assert lenient.values["mrr@10"] == pytest.approx(1.0)
    assert strict.values["mrr@10"] == pytest.approx(0.5)  # grade-1 doc no longer counts
    assert lenient.values["ndcg@10"] == strict.values["ndcg@10"]  # graded gains either way


def test_perfect_and_reversed_rankings():
    qrels = {"q": {"a": 3, "b": 1, "c": 0}}
    best = evaluate_ranking(Ranking({"q": {"a": 3.0, "b": 2.0, "c": 1.0}}), qrels)
    worst = evaluate_ranking(Ranking({"q": {"a": 1.0, "b": 2.0, "c": 3.0}}), qrels)
    assert best.values["ndcg@10"] == pytest.approx(1.0)
    assert worst.values["ndcg@10"] < best.values["ndcg@10"]


def test_run_and_qrels_that_do_not_match_is_an_error():
    with pytest.raises(DataError, match="no query in the run"):
        evaluate_ranking(Ranking({"x": {"a": 1.0}}), {"q": {"a": 1}})
