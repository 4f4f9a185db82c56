"""Ranking metrics via ir-measures (pytrec_eval underneath: trec_eval's own numbers, in C).

ir-measures rather than ranx: ranx JIT-compiles with numba on every new process (20-30 s here), which
would dominate every `loralab eval` call; pytrec_eval gives identical values in milliseconds.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import ir_measures
from ir_measures import AP, RR, R, nDCG

from loralab.data.schemas import Qrels, Ranking
from loralab.errors import DataError


@dataclass
class Metrics:
    """Every evaluation returns this: named values plus which one decides and in which direction."""

    values: dict[str, float]
    primary: str
    greater_is_better: bool = True
    num_queries: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def primary_value(self) -> float:
        return self.values[self.primary]

    def to_dict(self) -> dict:
        return asdict(self)


def ranking_measures(relevance_level: int) -> dict[str, object]:
    """NDCG uses graded gains; binary metrics count grade >= relevance_level (2 on TREC DL, 1 on BEIR)."""
    rel = relevance_level
    return {
        "ndcg@10": nDCG @ 10,
        "mrr@10": RR(rel=rel) @ 10,
        "recall@100": R(rel=rel) @ 100,
        "map@100": AP(rel=rel) @ 100,
    }


def evaluate_ranking(ranking: Ranking, qrels: Qrels, relevance_level: int = 1) -> Metrics:
    """trec_eval semantics: averaged over queries that are both judged and ranked."""
    judged = [q for q in ranking.query_ids if q in qrels]
    if not judged:
        raise DataError(
            "no query in the run has judgments in the qrels: check that the run and the dataset match "
            f"(run queries e.g. {ranking.query_ids[:3]}, qrels queries e.g. {list(qrels)[:3]})"
        )
    notes = []
    unjudged_missing = [q for q in qrels if q not in ranking.scores]
    if unjudged_missing:
        notes.append(f"{len(unjudged_missing)} judged queries are missing from the run and were not averaged")
        warnings.warn(notes[-1], stacklevel=2)
    measures = ranking_measures(relevance_level)
    run = {q: ranking.scores[q] for q in judged}
    sub_qrels = {q: qrels[q] for q in judged}
    raw = ir_measures.calc_aggregate(list(measures.values()), sub_qrels, run)
    values = {name: float(raw.get(measure, 0.0)) for name, measure in measures.items()}
    return Metrics(values=values, primary="ndcg@10", greater_is_better=True, num_queries=len(judged), notes=notes)


def per_query_ranking(ranking: Ranking, qrels: Qrels, relevance_level: int = 1) -> dict[str, dict[str, float]]:
    """metric -> {query id: value}, over the same judged-and-ranked queries `evaluate_ranking` averages."""
    measures = ranking_measures(relevance_level)
    names = {measure: name for name, measure in measures.items()}
    judged = [q for q in ranking.query_ids if q in qrels]
    run = {q: ranking.scores[q] for q in judged}
    out: dict[str, dict[str, float]] = {name: {q: 0.0 for q in judged} for name in measures}
    for metric in ir_measures.iter_calc(list(measures.values()), {q: qrels[q] for q in judged}, run):
        out[names[metric.measure]][metric.query_id] = float(metric.value)
    return out
