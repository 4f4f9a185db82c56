"""`loralab serve` as production runs it: real subprocesses on loopback, real clients, real signals.

Short versions of the load and failure scenarios (`benchmarks/serve_load.py --scenarios ...` runs the long
ones); each is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time

import httpx
import pytest

from loralab.serve.load_test import ServerProcess, capacity_rps, closed_loop, kill_a_worker, overload, soak

WORDS = "flea cycle larva pupa host blood egg adult cat dog jump bite itch pest".split()


def bodies(docs: int = 32, count: int = 16) -> list[dict]:
    """Deterministic requests of `docs` ~40-word passages each (heavy enough that the model, not HTTP, binds)."""
    out = []
    for q in range(count):
        texts = [" ".join(WORDS[(q + d + k) % len(WORDS)] for k in range(40)) for d in range(docs)]
        out.append({"query": f"{WORDS[q % len(WORDS)]} life cycle", "documents": texts})
    return out


def _serve_args(model, *extra: str) -> list[str]:
    return ["--model", str(model), "--max-length", "128", "--threads", "1", *extra]


def test_cohere_client_v1_and_v2_work_unchanged_under_a_hosted_model_name(tiny_cross_encoder):
    cohere = pytest.importorskip("cohere")
    args = _serve_args(tiny_cross_encoder, "--served-model-name", "rerank-english-v3.0",
                       "--served-model-name", "rerank-v3.5")
    docs = ["fleas are insects", "bananas are yellow", "a flea's life cycle has four stages"]
    with ServerProcess(args) as server:
        want = httpx.post(server.url + "/rerank", json={"query": "flea life cycle", "texts": docs}).json()
        v1 = cohere.Client(api_key="unused", base_url=server.url, max_retries=0)
        r1 = v1.rerank(model="rerank-english-v3.0", query="flea life cycle", documents=docs, top_n=2)
        v2 = cohere.ClientV2(api_key="unused", base_url=server.url, max_retries=0)
        r2 = v2.rerank(model="rerank-v3.5", query="flea life cycle", documents=docs)
        info = httpx.get(server.url + "/info").json()
        unknown = httpx.post(server.url + "/v1/rerank", json={"model": "other", "query": "q", "documents": ["d"]})
    assert [r.index for r in r1.results] == [w["index"] for w in want][:2]
    assert [r.index for r in r2.results] == [w["index"] for w in want]
    assert [round(r.relevance_score, 5) for r in r2.results] == [round(w["score"], 5) for w in want]
    assert info["served_model_names"] == ["rerank-english-v3.0", "rerank-v3.5"]
    assert unknown.status_code == 404 and "rerank-english-v3.0" in unknown.json()["error"]


def test_an_untrained_head_is_refused_unless_allowed_or_under_adapters(tiny_bert, tiny_cross_encoder, tmp_path):
    from serve_support import make_lora_adapter

    from loralab.errors import UntrainedHeadError
    from loralab.serve.served_models import ServeModels

    with pytest.raises(UntrainedHeadError, match="no trained classification head.*--allow-untrained-head"):
        ServeModels.load(str(tiny_bert), "cross-encoder")
    allowed = ServeModels.load(str(tiny_bert), "cross-encoder", served_names=["raw"], allow_untrained_head=True)
    assert allowed.ranker_names == ["raw"]
    # Adapters carry their own trained heads: they are served, the bare base is not.
    adapter = make_lora_adapter(tiny_cross_encoder, tmp_path / "adapter", seed=5)
    with_adapter = ServeModels.load(str(tiny_bert), "cross-encoder", {"tuned": adapter}, served_names=["base"])
    assert with_adapter.ranker_names == ["tuned"] and with_adapter.resolve_ranker(None) == "tuned"
    with pytest.raises(Exception, match="base model is not served: its relevance head is untrained"):
        with_adapter.resolve_ranker("base")


def test_ready_only_after_the_warm_up_forward(tiny_cross_encoder):
    import threading

    from loralab.serve.app import create_app
    from loralab.serve.runner import BackgroundServer
    from loralab.serve.served_models import ServeModels

    models = ServeModels.load(str(tiny_cross_encoder), "cross-encoder")
    gate, real_warm_up, forwards = threading.Event(), models.warm_up, []
    models.warm_up = lambda: (gate.wait(30), real_warm_up(), forwards.append(1))  # hold the real warm-up
    with BackgroundServer(create_app(models)) as srv:
        live, not_ready = httpx.get(srv.url + "/health"), httpx.get(srv.url + "/ready")
        gate.set()
        deadline = time.monotonic() + 20
        while (ready := httpx.get(srv.url + "/ready")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert live.status_code == 200 and live.json()["ready"] is False
    assert not_ready.status_code == 503 and not_ready.json()["status"] == "warming up"
    assert ready.status_code == 200 and ready.json()["ready"] is True and forwards == [1]


def test_sigterm_drains_requests_in_flight_then_exits_cleanly(tiny_cross_encoder):
    heavy = bodies(docs=256, count=4)
    server = ServerProcess(_serve_args(tiny_cross_encoder, "--no-batching")).__enter__()

    async def in_flight_then_term():
        async with httpx.AsyncClient(timeout=60) as client:
            tasks = [asyncio.create_task(client.post(server.url + "/v1/rerank", json=b)) for b in heavy]
            await asyncio.sleep(0.3)  # all four sent; the first is with the model, three queued behind it
            server.proc.send_signal(signal.SIGTERM)
            return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        answers = asyncio.run(in_flight_then_term())
        code = server.proc.wait(timeout=60)
    finally:
        server.__exit__(None, None, None)
    assert [getattr(a, "status_code", repr(a)) for a in answers] == [200] * 4
    assert all(len(a.json()["results"]) == 256 for a in answers)
    assert code == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/health", timeout=2)


@pytest.mark.slow
def test_soak_below_capacity_stays_flat(tiny_cross_encoder):
    # The short version runs at 60% of a 6-second capacity estimate (the long benchmark soaks at 80%): on a shared
    # 2-core CI machine that estimate varies by a fifth, and once in CI 80% of it was over the real capacity
    # (67 req/s of light requests; p99 2.2 s from the first window). Heavy requests keep the rate at tens of
    # req/s, so the load generator on the same cores costs little next to the model.
    # A machine that slows mid-soak (a neighbour on the shared cores) pushes the rate over its capacity and the
    # queue grows (p50 ratio 17 once locally; alone right after: passed). So a failed flatness check is measured
    # once more on a fresh server with a fresh capacity estimate: a server that ages fails both, a blip rarely hits
    # twice. Both results are in the failure message.
    results = []
    for _attempt in range(2):
        with ServerProcess(_serve_args(tiny_cross_encoder, "--max-queue", "1000")) as server:
            work = bodies(docs=128)
            capacity = capacity_rps(server.url, work, seconds=6)
            results.append(soak(server, work, rate_rps=0.6 * capacity, seconds=40, window_s=12))
        if results[-1].p50_ratio <= 1.5:
            break
    result = results[-1]
    assert result.statuses == {"200": result.requests}, result
    # A 12-s window holds ~100 requests, so its p95 and p99 are its slowest one to five: one scheduler stall of a
    # shared CI core decides them (p99 ratio 2.34 once locally, p95 ratio 1.98 once in CI with every request 200).
    # What a soak must catch moves the median: a queue that does not drain, or requests that slow down as the
    # server ages, raise every later latency. So the median is the flatness check here and the tail bound is
    # loose; the benchmark's long soak keeps the p99 <= 1.5 target on windows of thousands of requests.
    assert result.p50_ratio <= 1.5, json.dumps([r.to_dict() for r in results])
    assert result.p95_ratio <= 3.0, json.dumps(result.to_dict())
    assert result.rss_growth <= 0.10, json.dumps(result.to_dict())


@pytest.mark.slow
def test_overload_at_twice_capacity_sheds_with_429_and_recovers(tiny_cross_encoder):
    # A short request timeout makes the admission limit (half of it in queued work) bind within seconds.
    with ServerProcess(_serve_args(tiny_cross_encoder, "--request-timeout", "2", "--max-queue", "1000")) as server:
        # Heavy requests keep 2x capacity at tens of req/s: at >100 req/s the load generator, on the same 2 cores,
        # loses a connection of its own now and then (seen once in CI: 1 of 1274 requests without a response).
        work = bodies(docs=128)
        capacity = capacity_rps(server.url, work, seconds=6)
        result = overload(server, work, rate_rps=2 * capacity, seconds=10, recovery_limit_s=20)
    assert result.server_errors == 0 and result.statuses.get("0", 0) == 0, result
    assert result.rejected_with_retry_after > 0 and result.statuses.get("200", 0) > 0, result
    assert result.statuses.get("429") == result.rejected_with_retry_after, result
    assert result.recovery_s is not None and result.recovery_s <= 10, result


@pytest.mark.slow
def test_a_killed_worker_is_restarted_while_the_other_keeps_serving(tiny_cross_encoder):
    with ServerProcess(_serve_args(tiny_cross_encoder, "--workers", "2")) as server:
        work = bodies(docs=8)
        asyncio.run(closed_loop(server.url, work, 4, 2.0))  # both workers warm
        result = kill_a_worker(server, work, rate_rps=10, seconds=15)
        after = asyncio.run(closed_loop(server.url, work, 2, 2.0))
    assert result.restarted_in_s is not None and result.restarted_in_s < 60, result
    assert result.failed_after_kill == 0 and result.ok_after_kill > 0, result
    assert after and all(r.status == 200 for r in after)
