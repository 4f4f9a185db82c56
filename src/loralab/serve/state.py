"""Everything a request handler needs, built once per app; handlers reach it via `request.app.state`."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from fastapi import Request

from loralab.data.schemas import Document
from loralab.artifacts.load import load_tokenizer
from loralab.serve.batcher import BatchSettings, MicroBatcher
from loralab.serve.errors import PayloadTooLarge
from loralab.serve.limits import ServeLimits
from loralab.serve.metrics import ServeMetrics
from loralab.serve.served_models import ServeModels


@dataclass
class ServeState:
    models: ServeModels
    limits: ServeLimits
    batching: BatchSettings
    metrics: ServeMetrics = field(default_factory=ServeMetrics)
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="model"))
    rank_batcher: MicroBatcher | None = None
    classify_batcher: MicroBatcher | None = None
    search: object | None = None  # a serve.search.SearchService when the server has --index
    ready: bool = False  # models warmed up (first forward done): /ready answers 200 from then on
    warm_up_error: str | None = None

    def __post_init__(self):
        # Fast tokenizers are not safe to share across threads ("Already borrowed"): the event loop
        # counts tokens with its own copy while the model thread uses the ranker's.
        self._ranker_counter = load_tokenizer(self.models.ranker.config.model)
        classifier = self.models.classifier
        self._classifier_counter = load_tokenizer(classifier.config.model) if classifier is not None else None

    async def start(self) -> None:
        def batcher(run):
            return MicroBatcher(run, self.batching, self.limits.max_queue, self.executor, self.metrics.on_batch)

        self.rank_batcher = batcher(self.models.score_pairs)
        self.classify_batcher = batcher(self.models.classify)
        self.rank_batcher.start()
        self.classify_batcher.start()
        if self.search is not None:
            await asyncio.get_running_loop().run_in_executor(self.executor, self.search.open)
        # In the background, so liveness (/health) answers while a slow first forward (e.g. a torchao int8
        # compile) runs; requests that arrive meanwhile queue behind it on the one model thread.
        self._warm_up_task = asyncio.get_running_loop().create_task(self._warm_up())

    async def _warm_up(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self.executor, self.models.warm_up)
        except Exception as exc:  # noqa: BLE001 - reported by /ready; the process stays up to say why
            self.warm_up_error = f"{type(exc).__name__}: {exc}"
            return
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        for b in (self.rank_batcher, self.classify_batcher):
            if b is not None:
                await b.stop()
        if self.search is not None:
            await asyncio.get_running_loop().run_in_executor(self.executor, self.search.close)
        self.executor.shutdown(wait=False, cancel_futures=True)

    @property
    def queue_depth(self) -> int:
        return sum(b.depth for b in (self.rank_batcher, self.classify_batcher) if b is not None)

    @property
    def in_flight(self) -> int:
        return sum(b.running for b in (self.rank_batcher, self.classify_batcher) if b is not None)

    def check_text_lengths(self, texts: dict[str, str]) -> None:
        limit = self.limits.max_text_chars
        for where, text in texts.items():
            if len(text) > limit:
                raise PayloadTooLarge(f"{where}: {len(text)} characters; this server accepts at most {limit} per "
                                      "text (--max-text-chars): shorten or split it")

    def check_count(self, n: int, what: str) -> None:
        if n > self.limits.max_documents:
            raise PayloadTooLarge(
                f"{what}: {n} items; this server accepts at most {self.limits.max_documents} per request "
                "(--max-documents): split the request"
            )

    async def rank(self, model: str | None, query: str, texts: list[str], truncate: bool | None = None) -> list[float]:
        """Library scores, in input order, for `texts` against `query` (micro-batched with other requests)."""
        key = self.models.resolve_ranker(model)
        self.check_count(len(texts), "documents")
        self.check_text_lengths({"query": query, **{f"documents.{i}": t for i, t in enumerate(texts)}})
        self.rank_batcher.ensure_capacity(self.limits.request_timeout_s)
        lengths = self._pair_lengths(query, texts)
        limit = self.models.max_length
        if truncate is False and max(lengths) > limit:
            worst = max(range(len(lengths)), key=lengths.__getitem__)
            raise PayloadTooLarge(
                f"texts.{worst}: query + text is {lengths[worst]} tokens; the model takes at most {limit} "
                "(send truncate=true to cut it)"
            )
        pairs = [(query, Document(id=str(i), text=text)) for i, text in enumerate(texts)]
        capped = [min(n, limit) for n in lengths]
        return await self.rank_batcher.submit(key, pairs, capped, self.limits.request_timeout_s)

    async def classify(self, model: str | None, texts: list[str]) -> tuple[list[str], list[list[float]]]:
        key = self.models.resolve_classifier(model)
        self.check_count(len(texts), "inputs")
        self.check_text_lengths({f"inputs.{i}": t for i, t in enumerate(texts)})
        self.classify_batcher.ensure_capacity(self.limits.request_timeout_s)
        encoded = self._classifier_counter(texts, truncation=False, verbose=False)
        lengths = [min(len(ids), self.models.classifier.config.max_length) for ids in encoded["input_ids"]]
        probs = await self.classify_batcher.submit(key, texts, lengths, self.limits.request_timeout_s)
        return self.models.classifier.labels, probs

    def _pair_lengths(self, query: str, texts: list[str]) -> list[int]:
        tok = self._ranker_counter
        if self.models.ranker_kind in ("cross-encoder", "prompt-pointwise"):  # one input holds query and text
            encoded = tok([query] * len(texts), texts, truncation=False, verbose=False)
        else:
            encoded = tok(texts, truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]


def get_state(request: Request) -> ServeState:
    return request.app.state.serve

