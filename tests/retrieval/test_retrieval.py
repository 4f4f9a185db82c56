"""Chunking, BM25 persistence, fusion, and the index's add/delete/search on small corpora."""

import pytest

from loralab.data.schemas import Document, Ranking
from loralab.errors import ConfigError
from loralab.retrieval.bm25 import BM25Config, BM25Index, bm25_tokens
from loralab.retrieval.chunking import ChunkConfig, chunk_document
from loralab.retrieval.hybrid import FusionConfig, min_max, pool_to_documents, rrf_fusion, weighted_fusion
from loralab.retrieval.index import IndexConfig, RetrievalIndex
from loralab.retrieval.dense import DenseConfig

DOCS = [
    Document("d1", "A flea life cycle lasts weeks to months.", "Fleas"),
    Document("d2", "Concrete flooring costs vary by finish and region."),
    Document("d3", "Cats sleep a lot during the day.", "Cats"),
    Document("d4", "Vitamin D is made in the skin under sunlight.", "Vitamin D"),
]


@pytest.fixture(scope="module")
def tokenizer(tiny_bert):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_bert))


def test_chunks_are_overlapping_windows_with_metadata(tokenizer):
    body = " ".join(f"Word{i}" for i in range(200))
    doc = Document("long#1", body, title="A Title")
    chunks = chunk_document(doc, tokenizer, ChunkConfig(max_tokens=40, overlap=10), now=123.0)
    assert len(chunks) > 3
    title_tokens = len(tokenizer("A Title", add_special_tokens=False)["input_ids"])
    bodies = []
    for i, chunk in enumerate(chunks):
        assert chunk.text.startswith("A Title\n")  # title repeated, casing kept
        assert chunk.token_count <= 40
        assert (chunk.doc_id, chunk.index, chunk.title, chunk.created_at) == ("long#1", i, "A Title", 123.0)
        bodies.append(tokenizer(chunk.text[len("A Title\n"):], add_special_tokens=False)["input_ids"])
        assert len(bodies[-1]) + title_tokens == chunk.token_count
    joined = list(bodies[0])
    for prev, nxt in zip(bodies, bodies[1:]):
        assert not tokenizer.convert_ids_to_tokens(nxt[0]).startswith("##")  # windows start on a word
        shared = [k for k in range(10, 16) if prev[-k:] == nxt[:k]]  # at least `overlap`, rounded to words
        assert shared, "neighbouring chunks must overlap by about `overlap` tokens"
        joined += nxt[shared[0]:]
    assert joined == tokenizer(body, add_special_tokens=False)["input_ids"]  # nothing lost between windows
    assert chunks[-1].id.startswith("long#1#")  # doc ids may contain '#'


def test_chunk_ids_follow_content_and_short_docs_are_one_chunk(tokenizer):
    (a,) = chunk_document(Document("x", "same text"), tokenizer)
    (b,) = chunk_document(Document("x", "same text"), tokenizer)
    (c,) = chunk_document(Document("x", "other text"), tokenizer)
    assert a.id == b.id != c.id
    (empty,) = chunk_document(Document("e", "", title="Only a title"), tokenizer)
    assert empty.text == "Only a title"
    with pytest.raises(ConfigError, match="overlap"):
        ChunkConfig(max_tokens=20, overlap=15)


def test_fusions():
    dense = Ranking({"q": {"a": 0.9, "b": 0.5, "c": 0.1}})
    sparse = Ranking({"q": {"c": 10.0, "b": 8.0, "d": 2.0}})
    rrf = rrf_fusion([dense, sparse], k=60).scores["q"]
    assert rrf["b"] == pytest.approx(2 / 62)  # rank 2 in both
    assert rrf["a"] == pytest.approx(1 / 61) and rrf["d"] == pytest.approx(1 / 63)
    assert rrf["c"] == pytest.approx(1 / 63 + 1 / 61) and rrf["c"] > rrf["b"]  # ranks 3 + 1 edge out 2 + 2
    assert min_max({"x": 3.0, "y": 1.0, "z": 2.0}) == {"x": 1.0, "y": 0.0, "z": 0.5}
    assert weighted_fusion(dense, sparse, alpha=1.0).ranked("q")[0][0] == "a"
    assert weighted_fusion(dense, sparse, alpha=0.0).ranked("q")[0][0] == "c"
    half = weighted_fusion(dense, sparse, alpha=0.5).scores["q"]
    assert half["b"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.75)
    with pytest.raises(ConfigError, match="rrf, weighted"):
        FusionConfig(method="borda")


