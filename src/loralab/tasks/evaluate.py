"""`evaluate(task, **options) -> EvalResult`: the one scoring entry point, whatever the task.

Each task's evaluator takes keyword options; an option the task does not take is refused here, once, with the
list of those it does take.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from loralab.errors import ConfigError, UnknownNameError
from loralab.eval.result import EvalResult


def evaluate_rerank(data: str, run: str | None = None, ranker: str | None = None, model: str | None = None,
                    options: dict[str, Any] | None = None, limit: int | None = None,
                    limit_candidates: int | None = None, interpolate: float | None = None,
                    max_length: int | None = None, batch_size: int | None = None,
                    quantize: str | None = None) -> EvalResult:
    """Score a TREC run file against the dataset's qrels, or re-rank its candidates with a ranker and score that."""
    from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker, scored

    dataset = load_task_dataset(data, limit, limit_candidates)
    if run is not None:
        if ranker or model or options or quantize or interpolate is not None:
            raise ConfigError("--run scores an existing TREC run file; it takes no --ranker, --model or ranker options")
        from loralab.data.trec import read_run

        ranking = read_run(Path(run))
        result = EvalResult("rerank", None, {"run_file": str(run), "dataset": dataset.name}, outputs=ranking,
                            data_files=[*dataset.files, Path(run)])
        if not dataset.qrels:
            raise ConfigError(f"{data}: has no qrels to score a run against")
        return scored(result, dataset)
    given = {"model": model, "max_length": max_length, "batch_size": batch_size, "quantize": quantize}
    ranker_options = {**(options or {}), **{k: v for k, v in given.items() if v is not None}}
    result = run_ranker(dataset, ranker or "cross-encoder", show_progress=True, interpolate=interpolate,
                        **ranker_options)
    result.data_files = list(dataset.files)
    return result


def evaluate_retrieval(data: str, index_dir: str, mode: str = "hybrid", fusion: str = "rrf", alpha: float = 0.5,
                       k: int = 100, rerank: str | None = None, rerank_k: int | None = None,
                       interpolate: float | None = None, limit: int | None = None,
                       chroma_url: str | None = None) -> EvalResult:
    """Retrieval from an index (and a re-ranker on top) scored on the dataset's queries and qrels."""
    from loralab.data.registry import load_rerank_dataset
    from loralab.retrieval.hybrid import FusionConfig
    from loralab.retrieval.index import RetrievalIndex
    from loralab.retrieval.pipeline import evaluate_pipeline, reranker_from_spec

    dataset = load_rerank_dataset(data)
    dataset = dataset.limited(max_queries=limit) if limit else dataset
    index = RetrievalIndex.open(Path(index_dir), chroma_url=chroma_url)
    try:
        ranker = reranker_from_spec(rerank) if rerank else None
        result = evaluate_pipeline(index, dataset, ranker, mode=mode, k=k, fusion=FusionConfig(fusion, alpha),
                                   rerank_k=rerank_k, show_progress=True, interpolate=interpolate)
    finally:
        index.close()
    result.config |= {"index_dir": str(index_dir), "rerank": rerank}
    result.data_files = list(dataset.files)
    return result


def _classify(data: str, model: str, **options) -> EvalResult:
    from loralab.tasks.classify.evaluate import evaluate_classifier

    return evaluate_classifier(model, data, **options)


def _preference(data: str, model: str, **options) -> EvalResult:
    from loralab.tasks.preference.evaluate import evaluate_preference

    return evaluate_preference(model, data, **options)


def _regress(data: str, model: str | None = None, **options) -> EvalResult:
    from loralab.tasks.regress.evaluate import PriceEvalConfig, evaluate_prices

    return evaluate_prices(PriceEvalConfig(model=model, data=data, **options))


def _sft(data: str, model: str, **options) -> EvalResult:
    from loralab.tasks.sft.evaluate import exact_match

    return exact_match(model, data, **options)


# Parameter names of the functions the wrappers call, as the user spells them.
_RENAMED = {"spec": "model", "model_spec": "model"}


def _options_of(task: str) -> set[str]:
    """The keyword options a task's evaluator takes."""
    import dataclasses

    from loralab.tasks.classify.evaluate import evaluate_classifier
    from loralab.tasks.preference.evaluate import evaluate_preference
    from loralab.tasks.regress.evaluate import PriceEvalConfig
    from loralab.tasks.sft.evaluate import exact_match

    if task == "regress":
        return {f.name for f in dataclasses.fields(PriceEvalConfig)}
    target = {"classify": evaluate_classifier, "preference": evaluate_preference, "sft": exact_match}.get(
        task, EVALUATORS.get(task))
    return {_RENAMED.get(name, name) for name in inspect.signature(target).parameters}


EVALUATORS = {"rerank": evaluate_rerank, "classify": _classify, "preference": _preference, "regress": _regress,
              "sft": _sft, "retrieve": evaluate_retrieval}


def evaluate(task: str, **options: Any) -> EvalResult:
    """Evaluate on `task` with the task's options (None values are dropped: the task's defaults apply)."""
    if task not in EVALUATORS:
        raise UnknownNameError(f"unknown task '{task}'; choose one of: {', '.join(EVALUATORS)}")
    options = {k: v for k, v in options.items() if v is not None}
    valid = _options_of(task)
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ConfigError(f"task {task} takes no option {', '.join(unknown)}; its options: {', '.join(sorted(valid))}")
    if "data" not in options:
        raise ConfigError(f"task {task}: --data is required (a dataset name or folder; see `loralab datasets`)")
    return EVALUATORS[task](**options)


def save_evaluation(result: EvalResult, runs_root: Path, name: str):
    """The run folder of an evaluation: manifest and metrics.json (per-example scores included), plus what the
    task writes beside them (a re-ranking's TREC run; price predictions and their scatter plot)."""
    from loralab.artifacts.run_folder import RunFolder
    from loralab.data.registry import data_files

    if result.task == "regress":
        from loralab.tasks.regress.evaluate import save_price_eval

        return save_price_eval(result, runs_root, name)
    folder = RunFolder.create(Path(runs_root), name)
    files = result.data_files or (data_files(result.config["data"]) if result.config.get("data") else [])
    folder.write_manifest({"task": result.task, **result.config}, files)
    folder.write_metrics(result.to_dict())
    if result.task in ("rerank",) and result.outputs is not None:
        from loralab.data.trec import write_run

        write_run(result.outputs, folder.path / "ranking.trec", tag=str(result.config.get("ranker", "loralab")))
    return folder
