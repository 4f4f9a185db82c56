"""`/search` on a real loopback server returns what the `loralab search` pipeline returns."""

from __future__ import annotations

import httpx
import pytest
from serve_support import library_ranker

from loralab.data.registry import load_rerank_dataset
from loralab.serve.app import create_app
from loralab.serve.served_models import ServeModels
from loralab.serve.runner import BackgroundServer

QUERY = "flea life cycle of cats on concrete floors"  # matches all three documents in BM25


@pytest.fixture
def index_folder(tmp_path, tiny_bert, beir_folder):
    from loralab.retrieval.bm25 import BM25Config
    from loralab.retrieval.chunking import ChunkConfig
    from loralab.retrieval.index import IndexConfig, RetrievalIndex

    folder = tmp_path / "ix"
    index = RetrievalIndex.create(folder, IndexConfig(ChunkConfig(64, 8), BM25Config(), None, tokenizer=str(tiny_bert)))
    index.add(load_rerank_dataset(beir_folder).corpus.values())
    index.close()
    return folder


def _pipeline(folder, ranker, k, n):
    from loralab.retrieval.index import RetrievalIndex
    from loralab.retrieval.pipeline import retrieve_and_rerank

    index = RetrievalIndex.open(folder)
    try:
        return retrieve_and_rerank(index, {"q": QUERY}, ranker, mode="bm25", k=k, n=n).final.ranked("q")
    finally:
        index.close()


def test_search_equals_library_pipeline(index_folder, tiny_cross_encoder):
    reranked = _pipeline(index_folder, library_ranker(tiny_cross_encoder), k=3, n=2)
    first_stage = _pipeline(index_folder, None, k=2, n=2)
    assert len(reranked) == len(first_stage) == 2
    models = ServeModels.load(str(tiny_cross_encoder), "cross-encoder")
    with BackgroundServer(create_app(models, index=index_folder)) as srv:
        body = {"query": QUERY, "mode": "bm25", "retrieve_k": 3, "top_n": 2}
        r = httpx.post(srv.url + "/search", json=body)
        assert r.status_code == 200, r.text
        hits = r.json()["results"]
        assert [h["doc_id"] for h in hits] == [d for d, _ in reranked]
        assert [h["score"] for h in hits] == pytest.approx([s for _, s in reranked], abs=1e-5)
        assert all(h["text"] for h in hits)
        plain = httpx.post(srv.url + "/search", json={**body, "rerank": False, "return_documents": False}).json()
        assert [h["doc_id"] for h in plain["results"]] == [d for d, _ in first_stage]
        assert [h["score"] for h in plain["results"]] == pytest.approx([s for _, s in first_stage])
        assert "text" not in plain["results"][0]
        bad = httpx.post(srv.url + "/search", json={**body, "top_n": 5})
        assert bad.status_code == 422 and "top_n" in bad.json()["error"]
        assert httpx.get(srv.url + "/info").json()["index"] == str(index_folder)


def test_search_without_index_is_404(tiny_cross_encoder):
    models = ServeModels.load(str(tiny_cross_encoder), "cross-encoder")
    with BackgroundServer(create_app(models)) as srv:
        r = httpx.post(srv.url + "/search", json={"query": QUERY})
    assert r.status_code == 404 and "--index" in r.json()["error"]
