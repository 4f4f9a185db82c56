"""The re-ranking task: candidates in, a Ranking out, scored by NDCG@10 (primary), MRR@10, Recall@100, MAP@100."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loralab.data.registry import load_rerank_dataset
from loralab.data.schemas import RerankDataset, Ranking
from loralab.data.trec import write_run
from loralab.errors import ConfigError
from loralab.eval.metrics import Metrics, evaluate_ranking
from loralab.eval.profile import LatencyProfile, peak_rss_bytes
from loralab.models.load import model_size_on_disk, resolve_model
from loralab.rankers.registry import build_ranker, config_to_dict, ranker_config
from loralab.rankers.rerank import rerank_dataset
from loralab.retrieval.bm25 import with_bm25_candidates
from loralab.retrieval.hybrid import check_interpolate, weighted_fusion
from loralab.runs import RunFolder

FIRST_STAGE = "bm25"  # the dataset's own candidate list, evaluated as given


def load_task_dataset(
    name_or_path: str, max_queries: int | None = None, max_candidates: int | None = None
) -> RerankDataset:
    """A re-ranking dataset with candidates (BM25 top-100 via bm25s when it ships none), optionally limited."""
    dataset = with_bm25_candidates(load_rerank_dataset(name_or_path))
    if max_queries or max_candidates:
        dataset = dataset.limited(max_queries, max_candidates)
    return dataset


@dataclass
class RerankResult:
    ranking: Ranking
    metrics: Metrics | None
    config: dict[str, Any]
    latency: LatencyProfile | None = None
    model_size_bytes: int | None = None
    peak_rss_bytes: int = 0
    notes: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None  # prompt rankers: tokens per query, failures, repairs, token cost

    def summary(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "metrics": self.metrics.to_dict() if self.metrics else None,
            "latency": self.latency.to_dict() if self.latency else None,
            "model_size_bytes": self.model_size_bytes,
            "peak_rss_bytes": self.peak_rss_bytes,
            "notes": self.notes,
            **({"usage": self.usage} if self.usage else {}),
        }


def run_ranker(
    dataset: RerankDataset, ranker: str, show_progress: bool = True, interpolate: float | None = None, **options: Any
) -> RerankResult:
    """Re-rank `dataset` with the named ranker (or evaluate its first stage for `bm25`) and score it.

    `interpolate` = alpha blends the re-ranker with the first stage, alpha * reranker + (1 - alpha) * first stage,
    both min-max normalised per query: the standard remedy when a re-ranker trained on little data loses
    lexical-match signal BM25 still has (Abolghasemi et al., 2022, "BM25 interpolation for cross-encoders").
    """
    if interpolate is not None:
        check_interpolate(interpolate)
    if ranker == FIRST_STAGE:
        if interpolate is not None:
            raise ConfigError("interpolate blends a re-ranker with the first stage; ranker 'bm25' is the first stage")
        if options:
            raise ConfigError(f"ranker 'bm25' (the first-stage run as given) takes no options, got {sorted(options)}")
        ranking, latency, size, config = dataset.candidates, None, None, {"ranker": FIRST_STAGE}
        notes = ["first-stage candidates evaluated as given: no re-ranking latency measured"]
        usage = None
    else:
        ranker_cfg = ranker_config(ranker, **options)
        model = build_ranker(ranker_cfg)
        ranking, latency = rerank_dataset(model, dataset, show_progress=show_progress)
        config = config_to_dict(ranker_cfg)
        report = model.report() if hasattr(model, "report") else {}  # prompt rankers: usage and notes
        # prompt and quantized rankers know their own size (a model behind a remote server has none on this disk)
        size = model.model_size_bytes if hasattr(model, "model_size_bytes") else model_size_on_disk(
            resolve_model(ranker_cfg.model))
        notes = ["cross-encoder head is untrained (random)"] if getattr(model, "head_is_new", False) else []
        usage, notes = report.get("summary"), notes + report.get("notes", [])
    metrics = evaluate_ranking(ranking, dataset.qrels, dataset.relevance_level) if dataset.qrels else None
    result = RerankResult(ranking, metrics, config, latency, size, peak_rss_bytes(), notes, usage)
    return result if interpolate is None else with_first_stage(result, dataset, interpolate)


def with_first_stage(result: RerankResult, dataset: RerankDataset, alpha: float) -> RerankResult:
    """`result` blended with the dataset's first-stage scores (same latency: the blend costs microseconds)."""
    check_interpolate(alpha)
    ranking = weighted_fusion(result.ranking, dataset.candidates.restrict(result.ranking.query_ids), alpha=alpha)
    metrics = evaluate_ranking(ranking, dataset.qrels, dataset.relevance_level) if dataset.qrels else None
    note = f"scores interpolated with the first stage: {alpha:g} x re-ranker + {1 - alpha:g} x first stage (min-max per query)"
    return dataclasses.replace(
        result, ranking=ranking, metrics=metrics, config={**result.config, "interpolate": alpha},
        notes=[*result.notes, note],
    )


def save_result(result: RerankResult, dataset: RerankDataset, runs_root: Path, name: str) -> RunFolder:
    """Run folder with manifest, metrics.json and the ranking as a TREC run file."""
    folder = RunFolder.create(runs_root, name)
    config = {"task": "rerank", "dataset": dataset.name, "num_queries": len(dataset.queries), **result.config}
    folder.write_manifest(config, dataset.files)
    write_run(result.ranking, folder.path / "ranking.trec", tag=str(result.config.get("ranker", "loralab")))
    folder.write_metrics(result.summary())
    return folder
