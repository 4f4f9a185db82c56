"""Load test for `loralab serve`: batching on vs off, then soak, overload and a killed worker.

Scenario `batching`: starts the real server twice on loopback ports (micro-batching on and off, side by side),
sends Cohere v1 rerank requests built from DL19 queries and their BM25 candidates, and prints a table plus one
JSON line with the throughput ratio (on / off) at each concurrency. Bounded: --requests per level and mode (both
modes time the same requests), no new request after --seconds per level; loopback only.
Scenarios `soak`, `overload`, `kill` (the long versions of tests/serve/test_serve_production.py): capacity is
measured first (closed loop), then an open loop at 80% of it for --soak-seconds, at 2x for --overload-seconds,
and a 2-worker server loses one worker to SIGKILL; each prints its figures as one JSON line.
The model's relevance head does not matter for speed: an untrained one is allowed here (--allow-untrained-head).
Usage: python benchmarks/serve_load.py [--scenarios batching,soak,overload,kill] [--model minilm] [--docs 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import time

import httpx
import numpy as np

from loralab.data.registry import load_rerank_dataset

HOST = "127.0.0.1"


def request_bodies(docs_per_request: int, doc_chars: int | None = None, count: int = 40) -> list[dict]:
    data = load_rerank_dataset("trec-dl-2019")
    bodies = []
    for qid in sorted(data.candidates.query_ids)[:count]:
        docids = [d for d, _ in data.candidates.ranked(qid, docs_per_request)]
        texts = [data.corpus[d].full_text[:doc_chars] for d in docids]  # doc_chars=None keeps whole passages
        bodies.append({"query": data.queries[qid], "documents": texts})
    return bodies


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(args, batching: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "loralab.cli.main", "serve", "--model", args.model, "--ranker", args.ranker,
           "--host", HOST, "--port", str(port), "--max-queue", "1000", "--max-wait-ms", str(args.max_wait_ms),
           "--max-batch-size", str(args.max_batch_size), "--max-length", str(args.max_length), "--log-level", "warning",
           "--threads", str(args.threads), "--allow-untrained-head",
           "--batching" if batching else "--no-batching"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "LORALAB_API_KEY": ""})
    return proc, f"http://{HOST}:{port}"


def wait_healthy(proc: subprocess.Popen, url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {' '.join(map(str, proc.args))}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not come up within {timeout_s:g} s")


async def run_level(url: str, bodies: list[dict], concurrency: int, per_worker: int, max_seconds: float) -> dict:
    """Closed loop: `concurrency` clients each send `per_worker` requests back to back (a fixed amount of
    work, so both modes are timed on the same requests); no new request starts after `max_seconds`."""
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()

    async def worker(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal errors
        for i in range(per_worker):
            if time.perf_counter() - start > max_seconds:
                return
            body = bodies[(offset + i * concurrency) % len(bodies)]
            t0 = time.perf_counter()
            r = await client.post(url + "/v1/rerank", json=body)
            if r.status_code == 200:
                latencies.append(time.perf_counter() - t0)
            else:
                errors += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        await asyncio.gather(*(worker(client, w) for w in range(concurrency)))
    return {"latencies": latencies, "errors": errors, "wall": time.perf_counter() - start}


def summarize(concurrency: int, rounds: list[dict]) -> dict:
    latencies = [x for r in rounds for x in r["latencies"]]
    wall = sum(r["wall"] for r in rounds)
    ms = np.array(latencies) * 1000 if latencies else np.array([float("nan")])
    return {
        "concurrency": concurrency, "requests": len(latencies), "errors": sum(r["errors"] for r in rounds),
        "throughput_rps": len(latencies) / wall, "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)), "p99_ms": float(np.percentile(ms, 99)),
    }


def measure(args, bodies: list[dict]) -> dict[str, list[dict]]:
    """Both servers run side by side; each level is split into rounds that alternate the two modes, so
    drift in the machine's background load (shared cores) hits both alike."""
    servers = {"on": start_server(args, True), "off": start_server(args, False)}
    results: dict[str, list[dict]] = {"on": [], "off": []}
    try:
        for proc, url in servers.values():
            wait_healthy(proc, url)
            asyncio.run(run_level(url, bodies, 2, 1, 10))  # warm-up: first calls allocate and fault in weights
        for c in args.concurrency:
            rounds: dict[str, list[dict]] = {"on": [], "off": []}
            for r in range(args.rounds):  # ABBA order: background drift hits both modes alike
                for mode in (("on", "off") if r % 2 == 0 else ("off", "on")):
                    per_worker = max(1, math.ceil(args.requests / c / args.rounds))
                    run = run_level(servers[mode][1], bodies, c, per_worker, args.seconds / args.rounds)
                    rounds[mode].append(asyncio.run(run))
            for mode in results:
                results[mode].append(summarize(c, rounds[mode]))
    finally:
        for proc, _ in servers.values():
            proc.terminate()
        for proc, _ in servers.values():
            proc.wait(timeout=30)
    return results


