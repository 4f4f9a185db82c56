"""Micro-batching: items from concurrent requests share one forward pass.

Under concurrent traffic (the last batch held two or more requests) a request waits at most `max_wait_ms`
for company; a lone client never waits. A batch closes early when it reaches `max_batch_size`
items or `max_batch_tokens` padded tokens. Items are sorted by length before they are cut into
forward passes, so short inputs are not padded to long ones. With batching off every request runs
alone, through the same single model thread, which is the fair baseline for the load test.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from loralab.serve.errors import Overloaded, RequestTimeout

ADMIT_WAIT_FRACTION = 0.5  # of the request timeout: queued work beyond it is refused with 429
RunFn = Callable[[str, list[Any]], list[Any]]  # (model key, items) -> one result per item


@dataclass
class BatchSettings:
    enabled: bool = True
    max_batch_size: int = 64  # items (query-document pairs, or texts) per forward pass
    max_batch_tokens: int = 16384  # padded tokens per forward pass: longest item x items
    max_wait_ms: float = 5.0
    # Start a new forward pass when an item is shorter than this fraction of the pass's longest: on CPU the
    # model is compute-bound, so padding short items to a long one costs more than one extra call.
    min_fill: float = 0.5

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Job:
    key: str
    items: list[Any]
    lengths: list[int]
    future: asyncio.Future
    enqueued: float = field(default_factory=time.perf_counter)


def split_by_budget(lengths: Sequence[int], max_items: int, max_tokens: int, min_fill: float = 0.0) -> list[list[int]]:
    """Indices sorted longest first, cut into runs whose padded size (longest x count) fits the budget
    and whose items are each at least `min_fill` of the run's longest."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    chunks: list[list[int]] = []
    for i in order:
        current = chunks[-1] if chunks else None
        # The chunk's first item is its longest, so padded size = lengths[first] * count.
        fits = (
            current is not None
            and len(current) < max_items
            and lengths[current[0]] * (len(current) + 1) <= max_tokens
            and lengths[i] >= min_fill * lengths[current[0]]
        )
        if fits:
            current.append(i)
        else:
            chunks.append([i])
    return chunks


class MicroBatcher:
    def __init__(self, run: RunFn, settings: BatchSettings, max_queue: int, executor: ThreadPoolExecutor,
                 on_batch: Callable[[int, float], None] | None = None):
        self.run = run
        self.settings = settings
        self.max_queue = max_queue
        self.executor = executor  # one thread shared by every batcher: the model never runs twice at once
        self.on_batch = on_batch
        self._queue: deque[_Job] = deque()
        self._arrived = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._seconds_per_item = 0.01  # running estimate, for Retry-After
        self._last_batch_jobs = 1
        self._running_jobs = 0

    @property
    def depth(self) -> int:
        return len(self._queue)

    @property
    def running(self) -> int:
        """Requests whose batch is with the model (or waiting for the model thread) right now."""
        return self._running_jobs

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for job in self._queue:
            if not job.future.done():
                job.future.set_exception(RequestTimeout("server is shutting down"))

    def ensure_capacity(self, timeout_s: float | None = None) -> None:
        """Raise Overloaded (429) when the queue is full, or when the work already queued would take longer
        than half of `timeout_s`: under overload a client is told to come back (429 + Retry-After) at once
        instead of waiting to be timed out (504). Callers check early to skip tokenizing."""
        if len(self._queue) >= self.max_queue:
            raise Overloaded(
                f"server is at capacity ({self.max_queue} requests queued); retry later", self.retry_after()
            )
        if timeout_s is not None and self.estimated_wait_s() > ADMIT_WAIT_FRACTION * timeout_s:
            raise Overloaded(
                f"server is at capacity (about {self.estimated_wait_s():.1f} s of queued work); retry later",
                self.retry_after(),
            )

    def estimated_wait_s(self) -> float:
        return sum(len(job.items) for job in self._queue) * self._seconds_per_item

    async def submit(self, key: str, items: list[Any], lengths: list[int], timeout_s: float) -> list[Any]:
        self.ensure_capacity(timeout_s)
        job = _Job(key, items, lengths, asyncio.get_running_loop().create_future())
        self._queue.append(job)
        self._arrived.set()
        try:
            return await asyncio.wait_for(asyncio.shield(job.future), timeout_s)
        except asyncio.TimeoutError:
            job.future.cancel()  # the worker skips cancelled jobs that are still queued
            raise RequestTimeout(f"request did not finish within {timeout_s:g} s (--request-timeout)") from None
        except asyncio.CancelledError:
            job.future.cancel()  # the client went away: do not spend the model on it
            raise

    def retry_after(self) -> int:
        return max(1, math.ceil(self.estimated_wait_s()))

    async def _loop(self) -> None:
        while True:
            while not self._queue:
                self._arrived.clear()
                await self._arrived.wait()
            batch = await self._collect()
            if batch:
                await self._execute(batch)

    async def _collect(self) -> list[_Job]:
        first = self._queue.popleft()
        if first.future.done():
            return []
        batch = [first]
        if not self.settings.enabled:
            return batch
        # Waiting only pays under concurrent traffic: a lone client would just lose max_wait_ms per request.
        full = self._take_matching(batch)
        if len(batch) < 2 and self._last_batch_jobs < 2:
            self._last_batch_jobs = len(batch)
            return batch
        deadline = first.enqueued + self.settings.max_wait_ms / 1000
        while not full and not self._take_matching(batch):
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                break
        self._last_batch_jobs = len(batch)
        return batch

    def _take_matching(self, batch: list[_Job]) -> bool:
        """Move queued jobs for the same model into `batch` while they fit; True once the batch is full."""
        count = sum(len(job.items) for job in batch)
        longest = max(max(job.lengths, default=1) for job in batch)
        for job in list(self._queue):
            if job.future.done():
                self._queue.remove(job)
                continue
            if job.key != batch[0].key:
                continue
            new_longest = max(longest, max(job.lengths, default=1))
            if count + len(job.items) > self.settings.max_batch_size or \
                    new_longest * (count + len(job.items)) > self.settings.max_batch_tokens:
                return True
            self._queue.remove(job)
            batch.append(job)
            count, longest = count + len(job.items), new_longest
        return count >= self.settings.max_batch_size

    async def _execute(self, batch: list[_Job]) -> None:
        items = [item for job in batch for item in job.items]
        lengths = [n for job in batch for n in job.lengths]
        start = time.perf_counter()
        self._running_jobs = len(batch)
        try:
            results = await asyncio.get_running_loop().run_in_executor(
                self.executor, self._run_chunks, batch[0].key, items, lengths
            )
        except Exception as exc:  # noqa: BLE001 - the error belongs to the requests, not the loop
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        finally:
            self._running_jobs = 0
        elapsed = time.perf_counter() - start
        self._seconds_per_item = 0.8 * self._seconds_per_item + 0.2 * elapsed / max(1, len(items))
        if self.on_batch:
            self.on_batch(len(items), elapsed)
        offset = 0
        for job in batch:
            if not job.future.done():
                job.future.set_result(results[offset : offset + len(job.items)])
            offset += len(job.items)

    def _run_chunks(self, key: str, items: list[Any], lengths: list[int]) -> list[Any]:
        results: list[Any] = [None] * len(items)
        cfg = self.settings
        for chunk in split_by_budget(lengths, cfg.max_batch_size, cfg.max_batch_tokens, cfg.min_fill):
            for i, value in zip(chunk, self.run(key, [items[i] for i in chunk])):
                results[i] = value
        return results