def test_pooling_keeps_each_documents_best_chunk():
    chunks = Ranking({"q": {"a#0@x": 0.2, "a#1@y": 0.9, "b#0@z": 0.5}})
    pooled = pool_to_documents(chunks, {"a#0@x": "a", "a#1@y": "a", "b#0@z": "b"})
    assert pooled.scores["q"] == {"a": 0.9, "b": 0.5}


def test_bm25_index_round_trips_through_disk(tmp_path):
    config = BM25Config()
    ids = [d.id for d in DOCS]
    index = BM25Index.build(config, ids, bm25_tokens([d.full_text for d in DOCS], config), generation=3)
    index.save(tmp_path)
    first = index.search({"q1": "fleas life", "q2": "the and of", "q3": "unseenword"}, k=10)
    assert first.ranked("q1")[0][0] == "d1"
    assert first.scores["q2"] == {} and first.scores["q3"] == {}  # stop words / unknown words match nothing
    loaded = BM25Index.load(tmp_path, config)
    assert loaded.generation == 3 and loaded.ids == ids
    assert loaded.search({"q1": "fleas life"}, k=10).scores["q1"] == first.scores["q1"]
    BM25Index.build(config, ids[:2], bm25_tokens([d.full_text for d in DOCS[:2]], config), generation=4).save(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("g*")) == ["g4"]  # old generation cleaned up
    assert BM25Index.load(tmp_path, config).ids == ids[:2]


def test_bm25_stemming_is_configurable(tmp_path):
    stem = bm25_tokens(["running runners"], BM25Config())[0]
    plain = bm25_tokens(["running runners"], BM25Config(stemmer=None))[0]
    assert stem == ["run", "runner"] and plain == ["running", "runners"]


def _bm25_index(folder, tiny_bert):
    return RetrievalIndex.create(folder, IndexConfig(ChunkConfig(64, 8), BM25Config(), None, tokenizer=str(tiny_bert)))


def test_bm25_index_add_is_idempotent_and_survives_reopen(tmp_path, tiny_bert):
    index = _bm25_index(tmp_path / "ix", tiny_bert)
    assert index.add(DOCS)["chunks"] == 4
    index.add(DOCS[:2])  # re-adding changes nothing
    assert index.stats() == {"documents": 4, "chunks": 4, "bm25_chunks": 4}
    index.add([Document("d2", "Fleas also bite dogs.", "Fleas again")])  # replace by id
    hits = index.search({"q": "fleas"}, mode="bm25", k=10).scores["q"]
    assert set(hits) == {"d1", "d2"}
    assert index.delete(["d1", "nope"]) == 1
    index.close()
    reopened = RetrievalIndex.open(tmp_path / "ix")
    assert not reopened.recovered
    assert set(reopened.search({"q": "fleas"}, mode="bm25", k=10).scores["q"]) == {"d2"}
    assert reopened.stats()["documents"] == 3
    with pytest.raises(ConfigError, match="no dense part"):
        reopened.search({"q": "x"}, mode="dense")
    with pytest.raises(ConfigError, match="different config"):
        RetrievalIndex.create(tmp_path / "ix", IndexConfig(bm25=BM25Config(stemmer=None), dense=None))


