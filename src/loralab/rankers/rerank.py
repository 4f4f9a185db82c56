"""Re-rank a dataset's candidates query by query, timing each query as a serving system would see it."""

from __future__ import annotations

import time

from tqdm.auto import tqdm

from loralab.data.schemas import RerankDataset, Ranking
from loralab.errors import DataError
from loralab.eval.profile import LatencyProfile
from loralab.progress import report
from loralab.rankers.base import Ranker


def rerank_dataset(ranker: Ranker, dataset: RerankDataset, show_progress: bool = True) -> tuple[Ranking, LatencyProfile]:
    """Score every query's candidates with `ranker`; returns the Ranking and per-query latency stats.

    For rankers with `warm_up` (local models), the first query is scored once untimed before the timed pass, as
    a server is warmed before it takes traffic: one-off costs (torch.compile, oneDNN kernel creation) would
    otherwise be billed to it. Their time is kept as `warmup_seconds`."""
    if dataset.candidates is None:
        raise DataError(f"dataset '{dataset.name}' has no candidates to re-rank; retrieve them first")
    ranking = Ranking()
    latencies: list[float] = []
    pairs = 0
    qids = [q for q in dataset.candidates.query_ids if q in dataset.queries]

    def candidates(qid: str) -> tuple[list[str], list]:
        docids = [d for d, _ in dataset.candidates.ranked(qid)]
        return docids, [dataset.corpus[d] for d in docids]

    warmup = 0.0
    if qids and getattr(ranker, "warm_up", False):
        start = time.perf_counter()
        ranker.score(dataset.queries[qids[0]], candidates(qids[0])[1])
        warmup = time.perf_counter() - start
        for part in (ranker, *getattr(ranker, "members", ())):  # an ensemble's members keep their own
            if hasattr(part, "documents"):  # else the timed pass would find the warm-up query's documents encoded
                part.documents.clear()
    for done, qid in enumerate(tqdm(qids, desc=f"rerank {ranker.name}", unit="query", disable=not show_progress)):
        report(done, len(qids), "query")
        docids, docs = candidates(qid)
        start = time.perf_counter()
        scores = ranker.score(dataset.queries[qid], docs)
        latencies.append(time.perf_counter() - start)
        pairs += len(docs)
        ranking.add(qid, dict(zip(docids, scores)))
    report(len(qids), len(qids), "query")
    return ranking, LatencyProfile.from_latencies(latencies, pairs, warmup)
