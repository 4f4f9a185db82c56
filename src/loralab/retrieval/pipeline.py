"""Retrieve k documents from an index, re-rank them with any loralab ranker, keep the top n."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from loralab.data.schemas import RerankDataset, Ranking
from loralab.errors import ConfigError
from loralab.eval.metrics import evaluate_ranking, per_query_ranking
from loralab.eval.profile import LatencyProfile
from loralab.eval.result import EvalResult
from loralab.rankers.base import Ranker
from loralab.retrieval.hybrid import FusionConfig, check_interpolate, weighted_fusion
from loralab.retrieval.index import RetrievalIndex
from loralab.retrieval.vector_store import Where


@dataclass
class PipelineResult:
    retrieved: Ranking  # first stage, top k
    final: Ranking  # re-ranked top n (the retrieved top n when there is no re-ranker)
    latency: LatencyProfile | None = None  # re-ranking only


def retrieve_and_rerank(
    index: RetrievalIndex, queries: dict[str, str], ranker: Ranker | None = None, mode: str = "hybrid",
    k: int = 100, n: int = 10, fusion: FusionConfig = FusionConfig(), where: Where | None = None,
    rerank_k: int | None = None, show_progress: bool = False, interpolate: float | None = None,
) -> PipelineResult:
    """The RAG read path: documents come back from the index's own store, so nothing else has to be loaded.

    `rerank_k` re-ranks only the first-stage top `rerank_k` (the costly part) and keeps the rest below them
    in first-stage order, so recall@k is unchanged while the head is re-ordered. `interpolate` (alpha) blends the
    re-ranker's scores with the first stage's: alpha x re-ranker + (1 - alpha) x first stage, min-max per query.
    """
    if n > k:
        raise ConfigError(f"cannot keep top n={n} of only k={k} retrieved documents; use n <= k")
    retrieved = index.search(queries, mode=mode, k=k, fusion=fusion, where=where)
    if ranker is None:
        return PipelineResult(retrieved, retrieved.top(n))
    head = retrieved.top(rerank_k) if rerank_k else retrieved
    doc_ids = sorted({d for scores in head.scores.values() for d in scores})
    dataset = RerankDataset(
        name=str(index.folder), corpus=index.documents(doc_ids), queries=queries, qrels={}, candidates=head
    )
    from loralab.rankers.rerank import rerank_dataset

    reranked, latency = rerank_dataset(ranker, dataset, show_progress=show_progress)
    if interpolate is not None:
        check_interpolate(interpolate)
        reranked = weighted_fusion(reranked, head, alpha=interpolate)
    if rerank_k:
        reranked = _append_tail(reranked, retrieved, rerank_k)
    return PipelineResult(retrieved, reranked.top(n), latency)


def _append_tail(reranked: Ranking, retrieved: Ranking, rerank_k: int) -> Ranking:
    """Documents past `rerank_k` keep their first-stage order, scored just below the lowest re-ranked one."""
    out = Ranking()
    for qid in retrieved.query_ids:
        head = dict(reranked.scores.get(qid, {}))
        floor = min(head.values(), default=0.0)
        tail = [d for d, _ in retrieved.ranked(qid)[rerank_k:]]
        out.add(qid, {**head, **{d: floor - 1.0 - i for i, d in enumerate(tail)}})
    return out


def evaluate_pipeline(
    index: RetrievalIndex, dataset: RerankDataset, ranker: Ranker | None = None, mode: str = "hybrid",
    k: int = 100, fusion: FusionConfig = FusionConfig(), rerank_k: int | None = None, show_progress: bool = False,
    interpolate: float | None = None,
) -> EvalResult:
    """NDCG@10, Recall@100, ... of the final list (re-ranked, with a ranker), per query; the retrieval-only
    metrics are kept in `extra["retrieved"]` when a ranker re-ranked them."""
    result = retrieve_and_rerank(
        index, dataset.queries, ranker, mode=mode, k=k, n=k, fusion=fusion, rerank_k=rerank_k,
        show_progress=show_progress, interpolate=interpolate,
    )
    level = dataset.relevance_level
    retrieved = evaluate_ranking(result.retrieved, dataset.qrels, level)
    final = evaluate_ranking(result.final, dataset.qrels, level) if ranker is not None else retrieved
    label = mode if mode != "hybrid" else f"hybrid-{fusion.method}" + (
        f"-{fusion.alpha}" if fusion.method == "weighted" else "")
    config = {"mode": label, "k": k, "reranker": getattr(ranker, "name", None), "rerank_k": rerank_k,
              "interpolate": interpolate, "dataset": dataset.name}
    return EvalResult("retrieve", final, config, per_example=per_query_ranking(result.final, dataset.qrels, level),
                      latency=result.latency,
                      extra={"retrieved": retrieved.values} if ranker is not None else {}, outputs=result)


def reranker_from_spec(spec: str, max_length: int = 256, batch_size: int = 32) -> Ranker:
    """`kind:model` (e.g. `bi-encoder:minilm`), a run folder with a manifest, or a model (cross-encoder)."""
    from loralab.rankers.registry import build_ranker, ranker_config, ranker_kinds

    kind, model = "cross-encoder", spec
    prefix, _, rest = spec.partition(":")
    if rest and prefix in ranker_kinds():
        kind, model = prefix, rest
    elif (Path(spec) / "manifest.json").is_file():
        kind, model = _from_run_folder(Path(spec))
    return build_ranker(ranker_config(kind, model=model, max_length=max_length, batch_size=batch_size))


def _from_run_folder(folder: Path) -> tuple[str, str]:
    config = json.loads((folder / "manifest.json").read_text()).get("config", {})
    kind = config.get("ranker")
    if (folder / "model" / "config.json").is_file():
        return kind or "cross-encoder", str(folder / "model")
    if kind and config.get("model"):
        return kind, str(config["model"])
    raise ConfigError(
        f"{folder}: run folder has no model/ and its manifest names no ranker and model; "
        "pass kind:model instead (e.g. cross-encoder:path/to/model)"
    )
