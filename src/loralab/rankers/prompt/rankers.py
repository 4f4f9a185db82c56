"""Prompt-based rankers: pointwise yes/no log-probabilities, listwise RankGPT sliding window, generative 0-1 rating.

Each holds a template, a backend (local model or OpenAI-compatible server) and a `UsageLog`; `report()` gives the
tokens per query, failures, repairs and (with token prices) the token cost of 1M queries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from loralab.data.schemas import Document
from loralab.optional import require
from loralab.rankers.prompt.configs import ListwiseConfig, PointwiseConfig, PromptOptions, RatingConfig
from loralab.rankers.prompt.parsing import extract_rating, parse_permutation
from loralab.rankers.prompt.templates import load_template
from loralab.rankers.prompt.usage import Reply, UsageLog

TIE_BREAK = 1e-6  # rating ties keep the first-stage order: a rating moves by less than this in total


def make_backend(config: PromptOptions):
    if config.backend == "openai":
        require("httpx", "serve", "the OpenAI-compatible prompt backend (-o backend=openai)")
        from loralab.rankers.prompt.remote import RemoteBackend

        return RemoteBackend(
            config.base_url, config.model, config.endpoint, config.api_key_env, config.timeout_s,
            config.max_retries, config.backoff_s, config.concurrency, config.top_logprobs,
        )
    from loralab.rankers.prompt.local import LocalBackend

    return LocalBackend(config.model, config.dtype, config.batch_size, config.max_length, config.prefix_cache,
                        config.quantize, config.max_batch_tokens)


def truncate_words(text: str, n: int) -> str:
    words = text.split()
    return text if len(words) <= n else " ".join(words[:n]) + " ..."


class _PromptRanker:
    """What the three modes share: config, template, backend, usage log and the report."""

    def __init__(self, config: PromptOptions):
        config.validate()
        self.config = config
        self.template = load_template(config.template, config.mode)
        self.backend = make_backend(config)
        self.usage = UsageLog()
        self.name = f"{config.kind}:{config.model}"
        self.model_size_bytes = self.backend.model_size_bytes

    def _doc(self, doc: Document) -> str:
        return truncate_words(doc.full_text, self.config.max_doc_words)

    def report(self) -> dict:
        """Columns for a comparison row and notes for the report."""
        summary = self.usage.summary(self.config.price_in_per_1m, self.config.price_out_per_1m)
        notes = [f"prompt template '{self.template.name}' ({self.template.source}), backend {self.backend.name}"]
        if summary["failures"]:
            notes.append(
                f"{summary['failures']} of {summary['calls']} model calls failed and used fallback scores "
                f"({', '.join(f'{k}: {v}' for k, v in sorted(summary['failure_kinds'].items()))})"
            )
        if summary["repairs"]:
            notes.append("permutation repairs: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["repairs"].items())))
        return {"summary": summary, "notes": notes}


def yes_probability(reply: Reply, positive: Sequence[str], negative: Sequence[str]) -> float | None:
    """P(yes) / (P(yes) + P(no)) from the answer token's log-probabilities; from the text when there are none.

    With a server's top-k list only one side may be present: the other is bounded by the smallest listed value.
    """
    pos, neg = {w.strip().lower() for w in positive}, {w.strip().lower() for w in negative}
    if reply.logprobs:
        yes = [lp for tok, lp in reply.logprobs.items() if tok.strip().lower() in pos]
        no = [lp for tok, lp in reply.logprobs.items() if tok.strip().lower() in neg]
        if yes or no:
            floor = min(reply.logprobs.values()) - math.log(2)
            log_yes = _logsumexp(yes) if yes else floor
            log_no = _logsumexp(no) if no else floor
            return 1.0 / (1.0 + math.exp(log_no - log_yes))
    first = re.match(r"\W*(\w*)", reply.text or "").group(1).lower()
    return 1.0 if first in pos else 0.0 if first in neg else None


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


class PointwiseRanker(_PromptRanker):
    def __init__(self, config: PointwiseConfig):
        super().__init__(config)

    def score(self, query: str, docs: Sequence[Document]) -> list[float]:
        self.usage.start_query()
        return self.score_pairs([query] * len(docs), docs)

    def score_pairs(self, queries: Sequence[str], docs: Sequence[Document]) -> list[float]:
        prompts = [self.template.render(query=q, document=self._doc(d)) for q, d in zip(queries, docs)]
        replies = self.backend.next_token(prompts, [*self.template.positive, *self.template.negative])
        scores = []
        for reply in replies:
            self.usage.record(reply)
            p = None if reply.error else yes_probability(reply, self.template.positive, self.template.negative)
            if p is None and not reply.error:
                self.usage.fail("no_yes_no", f"answer without yes/no: {reply.text!r}")
            scores.append(self.config.fallback_score if p is None else p)
        return scores


def sliding_windows(n: int, window: int, step: int) -> list[tuple[int, int]]:
    """RankGPT's windows, back to front, so the best documents bubble up to the top: [(start, end), ...]."""
    if n == 0:
        return []
    end, start, out = n, max(0, n - window), []
    while True:
        out.append((start, end))
        if start == 0:
            return out
        end, start = end - step, max(0, start - step)


class ListwiseRanker(_PromptRanker):
    def __init__(self, config: ListwiseConfig):
        super().__init__(config)

    def score(self, query: str, docs: Sequence[Document]) -> list[float]:
        """Scores n - rank of the final order (the input order is the first stage's)."""
        self.usage.start_query()
        order = list(range(len(docs)))
        for start, end in sliding_windows(len(docs), self.config.window, self.config.step):
            ids = order[start:end]
            order[start:end] = [ids[j] for j in self._rank_window(query, [docs[i] for i in ids])]
        scores = [0.0] * len(docs)
        for rank, i in enumerate(order):
            scores[i] = float(len(docs) - rank)
        return scores

    def _rank_window(self, query: str, docs: list[Document]) -> list[int]:
        """A permutation of range(len(docs)); the identity when the answer is unusable (a recorded failure)."""
        passages = self.template.passages([self._doc(d) for d in docs])
        prompt = self.template.render(query=query, num=len(docs), passages=passages)
        max_new = self.config.max_new_tokens or 6 * len(docs) + 8
        reply = self.backend.generate([prompt], max_new)[0]
        self.usage.record(reply)
        if reply.error:
            return list(range(len(docs)))
        perm = parse_permutation(reply.text, len(docs))
        if perm.failed:
            self.usage.fail("no_permutation", f"answer without passage ids: {reply.text[:200]!r}")
            return list(range(len(docs)))
        self.usage.repairs.update(perm.repairs)
        return perm.order


class RatingRanker(_PromptRanker):
    def __init__(self, config: RatingConfig):
        super().__init__(config)

    def score(self, query: str, docs: Sequence[Document]) -> list[float]:
        """The extracted 0-1 rating (fallback_score when none); ties keep the first-stage order."""
        self.usage.start_query()
        prompts = [self.template.render(query=query, document=self._doc(d)) for d in docs]
        replies = self.backend.generate(prompts, self.config.max_new_tokens)
        scores = []
        for position, reply in enumerate(replies):
            self.usage.record(reply)
            value = None
            if not reply.error:
                rating = extract_rating(reply.text)
                value = rating.value
                if value is None:
                    self.usage.fail(rating.error, f"{rating.error}: {reply.text!r}")
            base = self.config.fallback_score if value is None else value
            scores.append(base + TIE_BREAK * (len(docs) - position) / max(len(docs), 1))
        return scores