def test_dense_index_finds_exact_text_and_filters(tmp_path, tiny_bert):
    config = IndexConfig(ChunkConfig(64, 8), BM25Config(), DenseConfig(model=str(tiny_bert), max_length=66))
    index = RetrievalIndex.create(tmp_path / "ix", config)
    index.add(DOCS)
    chunk_text = "Cats\nCats sleep a lot during the day."
    ranked = index.search({"q": chunk_text}, mode="dense", k=4).ranked("q")
    assert ranked[0][0] == "d3" and ranked[0][1] == pytest.approx(1.0, abs=1e-5)
    filtered = index.search({"q": chunk_text}, mode="dense", k=4, where={"doc_id": "d2"})
    assert list(filtered.scores["q"]) == ["d2"]
    hybrid = index.search({"q": "cats sleep"}, mode="hybrid", k=2)
    assert hybrid.ranked("q")[0][0] == "d3" and len(hybrid.scores["q"]) == 2
    index.add([Document("d3", "Cats purr.", "Cats")])  # changed text: the old vector must go
    assert index.stats() == {"documents": 4, "chunks": 4, "vectors": 4, "bm25_chunks": 4}
    assert index.vectors.ids() == set(index.store.chunk_ids())
    index.delete(["d3"])
    assert index.vectors.count() == 3 and "d3" not in index.search({"q": "Cats purr."}, mode="dense", k=4).scores["q"]


def test_retrieve_then_rerank(tmp_path, tiny_bert, beir_folder):
    import json

    from loralab.data.registry import load_rerank_dataset
    from loralab.retrieval.pipeline import evaluate_pipeline, reranker_from_spec, retrieve_and_rerank

    data = load_rerank_dataset(beir_folder)
    index = _bm25_index(tmp_path / "ix", tiny_bert)
    index.add(data.corpus.values())
    ranker = reranker_from_spec(f"bi-encoder:{tiny_bert}")
    result = retrieve_and_rerank(index, data.queries, ranker, mode="bm25", k=3, n=1)
    for qid, query in data.queries.items():
        assert len(result.final.scores[qid]) == 1 and set(result.final.scores[qid]) <= set(result.retrieved.scores[qid])
        retrieved_ids = list(result.retrieved.scores[qid])
        best = max(zip(ranker.score(query, [data.corpus[d] for d in retrieved_ids]), retrieved_ids))
        assert result.final.ranked(qid)[0] == (best[1], pytest.approx(best[0], abs=1e-6))  # the ranker decides
    partial = retrieve_and_rerank(index, data.queries, ranker, mode="bm25", k=3, n=3, rerank_k=1)
    for qid in data.queries:  # only the head is re-ordered; the tail keeps first-stage order below it
        assert [d for d, _ in partial.final.ranked(qid)] == [d for d, _ in result.retrieved.ranked(qid)]
    blended = retrieve_and_rerank(index, data.queries, ranker, mode="bm25", k=3, n=3, interpolate=0.0)
    for qid in data.queries:  # alpha 0: the first stage alone decides
        assert [d for d, _ in blended.final.ranked(qid)] == [d for d, _ in result.retrieved.ranked(qid)]
    pure = retrieve_and_rerank(index, data.queries, ranker, mode="bm25", k=3, n=3, interpolate=1.0)
    for qid, query in data.queries.items():  # alpha 1: the re-ranker alone decides
        assert [d for d, _ in pure.final.ranked(qid)][0] == result.final.ranked(qid)[0][0]
    with pytest.raises(ConfigError, match="between 0 and 1"):
        retrieve_and_rerank(index, data.queries, ranker, mode="bm25", k=3, n=3, interpolate=1.5)
    evaluated = evaluate_pipeline(index, data, ranker, mode="bm25", k=3)
    assert evaluated.extra["retrieved"]["ndcg@10"] == pytest.approx(1.0) and evaluated.num_examples == 2
    assert set(evaluated.per_example["ndcg@10"]) == set(data.queries)
    with pytest.raises(ConfigError, match="n=5"):
        retrieve_and_rerank(index, data.queries, ranker, mode="bm25", k=2, n=5)
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"config": {"ranker": "bi-encoder", "model": str(tiny_bert)}}))
    assert reranker_from_spec(str(run)).name == f"bi-encoder:{tiny_bert}"
