"""Load and failure scenarios against a real `loralab serve` process on loopback: capacity, soak, overload and a
worker killed mid-traffic. Used by the tests (short versions) and `benchmarks/serve_load.py` (long ones).

Open-loop load (requests start on a fixed schedule whatever the server does) is what overload means: a closed
loop of N clients slows down with the server and never overloads it. Everything here is bounded in count and
time and stops by itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

import httpx
import numpy as np
import psutil

from loralab.serve.runner import LOOPBACK


@dataclass
class Record:
    start: float  # seconds since the load began
    latency_s: float
    status: int  # HTTP status; 0 = no response (connection refused/reset, client timeout)
    retry_after: str | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class ServerProcess:
    """`python -m loralab.cli.main serve ARGS` on a free loopback port; waits for /ready; SIGTERM on exit."""

    def __init__(self, args: list[str], ready_timeout_s: float = 120, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        cmd = [sys.executable, "-m", "loralab.cli.main", "serve", *args, "--host", LOOPBACK, "--port", str(self.port),
               "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "LORALAB_API_KEY": "", **(env or {})})
        self.ready_timeout_s = ready_timeout_s

    def __enter__(self) -> ServerProcess:
        self.wait_ready(self.ready_timeout_s)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.proc.stdout.read()}")
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready within {timeout_s:g} s")

    def workers(self) -> list[psutil.Process]:
        """Worker processes (uvicorn's spawned children); empty for a one-process server."""
        children = psutil.Process(self.proc.pid).children()
        return [c for c in children if "spawn_main" in " ".join(c.cmdline())]

    def rss_bytes(self) -> int:
        procs = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running())


async def _send(client: httpx.AsyncClient, url: str, body: dict, t0: float, records: list[Record]) -> None:
    start = time.perf_counter()
    try:
        r = await client.post(url + "/v1/rerank", json=body)
        records.append(Record(start - t0, time.perf_counter() - start, r.status_code, r.headers.get("retry-after")))
    except httpx.HTTPError:
        records.append(Record(start - t0, time.perf_counter() - start, 0))


async def open_loop(url: str, bodies: list[dict], rate_per_s: float, seconds: float,
                    client_timeout_s: float = 60) -> list[Record]:
    """Start requests at `rate_per_s` (evenly spaced) for `seconds`, then wait for all of them."""
    records: list[Record] = []
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits, timeout=client_timeout_s) as client:
        t0 = time.perf_counter()
        tasks, i = [], 0
        while (due := i / rate_per_s) < seconds:
            await asyncio.sleep(max(0.0, due - (time.perf_counter() - t0)))
            tasks.append(asyncio.create_task(_send(client, url, bodies[i % len(bodies)], t0, records)))
            i += 1
        await asyncio.gather(*tasks)
    return sorted(records, key=lambda r: r.start)


async def closed_loop(url: str, bodies: list[dict], concurrency: int, seconds: float) -> list[Record]:
    """`concurrency` clients back to back for `seconds`: the server's capacity at that concurrency."""
    records: list[Record] = []
    async with httpx.AsyncClient(timeout=60) as client:
        t0 = time.perf_counter()

        async def client_loop(offset: int) -> None:
            i = offset
            while time.perf_counter() - t0 < seconds:
                await _send(client, url, bodies[i % len(bodies)], t0, records)
                i += concurrency

        await asyncio.gather(*(client_loop(c) for c in range(concurrency)))
    return sorted(records, key=lambda r: r.start)


def capacity_rps(url: str, bodies: list[dict], seconds: float = 10, concurrency: int = 4) -> float:
    """Completed requests per second under a closed loop (after one warm-up pass)."""
    asyncio.run(closed_loop(url, bodies, concurrency, min(2.0, seconds / 4)))
    records = asyncio.run(closed_loop(url, bodies, concurrency, seconds))
    ok = [r for r in records if r.status == 200]
    return len(ok) / max(1e-9, max(r.start + r.latency_s for r in records))


def _p(records: list[Record], q: float) -> float:
    values = [r.latency_s * 1000 for r in records if r.status == 200]
    return float(np.percentile(values, q)) if values else float("nan")


