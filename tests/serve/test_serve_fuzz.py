"""Every API body fuzzed against a real loopback server: whatever arrives, the answer is never a 500 and never a
traceback; a refusal is a JSON {error, error_type} that names the field (422) or the limit (413)."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serve_support import make_classifier

from loralab.data.schemas import Document
from loralab.serve.app import create_app
from loralab.serve.batcher import BatchSettings
from loralab.serve.limits import ServeLimits
from loralab.serve.runner import BackgroundServer
from loralab.serve.served_models import ServeModels

ROUTES = {
    "/v1/rerank": {"model": None, "query": "flea life cycle", "documents": ["fleas bite", {"text": "eggs hatch"}],
                   "top_n": 1, "return_documents": True},
    "/v2/rerank": {"query": "flea life cycle", "documents": ["fleas bite", "eggs hatch"], "max_tokens_per_doc": 64},
    "/rerank": {"query": "flea life cycle", "texts": ["fleas bite", "eggs hatch"], "raw_scores": True,
                "truncate": False},
    "/v1/classify": {"inputs": ["a fine day", "a bad day"]},
    "/search": {"query": "flea", "top_n": 2, "retrieve_k": 3, "mode": "bm25", "rerank": True},
}
LIMITS = ServeLimits(max_documents=8, max_request_bytes=20_000, max_text_chars=500, request_timeout_s=10)

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
                      st.text(max_size=40))
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
    st.text(max_size=12), inner, max_size=5), max_leaves=20)


@pytest.fixture(scope="module")
def server(tiny_cross_encoder, tiny_bert, tmp_path_factory):
    from loralab.retrieval.bm25 import BM25Config
    from loralab.retrieval.chunking import ChunkConfig
    from loralab.retrieval.index import IndexConfig, RetrievalIndex

    folder = tmp_path_factory.mktemp("fuzz") / "ix"
    index = RetrievalIndex.create(folder, IndexConfig(ChunkConfig(64, 8), BM25Config(), None, tokenizer=str(tiny_bert)))
    index.add([Document(id=f"d{i}", text=f"fleas {'bite' if i % 2 else 'lay eggs'} number {i}") for i in range(6)])
    index.close()
    classifier = make_classifier(tiny_bert, tmp_path_factory.mktemp("fuzz-cls"))
    models = ServeModels.load(str(tiny_cross_encoder), "cross-encoder", classifier=str(classifier), max_length=32)
    with BackgroundServer(create_app(models, LIMITS, BatchSettings(max_wait_ms=0), index=folder)) as srv:
        with httpx.Client(base_url=srv.url, timeout=30) as client:
            yield client


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    body = response.json()  # always JSON, never an HTML or text traceback
    if response.status_code >= 400:
        assert set(body) == {"error", "error_type"} and body["error"], body
        assert "Traceback" not in body["error"]


def _mutations():
    """A valid body with one field replaced (by any JSON value), removed, or an extra one added."""
    route = st.sampled_from(sorted(ROUTES))

    def mutate(route_name, action, value, extra_key, which):
        body = dict(ROUTES[route_name])
        key = sorted(body)[which % len(body)]
        if action == "replace":
            body[key] = value
        elif action == "remove":
            body.pop(key)
        else:
            body[extra_key] = value
        return route_name, body

    return st.builds(mutate, route, st.sampled_from(["replace", "remove", "add"]), json_value, st.text(max_size=8),
                     st.integers(0, 10))


def test_valid_bodies_answer_200(server):
    for route, body in ROUTES.items():
        r = server.post(route, json=body)
        assert r.status_code == 200, (route, r.text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_mutations())
def test_mutated_bodies_never_500(server, case):
    route, body = case
    _check(server.post(route, content=json.dumps(body, allow_nan=True), headers={"content-type": "application/json"}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(sorted(ROUTES)), raw=st.one_of(st.binary(max_size=300), json_value.map(json.dumps)))
def test_arbitrary_bytes_never_500(server, route, raw):
    raw = raw.encode() if isinstance(raw, str) else raw
    _check(server.post(route, content=raw, headers={"content-type": "application/json"}))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(["/v1/rerank", "/rerank", "/v1/classify"]), n=st.integers(9, 40),
       chars=st.integers(501, 3000))
def test_limits_are_413_naming_the_limit(server, route, n, chars):
    field = {"/v1/rerank": "documents", "/rerank": "texts", "/v1/classify": "inputs"}[route]
    too_many = {**ROUTES[route], field: ["doc"] * n}
    r = server.post(route, json=too_many)
    assert r.status_code == 413 and "--max-documents" in r.json()["error"]
    too_long = {**ROUTES[route], field: ["doc", "x" * chars]}
    r = server.post(route, json=too_long)
    assert r.status_code == 413 and "--max-text-chars" in r.json()["error"] and ".1" in r.json()["error"]


def test_a_wrong_field_is_named(server):
    r = server.post("/v1/rerank", json={"query": "q", "documents": ["a", 3]})
    assert r.status_code == 422 and "documents.1" in r.json()["error"]
    r = server.post("/search", json={"query": "q", "top_n": 5, "retrieve_k": 2})
    assert r.status_code == 422 and "top_n" in r.json()["error"]
