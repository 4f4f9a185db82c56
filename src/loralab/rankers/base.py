"""The Ranker protocol and the one result type, `Ranking` (defined in data.schemas, the lowest floor)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from loralab.data.schemas import Document, Ranking

__all__ = ["Ranker", "Ranking", "Document", "PAIRWISE_KINDS"]

# Kinds whose `score_pairs` scores each (query, document) pair on its own, whatever else is in the batch (what a
# server that batches concurrent requests needs). Listwise and rating prompts rank one query's documents together
# (or generate), so they have no such method.
PAIRWISE_KINDS = ("cross-encoder", "bi-encoder", "splade", "prompt-pointwise")


class Ranker(Protocol):
    """Scores candidate documents for one query; higher is more relevant."""

    name: str
    # Local models set this: `rerank_dataset` then scores the first query once, untimed, before timing (compile
    # and kernel set-up are one-off costs). Prompt rankers leave it off: a warm-up would be a second paid call.
    warm_up: bool = False

    def score(self, query: str, docs: Sequence[Document]) -> list[float]: ...
