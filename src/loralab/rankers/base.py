"""The Ranker protocol and the one result type, `Ranking` (defined in data.schemas, the lowest floor)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from loralab.data.schemas import Document, Ranking

__all__ = ["Ranker", "Ranking", "Document", "PAIRWISE_KINDS", "distinct_rows", "DocumentCache"]

# Kinds whose `score_pairs` scores each (query, document) pair on its own, whatever else is in the batch (what a
# server that batches concurrent requests needs). Listwise and rating prompts rank one query's documents together
# (or generate), so they have no such method.
PAIRWISE_KINDS = ("cross-encoder", "bi-encoder", "splade", "prompt-pointwise")


def distinct_rows(texts) -> tuple[list[str], list[int]]:
    """(each distinct text once, in first-seen order; the row of every input text in that list): what a pair scorer
    encodes once per batch, since a batch of several queries' candidates repeats queries and documents."""
    row_of = {text: row for row, text in enumerate(dict.fromkeys(texts))}
    return list(row_of), [row_of[text] for text in texts]


class DocumentCache:
    """Document vectors already computed, keyed by text, for rankers that encode a document without its query
    (bi-encoder, SPLADE). A corpus's passages recur across queries (SciFact's 30,000 BM25 top-100 pairs hold
    about 5,000 abstracts; a label-free chain scores each passage for many queries), so each is encoded once.
    Holds at most `limit` vectors; past that, new documents are encoded every time."""

    def __init__(self, limit: int):
        self.limit, self.vectors = limit, {}

    def rows(self, texts: Sequence[str], encode) -> list:
        """One vector per text (as `encode` returns them: indexable rows), encoding only the texts not cached."""
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        fresh = {}
        if missing:
            encoded = encode(missing)
            fresh = {t: encoded[i] for i, t in enumerate(missing)}
            if len(self.vectors) + len(fresh) <= self.limit:
                self.vectors.update(fresh)
        return [self.vectors[t] if t in self.vectors else fresh[t] for t in texts]

    def clear(self) -> None:
        self.vectors.clear()


class Ranker(Protocol):
    """Scores candidate documents for one query; higher is more relevant."""

    name: str
    # Local models set this: `rerank_dataset` then scores the first query once, untimed, before timing (compile
    # and kernel set-up are one-off costs). Prompt rankers leave it off: a warm-up would be a second paid call.
    warm_up: bool = False

    def score(self, query: str, docs: Sequence[Document]) -> list[float]: ...