def failure_scenarios(args, bodies: list[dict]) -> dict:
    """Soak at 80%, overload at 2x, kill one of 2 workers: the figures the production tests assert, at length."""
    from loralab.serve import load_test

    def server_args(threads: int) -> list[str]:
        return ["--model", args.model, "--ranker", args.ranker, "--max-length", str(args.max_length),
                "--threads", str(threads), "--allow-untrained-head", "--max-queue", "1000"]

    out = {}
    if {"soak", "overload"} & set(args.scenarios):
        with load_test.ServerProcess([*server_args(args.threads), "--request-timeout", str(args.request_timeout)]) as server:
            capacity = load_test.capacity_rps(server.url, bodies, seconds=20)
            out["capacity_rps"] = capacity
            if "soak" in args.scenarios:
                window = min(60.0, args.soak_seconds / 3)
                out["soak"] = load_test.soak(server, bodies, 0.8 * capacity, args.soak_seconds, window).to_dict()
            if "overload" in args.scenarios:
                out["overload"] = load_test.overload(server, bodies, 2 * capacity, args.overload_seconds).to_dict()
    if "kill" in args.scenarios:
        with load_test.ServerProcess([*server_args(1), "--workers", "2"]) as server:  # 2 workers x 1 thread
            capacity = out.get("capacity_rps") or load_test.capacity_rps(server.url, bodies, seconds=10)
            out["kill"] = load_test.kill_a_worker(server, bodies, 0.5 * capacity, args.kill_seconds).to_dict()
    for name in ("soak", "overload", "kill"):
        if name in out:
            print(name, json.dumps(out[name]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--ranker", default="cross-encoder", choices=["cross-encoder", "bi-encoder"])
    parser.add_argument("--docs", type=int, default=4, help="documents per request")
    parser.add_argument("--doc-chars", type=int, default=None, help="cut each passage to its first N characters")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=32, help="requests per level and mode (split over clients)")
    parser.add_argument("--seconds", type=float, default=20.0, help="safety cap: no new requests after this, per level")
    parser.add_argument("--rounds", type=int, default=2, help="alternating on/off rounds per level")
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--max-batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=128, help="tokens per query-document pair")
    # On a CPU shared with other busy processes, 2+ OpenMP threads spin-wait on preempted peers: one
    # forward measured 0.9 s with 2 threads vs 0.09 s with 1 on the 2-core dev box.
    parser.add_argument("--threads", type=int, default=1, help="torch threads per server")
    parser.add_argument("--scenarios", type=lambda s: s.split(","), default=["batching"],
                        help="comma-separated: batching, soak, overload, kill")
    parser.add_argument("--soak-seconds", type=float, default=300.0)
    parser.add_argument("--overload-seconds", type=float, default=30.0)
    parser.add_argument("--kill-seconds", type=float, default=30.0)
    parser.add_argument("--request-timeout", type=float, default=10.0, help="server --request-timeout (soak/overload)")
    args = parser.parse_args()

    bodies = request_bodies(args.docs, args.doc_chars)
    if set(args.scenarios) - {"batching"}:
        figures = failure_scenarios(args, bodies)
        print(json.dumps({"setup": {k: getattr(args, k) for k in ("model", "ranker", "docs", "max_length", "threads")},
                          **figures}))
    if "batching" not in args.scenarios:
        return
    results = measure(args, bodies)
    cut = f" cut to {args.doc_chars} chars" if args.doc_chars else ""
    print(f"{args.ranker} {args.model}, {args.docs} docs/request (DL19 BM25 candidates{cut}), "
          f"max_length {args.max_length}, "
          f"{args.requests} requests per level, {args.threads} torch thread(s) per server, loopback")
    print(f"{'batching':>8} {'conc':>4} {'reqs':>5} {'err':>4} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for mode, rows in results.items():
        for r in rows:
            print(f"{mode:>8} {r['concurrency']:>4} {r['requests']:>5} {r['errors']:>4} {r['throughput_rps']:>7.2f} "
                  f"{r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f}")
    ratios = {r_on["concurrency"]: r_on["throughput_rps"] / r_off["throughput_rps"]
              for r_on, r_off in zip(results["on"], results["off"])}
    for c, ratio in ratios.items():
        print(f"throughput ratio batching on/off at concurrency {c}: {ratio:.2f}x")
    keys = ("model", "ranker", "docs", "doc_chars", "max_length", "threads", "requests", "rounds")
    setup = {k: getattr(args, k) for k in keys}
    print(json.dumps({**setup, "results": results, "throughput_ratio_on_off": ratios}))


if __name__ == "__main__":
    main()
