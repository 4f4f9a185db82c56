"""A real uvicorn server on loopback: Cohere v1/v2 and TEI rerank, adapters, classify, ops endpoints."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from serve_support import LABELS, library_ranker, make_classifier, make_lora_adapter

from loralab.data.schemas import Document
from loralab.serve.app import create_app
from loralab.serve.batcher import BatchSettings
from loralab.serve.served_models import ServeModels
from loralab.serve.runner import BackgroundServer

QUERY = "flea life cycle"
TEXTS = [
    "short",
    "a much longer document about concrete and floors " * 6,
    "medium length text about fleas and their life cycle",
    "flea life cycle",
    "cats sleep a lot",
]


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@pytest.fixture(scope="module")
def adapters(tiny_cross_encoder, tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    return {
        "alpha": make_lora_adapter(tiny_cross_encoder, root / "alpha", seed=11),
        "beta": make_lora_adapter(tiny_cross_encoder, root / "beta", seed=12),
    }


@pytest.fixture(scope="module")
def classifier(tiny_bert, tmp_path_factory):
    return make_classifier(tiny_bert, tmp_path_factory.mktemp("classifier"))


@pytest.fixture(scope="module")
def server(tiny_cross_encoder, adapters, classifier):
    models = ServeModels.load(
        str(tiny_cross_encoder), "cross-encoder", adapters, classifier=str(classifier), served_names=["base"]
    )
    app = create_app(models, batching=BatchSettings(max_wait_ms=50))
    with BackgroundServer(app) as srv:
        yield srv


@pytest.fixture(scope="module")
def expected(tiny_cross_encoder, adapters):
    """Library scores for QUERY x TEXTS: the base model and each adapter, loaded independently of the server."""
    docs = [Document(str(i), t) for i, t in enumerate(TEXTS)]
    out = {"base": library_ranker(tiny_cross_encoder).score(QUERY, docs)}
    for name, path in adapters.items():
        out[name] = library_ranker(tiny_cross_encoder, adapter=path).score(QUERY, docs)
    return out


def best_first(scores):
    return sorted(range(len(scores)), key=lambda i: -scores[i])


@pytest.mark.parametrize("path", ["/v1/rerank", "/v2/rerank"])
def test_cohere_rerank_matches_library(server, expected, path):
    docs = [TEXTS[0], {"text": TEXTS[1]}, *TEXTS[2:]]  # v1 clients mix strings and {text} objects
    body = {"model": "base", "query": QUERY, "documents": docs, "return_documents": True}
    r = httpx.post(server.url + path, json=body)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["meta"]["api_version"]["version"] == path[2]
    results = body["results"]
    assert [res["index"] for res in results] == best_first(expected["base"])
    for res in results:
        assert res["relevance_score"] == pytest.approx(sigmoid(expected["base"][res["index"]]), abs=1e-6)
        assert res["document"]["text"] == TEXTS[res["index"]]


def test_cohere_top_n_and_no_documents(server, expected):
    r = httpx.post(server.url + "/v1/rerank", json={"query": QUERY, "documents": TEXTS, "top_n": 2})
    results = r.json()["results"]
    assert [res["index"] for res in results] == best_first(expected["base"])[:2]
    assert all("document" not in res for res in results)


def test_tei_rerank_raw_and_normalized(server, expected):
    body = {"query": QUERY, "texts": TEXTS, "raw_scores": True, "return_text": True}
    r = httpx.post(server.url + "/rerank", json=body)
    assert r.status_code == 200, r.text
    ranks = r.json()
    assert [x["index"] for x in ranks] == best_first(expected["base"])
    for x in ranks:
        assert x["score"] == pytest.approx(expected["base"][x["index"]], abs=1e-5)
        assert x["text"] == TEXTS[x["index"]]
    plain = httpx.post(server.url + "/rerank", json={"query": QUERY, "texts": TEXTS}).json()
    assert all(0 < x["score"] < 1 and "text" not in x for x in plain)
    assert {x["index"]: x["score"] for x in plain} == pytest.approx(
        {i: sigmoid(s) for i, s in enumerate(expected["base"])}, abs=1e-6
    )


def test_model_field_switches_adapters(server, expected):
    assert expected["alpha"] != pytest.approx(expected["base"], abs=1e-3)  # the adapters really change scores
    assert expected["alpha"] != pytest.approx(expected["beta"], abs=1e-3)
    for name in ("alpha", "beta", "base", "alpha"):  # back and forth: switching must not leak state
        r = httpx.post(server.url + "/v2/rerank", json={"model": name, "query": QUERY, "documents": TEXTS})
        got = {res["index"]: res["relevance_score"] for res in r.json()["results"]}
        assert got == pytest.approx({i: sigmoid(s) for i, s in enumerate(expected[name])}, abs=1e-6), name


def test_unknown_model_is_404_listing_names(server):
    r = httpx.post(server.url + "/v1/rerank", json={"model": "rerank-english-v3.0", "query": "q", "documents": ["d"]})
    assert r.status_code == 404
    body = r.json()
    assert body["error_type"] == "NotFound"
    assert "rerank-english-v3.0" in body["error"] and all(n in body["error"] for n in ("base", "alpha", "beta"))


def test_concurrent_requests_are_batched_and_correct(server, tiny_cross_encoder, adapters):
    """16 clients, different queries and adapters at once: each gets its own library scores."""
    jobs = [(f"query number {i} about fleas", ["base", "alpha", "beta"][i % 3]) for i in range(16)]
    before = _metric(server, "loralab_batch_items_count")

    def call(job):
        query, model = job
        body = {"model": model, "query": query, "documents": TEXTS}
        return httpx.post(server.url + "/v1/rerank", json=body, timeout=30)

    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(call, jobs))
    batches = _metric(server, "loralab_batch_items_count") - before
    assert batches < len(jobs)  # at least some requests shared a forward pass
    rankers = {"base": library_ranker(tiny_cross_encoder)}
    rankers.update({n: library_ranker(tiny_cross_encoder, adapter=p) for n, p in adapters.items()})
    docs = [Document(str(i), t) for i, t in enumerate(TEXTS)]
    for (query, model), r in zip(jobs, responses):
        want = rankers[model].score(query, docs)
        got = {res["index"]: res["relevance_score"] for res in r.json()["results"]}
        assert got == pytest.approx({i: sigmoid(s) for i, s in enumerate(want)}, abs=1e-6)


def test_classify_matches_library(server, classifier):
    from loralab.tasks.classify.predictor import ClassifierConfig, SequenceClassifier

    texts = ["great movie", "terrible plot and acting", "it was fine"]
    r = httpx.post(server.url + "/v1/classify", json={"inputs": texts})
    assert r.status_code == 200, r.text
    want = SequenceClassifier(ClassifierConfig(model=str(classifier))).predict_proba(texts)
    for row, c in zip(want, r.json()["classifications"]):
        assert [c["labels"][label]["confidence"] for label in LABELS] == pytest.approx(row, abs=1e-6)
        assert c["prediction"] == LABELS[max(range(3), key=row.__getitem__)]
        assert c["confidence"] == pytest.approx(max(row), abs=1e-6)


def test_health_info_metrics_docs(server):
    assert httpx.get(server.url + "/health").json()["status"] == "ok"
    info = httpx.get(server.url + "/info").json()
    assert info["model"] == "base" and set(info["adapters"]) == {"alpha", "beta"}
    assert info["limits"]["max_queue"] > 0 and info["batching"]["enabled"] is True
    assert info["trust_remote_code"] is False and info["classifier"]["labels"] == LABELS
    metrics = httpx.get(server.url + "/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'loralab_requests_total{route="/v1/rerank",status="200"}' in metrics.text
    spec = httpx.get(server.url + "/openapi.json").json()
    assert {"/v1/rerank", "/v2/rerank", "/rerank", "/v1/classify"} <= set(spec["paths"])
    assert httpx.get(server.url + "/docs").status_code == 200


def test_bi_encoder_server_returns_library_cosines(tiny_bert):
    models = ServeModels.load(str(tiny_bert), "bi-encoder")
    with BackgroundServer(create_app(models)) as srv:
        r = httpx.post(srv.url + "/rerank", json={"query": QUERY, "texts": TEXTS})
    want = library_ranker(tiny_bert, "bi-encoder").score(QUERY, [Document(str(i), t) for i, t in enumerate(TEXTS)])
    got = {x["index"]: x["score"] for x in r.json()}
    assert got == pytest.approx(dict(enumerate(want)), abs=1e-5)  # cosines are not squashed
    assert [x["index"] for x in r.json()] == best_first(want)
    assert not models.ranker.documents.vectors  # a server keeps no document vectors between requests


def _metric(server, name: str) -> float:
    for line in httpx.get(server.url + "/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
