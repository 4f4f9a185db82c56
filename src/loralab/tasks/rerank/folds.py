"""Fixed query folds for cross-fitting: a model trained from data outside fold k's candidate pools scores fold k."""

from __future__ import annotations

from loralab.data.schemas import RerankDataset
from loralab.errors import ConfigError


def fold_query_ids(dataset: RerankDataset, folds: int, fold: int) -> list[str]:
    """Fold `fold` of the judged queries sorted by id, cut into `folds` contiguous parts (the first get one more)."""
    if not 0 <= fold < folds:
        raise ConfigError(f"fold must be in [0, {folds}), got {fold}")
    qids = sorted(q for q in dataset.queries if q in dataset.qrels)
    size, extra = divmod(len(qids), folds)
    start = fold * size + min(fold, extra)
    return qids[start : start + size + (fold < extra)]


def restrict(dataset: RerankDataset, qids: list[str]) -> RerankDataset:
    """The dataset with only these queries (corpus shared)."""
    return RerankDataset(
        name=dataset.name, corpus=dataset.corpus, queries={q: dataset.queries[q] for q in qids},
        qrels={q: dataset.qrels[q] for q in qids if q in dataset.qrels}, relevance_level=dataset.relevance_level,
        candidates=dataset.candidates.restrict(qids) if dataset.candidates else None, files=dataset.files,
    )
