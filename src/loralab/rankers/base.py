"""The Ranker protocol and the one result type, `Ranking` (defined in data.schemas, the lowest floor)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from loralab.data.schemas import Document, Ranking

__all__ = ["Ranker", "Ranking", "Document", "PAIRWISE_KINDS", "distinct_rows"]

# Kinds whose `score_pairs` scores each (query, document) pair on its own, whatever else is in the batch (what a
# server that batches concurrent requests needs). Listwise and rating prompts rank one query's documents together
# (or generate), so they have no such method.
PAIRWISE_KINDS = ("cross-encoder", "bi-encoder", "splade", "prompt-pointwise")


def distinct_rows(texts) -> tuple[list[str], list[int]]:
    """(each distinct text once, in first-seen order; the row of every input text in that list): what a pair scorer
    encodes once per batch, since a batch of several queries' candidates repeats queries and documents."""
    row_of = {text: row for row, text in enumerate(dict.fromkeys(texts))}
    return list(row_of), [row_of[text] for text in texts]


class Ranker(Protocol):
    """Scores candidate documents for one query; higher is more relevant."""

    name: str
    # Local models set this: `rerank_dataset` then scores the first query once, untimed, before timing (compile
    # and kernel set-up are one-off costs). Prompt rankers leave it off: a warm-up would be a second paid call.
    warm_up: bool = False

    def score(self, query: str, docs: Sequence[Document]) -> list[float]: ...
