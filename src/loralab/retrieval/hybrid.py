"""Fusing rankings: min-max-normalized weighted sum (alpha) and reciprocal rank fusion.

Hand-written rather than ranx's `fuse`: ranx JIT-compiles its kernels with numba in every new process
(20-30 s on these machines, measured), which would dominate every `loralab search`; both fusions are a few
lines and give the same numbers (ranx's `wsum` with `norm="min-max"` and `rrf` with k=60).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from loralab.data.schemas import Ranking
from loralab.errors import ConfigError

FUSIONS = ("rrf", "weighted")


@dataclass(frozen=True)
class FusionConfig:
    method: str = "rrf"
    alpha: float = 0.5  # weighted: weight of the dense scores; BM25 gets 1 - alpha
    rrf_k: int = 60  # RRF's damping constant (Cormack et al. 2009)

    def __post_init__(self) -> None:
        if self.method not in FUSIONS:
            raise ConfigError(f"unknown fusion '{self.method}'; choose one of: {', '.join(FUSIONS)}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ConfigError(f"fusion alpha must be in [0, 1], got {self.alpha}")

    def to_dict(self) -> dict:
        return asdict(self)


def min_max(scores: dict[str, float]) -> dict[str, float]:
    """Scores mapped to [0, 1] per query; a single or constant list maps to 1 (all equally the best)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return {d: 1.0 for d in scores}
    return {d: (s - low) / (high - low) for d, s in scores.items()}


def check_interpolate(alpha: float) -> None:
    """A re-ranker/first-stage blend weight must be a weight."""
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"interpolate must be between 0 and 1 (weight of the re-ranker), got {alpha}")


def weighted_fusion(dense: Ranking, sparse: Ranking, alpha: float = 0.5) -> Ranking:
    """alpha * norm(dense) + (1 - alpha) * norm(sparse); a document missing from one list gets 0 there."""
    fused = Ranking()
    for qid in dict.fromkeys([*dense.query_ids, *sparse.query_ids]):
        d, s = min_max(dense.scores.get(qid, {})), min_max(sparse.scores.get(qid, {}))
        fused.add(qid, {doc: alpha * d.get(doc, 0.0) + (1 - alpha) * s.get(doc, 0.0) for doc in {*d, *s}})
    return fused


def rrf_fusion(rankings: list[Ranking], k: int = 60) -> Ranking:
    """Sum over rankings of 1 / (k + rank), rank starting at 1; scale-free, so no normalization is needed."""
    fused = Ranking()
    qids = dict.fromkeys(q for r in rankings for q in r.query_ids)
    for qid in qids:
        scores: dict[str, float] = {}
        for ranking in rankings:
            for rank, (doc, _) in enumerate(ranking.ranked(qid), start=1):
                scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
        fused.add(qid, scores)
    return fused


def fuse(dense: Ranking, sparse: Ranking, config: FusionConfig = FusionConfig()) -> Ranking:
    if config.method == "rrf":
        return rrf_fusion([dense, sparse], k=config.rrf_k)
    return weighted_fusion(dense, sparse, alpha=config.alpha)


def pool_to_documents(chunks: Ranking, doc_of: dict[str, str], k: int | None = None) -> Ranking:
    """Per query, each document's best chunk score (max pooling), optionally cut to the top k documents."""
    pooled = Ranking()
    for qid, scores in chunks.scores.items():
        best: dict[str, float] = {}
        for chunk_id, score in scores.items():
            doc = doc_of.get(chunk_id)
            if doc is not None and score > best.get(doc, float("-inf")):
                best[doc] = score
        pooled.add(qid, best)
    return pooled.top(k) if k else pooled
