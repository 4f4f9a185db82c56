"""The Ranker protocol and the one result type, `Ranking` (defined in data.schemas, the lowest floor)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from loralab.data.schemas import Document, Ranking

__all__ = ["Ranker", "Ranking", "Document"]


class Ranker(Protocol):
    """Scores candidate documents for one query; higher is more relevant."""

    name: str

    def score(self, query: str, docs: Sequence[Document]) -> list[float]: ...
