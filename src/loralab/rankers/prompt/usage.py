"""What prompting cost and what went wrong: tokens in/out, calls, failures and repairs, per query."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Reply:
    """One model answer. `logprobs`: next-token alternatives at the first answer position (token -> log-prob)."""

    text: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    logprobs: dict[str, float] | None = None
    error: str | None = None  # set when the call failed for good (after retries); the ranker falls back


@dataclass
class UsageLog:
    """Accumulates over a ranker's lifetime; `start_query` opens a new per-query record."""

    queries: int = 0
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    failures: Counter = field(default_factory=Counter)  # kind -> count (calls that needed a fallback)
    repairs: Counter = field(default_factory=Counter)  # listwise permutation repairs by kind
    examples: list[str] = field(default_factory=list)  # the first few failure messages, for the report

    def start_query(self) -> None:
        self.queries += 1

    def record(self, reply: Reply) -> None:
        self.calls += 1
        self.tokens_in += reply.tokens_in
        self.tokens_out += reply.tokens_out
        if reply.error:
            self.fail(reply.error.split(":", 1)[0], reply.error)

    def fail(self, kind: str, message: str = "") -> None:
        self.failures[kind] += 1
        if message and len(self.examples) < 5:
            self.examples.append(message[:300])

    def summary(self, price_in_per_1m: float | None = None, price_out_per_1m: float | None = None) -> dict:
        """Per-query means; with token prices (USD per 1M tokens) also the token cost of 1M queries."""
        per_query = max(self.queries, 1)
        out = {
            "queries": self.queries,
            "calls": self.calls,
            "calls_per_query": self.calls / per_query,
            "tokens_in_per_query": self.tokens_in / per_query,
            "tokens_out_per_query": self.tokens_out / per_query,
            "failures": sum(self.failures.values()),
            "failure_kinds": dict(self.failures),
            "repairs": dict(self.repairs),
            "failure_examples": list(self.examples),
        }
        if price_in_per_1m is not None or price_out_per_1m is not None:
            # 1M queries x (tokens/query) x (USD per 1M tokens) / 1M = tokens/query x USD per 1M tokens
            out["token_cost_per_1m"] = (
                out["tokens_in_per_query"] * (price_in_per_1m or 0.0)
                + out["tokens_out_per_query"] * (price_out_per_1m or 0.0)
            )
        return out
