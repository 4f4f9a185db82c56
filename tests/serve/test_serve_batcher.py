"""The micro-batcher on its own: budgets, length sorting, one model per batch, results routed back."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from loralab.serve.batcher import BatchSettings, MicroBatcher, split_by_budget
from loralab.serve.errors import Overloaded


def test_split_by_budget_sorts_longest_first_and_respects_both_limits():
    assert split_by_budget([5, 50, 10, 40], max_items=3, max_tokens=100) == [[1, 3], [2, 0]]
    assert split_by_budget([1] * 5, max_items=2, max_tokens=10_000) == [[0, 1], [2, 3], [4]]
    assert split_by_budget([500], max_items=4, max_tokens=100) == [[0]]  # an oversized item still runs, alone
    assert split_by_budget([100, 90, 40, 30], max_items=8, max_tokens=10_000, min_fill=0.5) == [[0, 1], [2, 3]]


def _run_jobs(settings: BatchSettings, jobs: list[tuple[str, list[int]]], max_queue: int = 100):
    """Submit all jobs at once; the run function doubles items and records each forward pass."""
    passes: list[tuple[str, list[int]]] = []

    def run(key, items):
        passes.append((key, list(items)))
        return [2 * x for x in items]

    async def main():
        with ThreadPoolExecutor(1) as pool:
            batcher = MicroBatcher(run, settings, max_queue, pool)
            batcher.start()
            try:
                return await asyncio.gather(*(batcher.submit(k, items, items, 10) for k, items in jobs))
            finally:
                await batcher.stop()

    return asyncio.run(main()), passes


def test_concurrent_jobs_share_passes_per_model():
    jobs = [("a", [1, 2]), ("b", [3]), ("a", [4]), ("b", [5, 6]), ("a", [7])]
    results, passes = _run_jobs(BatchSettings(max_wait_ms=100, min_fill=0.0), jobs)
    assert results == [[2 * x for x in items] for _, items in jobs]  # every request gets its own results back
    assert len(passes) == 2  # one pass per model, not one per request
    by_key = {k: sorted(items) for k, items in passes}
    assert by_key == {"a": [1, 2, 4, 7], "b": [3, 5, 6]}
    assert passes[0][1] == sorted(passes[0][1], reverse=True)  # length-sorted (item value = its length here)


def test_batch_size_cap_and_batching_off():
    jobs = [("a", [i]) for i in range(1, 6)]
    _, capped = _run_jobs(BatchSettings(max_batch_size=2, max_wait_ms=100), jobs)
    assert max(len(items) for _, items in capped) == 2 and sum(len(i) for _, i in capped) == 5
    _, single = _run_jobs(BatchSettings(enabled=False), jobs)
    assert len(single) == 5  # off: each request runs alone


def test_token_budget_splits_a_batch():
    jobs = [("a", [60]), ("a", [50]), ("a", [10])]
    _, passes = _run_jobs(BatchSettings(max_batch_tokens=100, max_wait_ms=100), jobs)
    assert all(max(items) * len(items) <= 100 for _, items in passes)


def test_queue_limit_raises_overloaded():
    with pytest.raises(Overloaded) as info:
        _run_jobs(BatchSettings(max_wait_ms=100), [("a", [1])] * 4, max_queue=2)
    assert info.value.retry_after >= 1


def test_lone_client_does_not_wait_for_company():
    """With max_wait_ms far above the request timeout, sequential requests still finish: nobody waits."""

    async def main():
        with ThreadPoolExecutor(1) as pool:
            batcher = MicroBatcher(lambda key, items: items, BatchSettings(max_wait_ms=60_000), 10, pool)
            batcher.start()
            try:
                return [await batcher.submit("a", [i], [1], timeout_s=5) for i in range(3)]
            finally:
                await batcher.stop()

    assert asyncio.run(main()) == [[0], [1], [2]]
