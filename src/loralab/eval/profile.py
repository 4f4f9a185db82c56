"""Latency, throughput, memory and cost: measured, never estimated from specs."""

from __future__ import annotations

import resource
import sys
from dataclasses import asdict, dataclass

import numpy as np


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far.

    On Linux from VmHWM: ru_maxrss survives exec, so a worker spawned from a large parent (a study that has just
    trained a model) would report the parent's peak; VmHWM belongs to the process's own memory map."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return int(peak if sys.platform == "darwin" else peak * 1024)


@dataclass
class LatencyProfile:
    """Per-query timings of a re-ranking pass."""

    num_queries: int
    num_pairs: int
    total_seconds: float
    p50_ms: float
    p95_ms: float
    mean_ms: float
    pairs_per_second: float
    queries_per_second: float
    warmup_seconds: float = 0.0  # the untimed first pass (torch.compile, kernel selection happen there)

    @classmethod
    def from_latencies(cls, seconds: list[float], num_pairs: int, warmup_seconds: float = 0.0) -> LatencyProfile:
        arr = np.asarray(seconds, dtype=float) if seconds else np.zeros(1)
        total = float(arr.sum())
        return cls(
            num_queries=len(seconds),
            num_pairs=num_pairs,
            total_seconds=total,
            p50_ms=float(np.percentile(arr, 50) * 1000),
            p95_ms=float(np.percentile(arr, 95) * 1000),
            mean_ms=float(arr.mean() * 1000),
            pairs_per_second=num_pairs / total if total > 0 else float("inf"),
            queries_per_second=len(seconds) / total if total > 0 else float("inf"),
            warmup_seconds=warmup_seconds,
        )

    def to_dict(self) -> dict:
        return asdict(self)


def cost_per_million_queries(queries_per_second: float, price_per_hour: float) -> float:
    """Machine time for 1M queries at the measured rate, priced per machine-hour (one query at a time)."""
    if queries_per_second <= 0 or queries_per_second == float("inf"):
        return 0.0
    return 1_000_000 / queries_per_second / 3600 * price_per_hour
