"""The re-ranking task: candidates in, a Ranking out, scored by NDCG@10 (primary), MRR@10, Recall@100, MAP@100."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from loralab.data.registry import load_rerank_dataset
from loralab.data.schemas import Ranking, RerankDataset
from loralab.data.trec import write_run
from loralab.errors import ConfigError
from loralab.eval.metrics import evaluate_ranking, per_query_ranking
from loralab.eval.profile import peak_rss_bytes
from loralab.eval.result import EvalResult
from loralab.artifacts.load import resolve_model
from loralab.models.backbones import model_size_on_disk
from loralab.rankers.registry import build_ranker, config_to_dict, ranker_config
from loralab.rankers.rerank import rerank_dataset
from loralab.retrieval.bm25 import with_bm25_candidates
from loralab.retrieval.hybrid import check_interpolate, weighted_fusion
from loralab.artifacts.run_folder import RunFolder

FIRST_STAGE = "bm25"  # the dataset's own candidate list, evaluated as given


def load_task_dataset(
    name_or_path: str, max_queries: int | None = None, max_candidates: int | None = None
) -> RerankDataset:
    """A re-ranking dataset with candidates (BM25 top-100 via bm25s when it ships none), optionally limited."""
    dataset = with_bm25_candidates(load_rerank_dataset(name_or_path))
    if max_queries or max_candidates:
        dataset = dataset.limited(max_queries, max_candidates)
    return dataset


def run_ranker(
    dataset: RerankDataset, ranker: str, show_progress: bool = True, interpolate: float | None = None, **options: Any
) -> EvalResult:
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
    result = EvalResult(
        "rerank", None, config, latency=latency, throughput=latency.pairs_per_second if latency else None,
        throughput_unit="pairs/s", peak_rss_bytes=peak_rss_bytes(), size_bytes=size, notes=notes,
        extra={"usage": usage} if usage else {}, outputs=ranking,
    )
    result = scored(result, dataset)
    return result if interpolate is None else with_first_stage(result, dataset, interpolate)


def scored(result: EvalResult, dataset: RerankDataset) -> EvalResult:
    """`result` with its ranking's metrics and per-query scores against the dataset's qrels (when it has any)."""
    if not dataset.qrels:
        return dataclasses.replace(result, metrics=None, per_example={})
    level = dataset.relevance_level
    return dataclasses.replace(result, metrics=evaluate_ranking(result.outputs, dataset.qrels, level),
                               per_example=per_query_ranking(result.outputs, dataset.qrels, level))


def with_first_stage(result: EvalResult, dataset: RerankDataset, alpha: float) -> EvalResult:
    """`result` blended with the dataset's first-stage scores (same latency: the blend costs microseconds)."""
    check_interpolate(alpha)
    ranking = weighted_fusion(result.outputs, dataset.candidates.restrict(result.outputs.query_ids), alpha=alpha)
    note = f"scores interpolated with the first stage: {alpha:g} x re-ranker + {1 - alpha:g} x first stage (min-max per query)"
    blended = dataclasses.replace(
        result, outputs=ranking, config={**result.config, "interpolate": alpha}, notes=[*result.notes, note],
    )
    return scored(blended, dataset)


def save_result(result: EvalResult, dataset: RerankDataset, runs_root: Path, name: str) -> RunFolder:
    """Run folder with manifest, metrics.json (per-query scores included) and the ranking as a TREC run file."""
    folder = RunFolder.create(runs_root, name)
    config = {"task": "rerank", "dataset": dataset.name, "num_queries": len(dataset.queries), **result.config}
    folder.write_manifest(config, dataset.files)
    write_run(result.outputs, folder.path / "ranking.trec", tag=str(result.config.get("ranker", "loralab")))
    folder.write_metrics(result.to_dict())
    return folder


def run_crossfit(dataset: RerankDataset, ranker: str, models: list[str], show_progress: bool = True,
                 interpolate: float | None = None, **options: Any) -> EvalResult:
    """Cross-fitting: with N models, fold k of N (`folds.fold_query_ids`) is re-ranked by models[k] and the folds'
    rankings are scored together. Each model must have been trained without fold k's passages (the label-free
    chain's `holdout`), so no query is scored by a model that saw its candidates."""
    from loralab.tasks.rerank.folds import fold_query_ids, restrict

    if len(models) < 2:
        raise ConfigError("cross-fitting needs one model per fold, at least two")
    if ranker == FIRST_STAGE:
        raise ConfigError("cross-fitting re-ranks with trained models; ranker 'bm25' has none")
    parts = []
    for k, model in enumerate(models):
        part = restrict(dataset, fold_query_ids(dataset, len(models), k))
        parts.append(run_ranker(part, ranker, show_progress=show_progress, model=model, **options))
    merged = Ranking()
    for part in parts:
        merged.scores.update(part.outputs.scores)
    latencies = [p.latency for p in parts]
    pairs, seconds = sum(l.num_pairs for l in latencies), sum(l.total_seconds for l in latencies)
    notes = [f"cross-fitted: fold {k + 1}/{len(models)} ({p.latency.num_queries} queries) re-ranked by {m}"
             for k, (p, m) in enumerate(zip(parts, models))]
    result = EvalResult(
        "rerank", None, {**parts[0].config, "model": None, "crossfit": list(models)}, throughput=pairs / seconds,
        throughput_unit="pairs/s", peak_rss_bytes=peak_rss_bytes(), size_bytes=parts[0].size_bytes,
        notes=list(dict.fromkeys(notes + [n for p in parts for n in p.notes])), outputs=merged,
    )
    result = scored(result, dataset)
    return result if interpolate is None else with_first_stage(result, dataset, interpolate)
