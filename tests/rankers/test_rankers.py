import pytest
import torch

from loralab.data.registry import load_rerank_dataset
from loralab.data.schemas import Document
from loralab.errors import ConfigError, UnknownNameError, UntrainedHeadError
from loralab.rankers.registry import build_ranker, ranker_config
from loralab.rankers.rerank import rerank_dataset
from ranker_support import count_encoded

DOCS = [
    Document("a", "short"),
    Document("b", "a much longer document " * 20),
    Document("c", "medium length text about fleas and their life cycle"),
    Document("d", "flea life cycle", title="Fleas"),
]


def test_bi_encoder_scores_are_cosines_in_input_order(tiny_bert):
    ranker = build_ranker(ranker_config("bi-encoder", model=str(tiny_bert), batch_size=2))
    scores = ranker.score("flea life cycle", DOCS + [Document("e", "flea life cycle")])
    assert len(scores) == 5
    assert all(-1.0001 <= s <= 1.0001 for s in scores)
    assert scores[4] == pytest.approx(1.0, abs=1e-5)  # identical text -> cosine 1
    singles = [ranker.score("flea life cycle", [d])[0] for d in DOCS]
    assert scores[:4] == pytest.approx(singles, abs=1e-5)  # batching/padding/sorting change nothing


@pytest.mark.parametrize("limit", [100, 2, 0])
def test_bi_encoder_encodes_each_document_once_across_queries(tiny_bert, limit):
    cached = build_ranker(ranker_config("bi-encoder", model=str(tiny_bert), document_cache=limit))
    fresh = build_ranker(ranker_config("bi-encoder", model=str(tiny_bert), document_cache=0))
    seen = count_encoded(cached)
    first = cached.score("flea life cycle", DOCS)
    second = cached.score("short texts", DOCS[1:] + [Document("e", "new text")])
    assert first == pytest.approx(fresh.score("flea life cycle", DOCS), abs=1e-6)
    assert second == pytest.approx(fresh.score("short texts", DOCS[1:] + [Document("e", "new text")]), abs=1e-6)
    documents = [t for t in seen if t not in ("flea life cycle", "short texts")]
    assert len(cached.documents.vectors) <= limit
    if limit >= len(DOCS) + 1:
        assert sorted(documents) == sorted({d.full_text for d in DOCS} | {"new text"})  # each once
    else:  # a full cache stops growing; documents it does not hold are encoded again, with the same vectors
        assert len(documents) > len(DOCS)


def test_bi_encoder_respects_max_length(tiny_bert):
    ranker = build_ranker(ranker_config("bi-encoder", model=str(tiny_bert), max_length=8))
    long_a = Document("x", "one two three four five six seven eight nine ten")
    long_b = Document("y", "one two three four five six seven eight other words entirely")
    a, b = ranker.score("q", [long_a, long_b])
    assert a == pytest.approx(b, abs=1e-6)  # differences past token 8 are truncated away


def test_cross_encoder_batched_equals_single(tiny_cross_encoder):
    ranker = build_ranker(ranker_config("cross-encoder", model=str(tiny_cross_encoder), batch_size=3))
    assert not ranker.head_is_new
    scores = ranker.score("flea life cycle", DOCS)
    singles = [ranker.score("flea life cycle", [d])[0] for d in DOCS]
    assert scores == pytest.approx(singles, abs=1e-4)
    assert len(set(round(s, 5) for s in scores)) > 1


def test_cross_encoder_from_plain_encoder_is_refused_unless_allowed(tiny_bert):
    with pytest.raises(UntrainedHeadError, match="no trained classification head.*loralab train --task rerank"):
        build_ranker(ranker_config("cross-encoder", model=str(tiny_bert)))
    with pytest.warns(UserWarning, match="relevance head untrained"):
        ranker = build_ranker(ranker_config("cross-encoder", model=str(tiny_bert), allow_untrained_head=True))
    assert ranker.head_is_new


def test_rerank_dataset_covers_every_candidate(tiny_bert, beir_folder):
    data = load_rerank_dataset(beir_folder)
    ranker = build_ranker(ranker_config("bi-encoder", model=str(tiny_bert)))
    seen = count_encoded(ranker)
    ranking, latency = rerank_dataset(ranker, data, show_progress=False)
    assert set(ranking.scores["q1"]) == {"d1", "d2", "d3"}
    assert latency.num_queries == 2 and latency.num_pairs == 5  # the untimed warm-up query is not counted
    first = [data.corpus[d].full_text for d in ranking.scores[data.candidates.query_ids[0]]]
    assert all(seen.count(text) == 2 for text in first)  # the timed pass encodes the warm-up query's documents again
    assert latency.p95_ms >= latency.p50_ms > 0 and latency.warmup_seconds > 0


def test_unknown_ranker_and_option():
    with pytest.raises(UnknownNameError, match="bi-encoder"):
        ranker_config("tf-idf")
    with pytest.raises(ConfigError, match="max_length"):
        ranker_config("bi-encoder", max_len=3)


def test_length_sorted_batches_pad_dynamically(tiny_bert):
    from transformers import AutoTokenizer

    from loralab.models.batching import length_sorted_batches

    tok = AutoTokenizer.from_pretrained(str(tiny_bert))
    texts = ["a", "b c d e f g h", "i j"]
    batches = list(length_sorted_batches(tok, texts, batch_size=2))
    assert batches[0][0] == [1, 2]  # longest first
    assert batches[0][1]["input_ids"].shape[1] > batches[1][1]["input_ids"].shape[1]
    assert isinstance(batches[0][1]["input_ids"], torch.Tensor)


def test_interpolation_blends_reranker_with_first_stage(tiny_cross_encoder, beir_folder):
    from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker

    data = load_task_dataset(str(beir_folder))
    pure = run_ranker(data, "cross-encoder", show_progress=False, model=str(tiny_cross_encoder))
    first_stage_only = run_ranker(data, "cross-encoder", False, interpolate=0.0, model=str(tiny_cross_encoder))
    reranker_only = run_ranker(data, "cross-encoder", False, interpolate=1.0, model=str(tiny_cross_encoder))
    half = run_ranker(data, "cross-encoder", False, interpolate=0.5, model=str(tiny_cross_encoder))
    for qid in data.queries:
        assert [d for d, _ in first_stage_only.outputs.ranked(qid)] == [d for d, _ in data.candidates.ranked(qid)]
        assert [d for d, _ in reranker_only.outputs.ranked(qid)] == [d for d, _ in pure.outputs.ranked(qid)]
        assert all(0.0 <= s <= 1.0 for _, s in half.outputs.ranked(qid))
    assert half.config["interpolate"] == 0.5 and any("interpolated" in n for n in half.notes)
    with pytest.raises(ConfigError, match="between 0 and 1"):
        run_ranker(data, "cross-encoder", False, interpolate=1.5, model=str(tiny_cross_encoder))
    with pytest.raises(ConfigError, match="first stage"):
        run_ranker(data, "bm25", interpolate=0.5)
