"""Ship the winner: `DIR/winner/` is a ready model folder (merged and/or quantized, with its tokenizer) plus
`winner.json` saying how it was made, so `--model DIR/winner` works everywhere and `loralab serve --study DIR`
serves it. A winner without weights (BM25, a prompt on a remote server) gets winner.json only."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from loralab.artifacts.atomic import atomic_write_json
from loralab.artifacts.run_folder import RunFolder
from loralab.study.spec import StudySpec

WINNER = "winner"
MANIFEST = "winner.json"


def ship_winner(spec: StudySpec, results: dict[str, Any], out: Path) -> dict[str, Any] | None:
    verdict = results.get("verdict") or {}
    name = verdict.get("winner")
    if name is None:
        return None
    row = next(r for r in results["rows"] if r["method"] == name)
    target = Path(out) / WINNER
    tmp = target.with_name(f".{WINNER}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    how = _materialize(row, tmp)
    candidate = next((c for c in spec.candidates if c.name == row.get("candidate")), None)
    options = {k: v for k, v in (candidate.options if candidate else {}).items() if k != "model"}
    manifest = {"candidate": name, "task": spec.task, "ranker": row.get("ranker"), "model": row.get("model"),
                "options": options,
                "quantization": row.get("study_quantization"), "made_by": how, "reason": verdict.get("reason"),
                "metrics": {k: row.get(k) for k in (task_primary(spec), "p95_ms", "peak_rss_mb", "cost_per_1m")}}
    atomic_write_json(tmp / MANIFEST, manifest)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return {**manifest, "folder": str(target)}


def task_primary(spec: StudySpec) -> str:
    from loralab.compare.task_tables import task_bench

    return task_bench(spec.task).primary


def _materialize(row: dict[str, Any], folder: Path) -> str:
    """Write the winner's weights into `folder` (each save below replaces it atomically); returns how."""
    from loralab.artifacts.load import load
    from loralab.artifacts.merge import merge_run
    from loralab.artifacts.quantized import save_quantized

    model = row.get("model")
    run = RunFolder.open(model) if model else None
    variant = row.get("study_quantization")
    if run is None:
        return _copy_untrained(model, folder, row.get("ranker"))
    kind = run.method.get("kind")
    if variant:  # the same load the evaluation made: the run as trained (a LoRA merged), quantized post-training
        save_quantized(load(str(run.path), quantize=variant), folder)
        return f"{kind} run merged into its base, then quantized post-training ({variant})"
    if run.adapter_dir is not None:
        # QLoRA: merged into the weights dequantized from its 4-bit base, the ones the adapter was trained on.
        merge_run(str(run.path), folder, base="dequantized" if kind == "qlora" else "original")
        return f"{kind} adapter merged into its base (fp32)"
    shutil.copytree(run.model_dir, folder, dirs_exist_ok=True)
    return "full fine-tuning: the trained model as saved"


def _copy_untrained(model: str | None, folder: Path, ranker: str | None) -> str:
    """A zero-shot or prompted winner: its model folder as it is (nothing to ship for BM25 or a remote model)."""
    from loralab.artifacts.load import resolve_model
    from loralab.errors import LoralabError

    if not model:
        return f"no weights to ship: {ranker} needs no model"
    try:
        source = Path(resolve_model(model))
    except LoralabError:
        source = None
    if source is None or not source.is_dir():
        return f"no weights to ship: the {ranker} candidate uses '{model}' (not a local model folder)"
    shutil.copytree(source, folder, dirs_exist_ok=True)
    return f"the {ranker} candidate's model as it is ({model}, no training)"


def served_winner(study_dir: str | Path) -> tuple[str, str, dict[str, Any]]:
    """(model folder, ranker kind, ranker options) of a study's shipped winner, for `loralab serve --study DIR`:
    the options are the candidate's as the study scored it (a prompt's template, a length), so the server scores
    as the study measured."""
    import json

    from loralab.errors import ConfigError
    from loralab.rankers.base import PAIRWISE_KINDS

    folder = Path(study_dir) / WINNER
    if not (folder / MANIFEST).is_file():
        raise ConfigError(f"{study_dir}: no {WINNER}/{MANIFEST}; run `loralab study run STUDY --out {study_dir}` "
                          "(a study with a budget ships its winner there)")
    manifest = json.loads((folder / MANIFEST).read_text())
    ranker, options = manifest.get("ranker"), dict(manifest.get("options") or {})
    who = f"{study_dir}: the winner ({manifest['candidate']}, {ranker})"
    if ranker == "bm25":
        raise ConfigError(f"{who} is the first stage itself, with no model to serve: build an index of your corpus "
                          "(`loralab index`) and serve it with `loralab serve --index INDEX`, then POST /search "
                          'with "mode": "bm25", "rerank": false')
    if options.pop("interpolate", None) is not None:
        raise ConfigError(f"{who} blends its scores with the first stage's (interpolate): serve it next to an index "
                          "(`loralab serve --model DIR/winner --index INDEX`) and POST /search")
    if options.get("backend", "local") != "local":
        raise ConfigError(f"{who} is a prompt to a remote server ({options.get('base_url')}): call that server")
    if not (folder / "config.json").is_file() or ranker not in PAIRWISE_KINDS:
        raise ConfigError(f"{who} has no model to serve here: {manifest['made_by']}")
    return str(folder), ranker, options
