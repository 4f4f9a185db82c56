"""Limits and safety on a real loopback server: 413, 422, 429 + Retry-After, 504, API key, safetensors only."""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from serve_support import make_lora_adapter

from loralab.errors import ConfigError, ModelError
from loralab.serve.adapters import parse_adapter_specs
from loralab.serve.app import create_app
from loralab.serve.batcher import BatchSettings
from loralab.serve.limits import ServeLimits
from loralab.serve.served_models import ServeModels
from loralab.serve.runner import BackgroundServer


@pytest.fixture(scope="module")
def models(tiny_cross_encoder):
    return ServeModels.load(str(tiny_cross_encoder), "cross-encoder", max_length=32)


def _server(models, **limits):
    batching = BatchSettings(enabled=limits.pop("batching", True), max_wait_ms=0)
    return BackgroundServer(create_app(models, ServeLimits(**limits), batching))


class BusyModel:
    """Occupies the server's single model thread, as a long batch would, until released."""

    def __init__(self, app):
        self.release = threading.Event()
        app.state.serve.executor.submit(self.release.wait, 30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release.set()


def test_oversized_body_gets_413(models):
    with _server(models, max_request_bytes=2000) as srv:
        big = {"query": "q", "documents": ["word " * 1000]}
        r = httpx.post(srv.url + "/v1/rerank", json=big)
        assert r.status_code == 413 and r.json()["error_type"] == "Validation"
        assert "2000" in r.json()["error"]
        # Chunked upload: no Content-Length, so the limit is enforced while reading.
        chunks = (b'{"query": "q", "documents": ["' + b"x" * 500, b"y" * 2000, b'"]}')
        r = httpx.post(srv.url + "/v1/rerank", content=iter(chunks), headers={"content-type": "application/json"})
        assert r.status_code == 413
        small = httpx.post(srv.url + "/v1/rerank", json={"query": "q", "documents": ["d"]})
        assert small.status_code == 200


def test_too_many_documents_gets_413(models):
    with _server(models, max_documents=3) as srv:
        r = httpx.post(srv.url + "/rerank", json={"query": "q", "texts": ["a", "b", "c", "d"]})
        assert r.status_code == 413 and "at most 3" in r.json()["error"]
        assert httpx.post(srv.url + "/rerank", json={"query": "q", "texts": ["a", "b", "c"]}).status_code == 200


def test_tei_truncate_false_rejects_long_input(models):
    with _server(models) as srv:
        body = {"query": "q", "texts": ["short", "long " * 100], "truncate": False}
        r = httpx.post(srv.url + "/rerank", json=body)
        assert r.status_code == 413 and "texts.1" in r.json()["error"]
        assert httpx.post(srv.url + "/rerank", json={**body, "truncate": True}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"documents": ["d"]}, "query"),
        ({"query": "q", "documents": ["d", 7]}, "documents.1"),
        ({"query": "q", "documents": ["d", {"title": "no text"}]}, "documents.1"),
        ({"query": "q", "documents": []}, "documents"),
        ({"query": "q", "documents": ["d"], "top_n": 0}, "top_n"),
    ],
)
def test_bad_body_gets_422_naming_the_field(models, body, field):
    with _server(models) as srv:
        r = httpx.post(srv.url + "/v1/rerank", json=body)
    assert r.status_code == 422
    assert r.json()["error_type"] == "Validation"
    assert r.json()["error"].startswith(field + ":"), r.json()


def test_full_queue_gets_429_with_retry_after(models):
    with _server(models, max_queue=2, batching=False) as srv, BusyModel(srv.server.config.app) as busy:
        def post():
            return httpx.post(srv.url + "/v1/rerank", json={"query": "q", "documents": ["d"]}, timeout=30)

        with ThreadPoolExecutor(3) as pool:
            # One at a time: three arriving together could all reach the queue before the worker takes
            # the first, and the third would (rightly) get the 429.
            pending = [pool.submit(post)]
            _wait_for_health(srv, in_flight=1, queue_depth=0)  # with the (busy) model
            pending += [pool.submit(post) for _ in range(2)]
            _wait_for_health(srv, in_flight=1, queue_depth=2)  # the queue is full
            r = post()
            assert r.status_code == 429
            assert r.json()["error_type"] == "Overloaded"
            assert int(r.headers["Retry-After"]) >= 1
            busy.release.set()
            assert [f.result().status_code for f in pending] == [200, 200, 200]  # queued work still completes
        assert 'status="429"' in httpx.get(srv.url + "/metrics").text


def test_request_timeout_gets_504(models):
    with _server(models, request_timeout_s=0.3) as srv, BusyModel(srv.server.config.app):
        r = httpx.post(srv.url + "/v1/rerank", json={"query": "q", "documents": ["d"]}, timeout=10)
    assert r.status_code == 504 and r.json()["error_type"] == "Timeout"


def test_api_key_required_when_configured(models):
    with BackgroundServer(create_app(models, api_key="s3cret")) as srv:
        body = {"query": "q", "documents": ["d"]}
        assert httpx.post(srv.url + "/v1/rerank", json=body).status_code == 401
        wrong = httpx.post(srv.url + "/v1/rerank", json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error_type"] == "Unauthorized"
        ok = httpx.post(srv.url + "/v1/rerank", json=body, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert httpx.get(srv.url + "/health").status_code == 200  # probes need no key
        assert httpx.get(srv.url + "/info").status_code == 401


def test_unknown_route_and_method_use_error_shape(models):
    with _server(models) as srv:
        r = httpx.get(srv.url + "/v3/rerank")
        assert r.status_code == 404 and set(r.json()) == {"error", "error_type"}
        assert httpx.get(srv.url + "/v1/rerank").status_code == 405


def test_safetensors_only(tiny_cross_encoder, tmp_path):
    adapter = make_lora_adapter(tiny_cross_encoder, tmp_path / "adapter", seed=5)
    (adapter / "adapter_model.safetensors").rename(adapter / "adapter_model.bin")
    with pytest.raises(ModelError, match="safetensors"):
        ServeModels.load(str(tiny_cross_encoder), "cross-encoder", {"pickled": adapter})
    model = tmp_path / "pickled-model"
    shutil.copytree(tiny_cross_encoder, model)
    (model / "model.safetensors").rename(model / "pytorch_model.bin")
    with pytest.raises(ModelError, match="safetensors"):
        ServeModels.load(str(model), "cross-encoder")


def test_adapter_folder_without_config_fails_before_loading(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="adapter_config.json"):
        ServeModels.load("/no/such/base/model", "cross-encoder", {"x": tmp_path / "empty"})


def test_adapter_specs_are_validated():
    assert parse_adapter_specs(["a=/x", "b = /y"]) == {"a": Path("/x"), "b": Path("/y")}
    with pytest.raises(ConfigError, match="name=path"):
        parse_adapter_specs(["/just/a/path"])
    with pytest.raises(ConfigError, match="twice"):
        parse_adapter_specs(["a=/x", "a=/y"])


def _wait_for_health(srv, **expected: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        health = httpx.get(srv.url + "/health").json()
        if all(health[k] == v for k, v in expected.items()):
            return
        assert time.monotonic() < deadline, f"server never reached {expected}: {health}"
        time.sleep(0.01)