def _statuses(records: list[Record]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in records:
        counts[str(r.status)] = counts.get(str(r.status), 0) + 1
    return counts


@dataclass
class SoakResult:
    rate_rps: float
    seconds: float
    requests: int
    statuses: dict[str, int]
    p99_first_ms: float  # p99 over the first window (after warm-up)
    p99_last_ms: float
    p99_ratio: float  # last / first: <= 1.5 is the target
    p95_first_ms: float
    p95_last_ms: float
    p95_ratio: float
    p50_first_ms: float
    p50_last_ms: float
    p50_ratio: float  # last / first: the flatness check for short windows, where the tail is a few requests
    rss_after_warmup_mb: float
    rss_end_mb: float
    rss_growth: float  # (end - after warm-up) / after warm-up: <= 0.10 is the target

    def to_dict(self) -> dict:
        return asdict(self)


def soak(server: ServerProcess, bodies: list[dict], rate_rps: float, seconds: float, window_s: float) -> SoakResult:
    """Steady open-loop load; p99 of the first and last `window_s`, RSS after warm-up vs at the end."""
    asyncio.run(open_loop(server.url, bodies, rate_rps, min(window_s, 5.0)))  # warm-up: allocator, caches
    rss_start = server.rss_bytes()
    records = asyncio.run(open_loop(server.url, bodies, rate_rps, seconds))
    rss_end = server.rss_bytes()
    first = [r for r in records if r.start < window_s]
    last = [r for r in records if r.start >= seconds - window_s]
    p_first, p_last = _p(first, 99), _p(last, 99)
    p95_first, p95_last = _p(first, 95), _p(last, 95)
    p50_first, p50_last = _p(first, 50), _p(last, 50)
    return SoakResult(rate_rps, seconds, len(records), _statuses(records), p_first, p_last, p_last / p_first,
                      p95_first, p95_last, p95_last / p95_first, p50_first, p50_last, p50_last / p50_first,
                      rss_start / 2**20, rss_end / 2**20, (rss_end - rss_start) / rss_start)


@dataclass
class OverloadResult:
    rate_rps: float
    seconds: float
    requests: int
    statuses: dict[str, int]
    rejected_with_retry_after: int  # 429s that carry Retry-After
    server_errors: int  # 5xx: the target is 0
    baseline_p50_ms: float
    recovery_s: float | None  # from the end of the overload to the first of 3 probes in a row at normal latency
    probes: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def overload(server: ServerProcess, bodies: list[dict], rate_rps: float, seconds: float,
             recovery_limit_s: float = 30) -> OverloadResult:
    """Open-loop load at `rate_rps` (above capacity), then single probes until latency is back to normal."""
    baseline = asyncio.run(closed_loop(server.url, bodies, 1, 3.0))
    base_p50 = _p(baseline, 50)
    records = asyncio.run(open_loop(server.url, bodies, rate_rps, seconds))
    load_end = time.perf_counter()  # every overload request has had its answer by now
    recovery, probes, normal_in_row = None, [], 0
    while (elapsed := time.perf_counter() - load_end) < recovery_limit_s:
        probe = asyncio.run(closed_loop(server.url, bodies, 1, 0.01))[0]
        probes.append(round(probe.latency_s * 1000, 1))
        normal = probe.status == 200 and probe.latency_s * 1000 <= 2 * base_p50
        normal_in_row = normal_in_row + 1 if normal else 0
        if normal_in_row == 3:
            recovery = elapsed
            break
    statuses = _statuses(records)
    rejected = sum(1 for r in records if r.status == 429 and r.retry_after)
    errors = sum(1 for r in records if r.status >= 500)
    return OverloadResult(rate_rps, seconds, len(records), statuses, rejected, errors, base_p50, recovery, probes)


@dataclass
class KillResult:
    workers: int
    killed_pid: int
    requests: int
    statuses: dict[str, int]
    failed_after_kill: int  # no-answer or 5xx among requests started after the kill
    ok_after_kill: int
    restarted_in_s: float | None  # until the supervisor had `workers` live workers again

    def to_dict(self) -> dict:
        return asdict(self)


def kill_a_worker(server: ServerProcess, bodies: list[dict], rate_rps: float, seconds: float,
                  restart_limit_s: float = 90) -> KillResult:
    """Steady load; after a third of it, SIGKILL one worker; count what failed and time the restart."""
    workers = server.workers()
    if len(workers) < 2:
        raise RuntimeError(f"expected a server with 2+ workers, found {len(workers)}")
    victim = workers[0]
    kill_at = seconds / 3

    async def load_and_kill() -> tuple[list[Record], float]:
        task = asyncio.create_task(open_loop(server.url, bodies, rate_rps, seconds))
        await asyncio.sleep(kill_at)
        victim.send_signal(signal.SIGKILL)
        killed = time.perf_counter()
        return await task, killed

    records, killed = asyncio.run(load_and_kill())
    restarted = None
    while time.perf_counter() - killed < restart_limit_s:
        alive = [w for w in server.workers() if w.pid != victim.pid and w.is_running()]
        if len(alive) >= len(workers):
            restarted = time.perf_counter() - killed
            break
        time.sleep(0.2)
    after = [r for r in records if r.start > kill_at + 0.5]  # requests in flight on the victim may fail
    failed = sum(1 for r in after if r.status == 0 or r.status >= 500)
    return KillResult(len(workers), victim.pid, len(records), _statuses(records), failed,
                      sum(1 for r in after if r.status == 200), restarted)
