"""Rankers other than the cross-encoder behind the server: a pointwise prompt (a study's prompt winner) scores
over HTTP exactly as the library does, concurrent requests batched; kinds that rank documents together are refused
with the reason."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from lm_support import tiny_llama_folder

from loralab.data.schemas import Document
from loralab.errors import ConfigError
from loralab.rankers.registry import build_ranker, ranker_config
from loralab.serve.app import create_app
from loralab.serve.batcher import BatchSettings
from loralab.serve.runner import BackgroundServer
from loralab.serve.served_models import ServeModels, check_serve_inputs

QUERY = "flea life cycle"
TEXTS = ["fleas lay eggs that hatch into larvae", "concrete floors cost money", "cats sleep a lot"]
OPTIONS = {"max_doc_words": 20, "batch_size": 4}


@pytest.fixture(scope="module")
def tiny_llm(tmp_path_factory):
    return tiny_llama_folder(tmp_path_factory.mktemp("llm") / "tiny-llama")


def test_prompt_pointwise_served_scores_match_the_library(tiny_llm):
    library = build_ranker(ranker_config("prompt-pointwise", model=str(tiny_llm), **OPTIONS))
    queries = [QUERY, "price of concrete", "do cats sleep"]
    expected = {q: library.score(q, [Document(str(i), t) for i, t in enumerate(TEXTS)]) for q in queries}
    models = ServeModels.load(str(tiny_llm), "prompt-pointwise", ranker_options=OPTIONS)
    assert models.ranker.config.max_doc_words == 20 and models.max_length == 4096  # its own options, not the server's
    with BackgroundServer(create_app(models, batching=BatchSettings(max_wait_ms=50))) as server:
        def call(query):
            r = httpx.post(server.url + "/v1/rerank", json={"query": query, "documents": TEXTS}, timeout=60)
            assert r.status_code == 200, r.text
            return query, {x["index"]: x["relevance_score"] for x in r.json()["results"]}

        with ThreadPoolExecutor(3) as pool:
            for query, got in pool.map(call, queries):
                assert got == pytest.approx(dict(enumerate(expected[query])), abs=1e-5), query
                assert all(0 <= s <= 1 for s in got.values())  # P(yes): already a relevance probability


def test_kinds_that_rank_documents_together_are_refused_with_the_reason(tiny_llm, tiny_cross_encoder, tmp_path):
    with pytest.raises(ConfigError, match="prompt-listwise.*score each document on its own.*loralab rerank"):
        check_serve_inputs(str(tiny_llm), "prompt-listwise", None, None)
    with pytest.raises(ConfigError, match="adapters are served on a cross-encoder"):
        check_serve_inputs(str(tiny_llm), "prompt-pointwise", {"a": tmp_path}, None)
