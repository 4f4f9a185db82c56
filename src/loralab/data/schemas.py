"""Typed examples shared by every floor above `data`.

`Ranking` lives here (the lowest floor) because readers return it; `loralab.rankers` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

Qrels = dict[str, dict[str, int]]  # qid -> docid -> graded relevance


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str = ""

    @property
    def full_text(self) -> str:
        """Title and body joined as BEIR models see them."""
        return f"{self.title} {self.text}".strip() if self.title else self.text


@dataclass
class Ranking:
    """Per query, document ids with scores (higher is better). One result type for every ranker."""

    scores: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, qid: str, doc_scores: dict[str, float]) -> None:
        self.scores[qid] = dict(doc_scores)

    def ranked(self, qid: str, k: int | None = None) -> list[tuple[str, float]]:
        """(docid, score) best first; ties broken by docid for determinism (as trec_eval does)."""
        items = sorted(self.scores.get(qid, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        return items if k is None else items[:k]

    def top(self, k: int) -> Ranking:
        return Ranking({qid: dict(self.ranked(qid, k)) for qid in self.scores})

    def restrict(self, qids: set[str] | list[str]) -> Ranking:
        keep = set(qids)
        return Ranking({q: d for q, d in self.scores.items() if q in keep})

    @property
    def query_ids(self) -> list[str]:
        return list(self.scores)

    def __len__(self) -> int:
        return len(self.scores)


@dataclass
class RerankDataset:
    """Queries to re-rank, their candidate documents, and the judgments that score the result."""

    name: str
    corpus: dict[str, Document]
    queries: dict[str, str]
    qrels: Qrels
    relevance_level: int = 1  # minimum grade that binary metrics (MRR, recall, MAP) count as relevant
    candidates: Ranking | None = None
    files: list[Path] = field(default_factory=list)  # source files, hashed into run manifests

    def limited(self, max_queries: int | None = None, max_candidates: int | None = None) -> RerankDataset:
        """A smaller copy for quick runs: the first queries (sorted by id) and/or the top candidates."""
        qids = sorted(self.queries)[:max_queries] if max_queries else sorted(self.queries)
        cands = self.candidates.restrict(qids) if self.candidates else None
        if cands is not None and max_candidates:
            cands = cands.top(max_candidates)
        return RerankDataset(
            name=self.name,
            corpus=self.corpus,
            queries={q: self.queries[q] for q in qids},
            qrels={q: self.qrels[q] for q in qids if q in self.qrels},
            relevance_level=self.relevance_level,
            candidates=cands,
            files=self.files,
        )
