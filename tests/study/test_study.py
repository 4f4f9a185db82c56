"""A tiny study end to end: cached steps, failed candidates as rows, deliverables, winner; SIGKILL and resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from loralab.errors import ConfigError
from loralab.study.spec import load_study


def _study(tmp_path, tiny_bert, groups_file, beir_folder, max_steps=2, every=2, **extra) -> Path:
    spec = {
        "task": "rerank", "data": {"train": str(groups_file), "test": str(beir_folder)}, "backbone": str(tiny_bert),
        "budget": {"max_p95_ms": 60000}, "quantize": ["int8-dynamic"],
        "train": {"max_steps": max_steps, "batch_size": 4, "eval_steps": every, "save_steps": every, "max_length": 32,
                  "num_negatives": 3, "max_eval_examples": 4},
        "candidates": [
            {"name": "BM25", "method": "baseline", "ranker": "bm25"},
            {"name": "broken", "method": "baseline", "ranker": "cross-encoder", "model": str(tmp_path / "nope")},
            {"name": "LoRA", "method": "lora", "lora": {"r": 4, "alpha": 8}},
        ],
        **extra,
    }
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_tiny_study_writes_every_deliverable_and_skips_done_steps(tmp_path, tiny_bert, groups_file, beir_folder):
    from loralab.study.runner import run_study

    spec = load_study(_study(tmp_path, tiny_bert, groups_file, beir_folder))
    results = run_study(spec, tmp_path / "out", isolate=False)
    names = [r["method"] for r in results["rows"]]
    assert names == ["BM25", "LoRA", "LoRA + int8-dynamic", "broken"]
    broken = next(r for r in results["rows"] if r["method"] == "broken")
    assert "model path not found" in broken["failed"]
    for report in ("method_comparison.md", "quantization_ablation.md", "lora_vs_qlora.md", "report.html",
                   "results.json"):
        assert (tmp_path / "out" / report).is_file(), report
    assert "broken" in (tmp_path / "out" / "method_comparison.md").read_text()
    lora_row = next(line for line in (tmp_path / "out" / "lora_vs_qlora.md").read_text().splitlines()
                    if line.startswith("| LoRA | lora |"))
    assert lora_row.split("|")[-2].strip() not in ("", "—")  # the base's bytes, from the run's metrics
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["verdict"]["winner"] in names and saved["statistics"]["correction"] == "holm"
    winner = tmp_path / "out" / "winner" / "winner.json"
    assert json.loads(winner.read_text())["candidate"] == saved["verdict"]["winner"]
    from loralab.study.ship import served_winner

    if (winner.parent / "config.json").is_file():  # a model to serve: `--model DIR/winner` loads it as saved
        from loralab.artifacts.load import load

        folder, ranker, _ = served_winner(tmp_path / "out")
        assert ranker == "cross-encoder" and load(folder).head == "sequence-classifier"
    else:
        with pytest.raises(ConfigError, match="no model to serve"):
            served_winner(tmp_path / "out")
    from loralab.artifacts.load import load
    from loralab.study.ship import _materialize

    trained = str(next((tmp_path / "out" / "steps").glob("train-lora-*")) / "run")
    how = _materialize({"model": trained, "study_quantization": "int8-dynamic"}, tmp_path / "int8-winner")
    assert "quantized post-training (int8-dynamic)" in how
    assert load(str(tmp_path / "int8-winner")).quantization == "int8-dynamic"
    assert "merged" in _materialize({"model": trained}, tmp_path / "lora-winner")
    assert load(str(tmp_path / "lora-winner")).head == "sequence-classifier"
    steps = sorted(p.name for p in (tmp_path / "out" / "steps").iterdir())
    stamps = {p: (tmp_path / "out" / "steps" / p / "step.json").stat().st_mtime_ns for p in steps}
    run_study(spec, tmp_path / "out", isolate=False)  # again: only the failed step runs again
    rerun = [p for p in steps if (tmp_path / "out" / "steps" / p / "step.json").stat().st_mtime_ns != stamps[p]]
    assert len(rerun) == 1 and "broken" in rerun[0]


def test_killed_study_resumes_without_redoing_finished_steps(tmp_path, tiny_bert, groups_file, beir_folder):
    path = _study(tmp_path, tiny_bert, groups_file, beir_folder, max_steps=160, every=40)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "loralab.cli.main", "study", "run", str(path), "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list(out.glob("steps/train-*/run/checkpoints/checkpoint-*/trainer_state.json")):
        time.sleep(0.5)
    # the training's process reports its steps to the study's display through the step's progress file
    progress = json.loads(next(out.glob("steps/train-*/progress.json")).read_text())
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.parent.name for p in out.glob("steps/*/step.json")}
    assert any(name.startswith("evaluate-bm25") for name in done) and not any("train" in n for n in done)
    assert progress["unit"] == "step" and progress["total"] == 160 and 0 < progress["done"] <= 160
    bm25 = next(out.glob("steps/evaluate-bm25-*/step.json")).stat().st_mtime_ns
    finished = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert finished.returncode == 0, finished.stderr
    assert next(out.glob("steps/evaluate-bm25-*/step.json")).stat().st_mtime_ns == bm25  # not redone
    metrics = json.loads(next(out.glob("steps/train-*/run/metrics.json")).read_text())
    assert metrics["resumed_from"] and metrics["global_step"] == 160


def test_bad_study_files_name_the_field(tmp_path):
    cases = [
        ({"data": {"test": "x"}, "candidates": [{"name": "a", "method": "magic"}]}, "unknown method 'magic'"),
        ({"data": {"test": "x"}, "candidates": [{"name": "a", "method": "lora"}]}, "need data.train"),
        ({"data": {"test": "x"}, "budget": {"max_p95_ms": -1}, "candidates": [{"name": "a", "method": "baseline"}]},
         "budget.max_p95_ms"),
        ({"data": {"test": "x"}, "candidates": [{"name": "a", "method": "baseline", "colour": 1}]}, "colour"),
    ]
    for spec, message in cases:
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(spec))
        with pytest.raises(ConfigError, match=message):
            load_study(path)


def test_quantization_ablation_compares_each_variant_with_its_own_float_model(tmp_path):
    from loralab.study.report import quantization_ablation
    from loralab.study.spec import StudySpec

    spec = StudySpec(task="classify", data={"train": "sst2", "test": "sst2"},
                     candidates=[{"name": "LoRA", "method": "lora"}])
    rows = [{"method": "LoRA", "candidate": "LoRA", "accuracy": 0.80, "size_mb": 86.0, "items_per_s": 100.0},
            {"method": "LoRA + bf16", "candidate": "LoRA", "study_quantization": "bf16", "accuracy": 0.79,
             "size_mb": 43.0, "items_per_s": 190.0}]
    table = quantization_ablation(spec, rows)
    assert "| LoRA + bf16 | 0.7900 | -0.0100 | 43.0 | 0.50 | 1.90 |" in table and "examples/s ×" in table


@pytest.mark.parametrize("ranker, options, error", [
    ("prompt-pointwise", {"template": "yes-no", "max_doc_words": 50}, None),
    ("bm25", {}, "first stage itself.*loralab serve --index"),
    ("cross-encoder", {"interpolate": 0.5}, "blends its scores with the first stage"),
    ("prompt-pointwise", {"backend": "openai", "base_url": "http://llm:8000/v1"}, "remote server.*llm:8000"),
    ("prompt-listwise", {}, "no model to serve"),
])
def test_served_winner_hands_the_server_the_candidates_options_or_says_how_to_ship_it(tmp_path, ranker, options,
                                                                                       error):
    from loralab.study.ship import served_winner

    winner = tmp_path / "study" / "winner"
    winner.mkdir(parents=True)
    (winner / "config.json").write_text("{}")
    (winner / "winner.json").write_text(json.dumps({"candidate": "X", "ranker": ranker, "options": options,
                                                    "made_by": "the prompt-listwise candidate's model as it is"}))
    if error is None:
        assert served_winner(tmp_path / "study") == (str(winner), ranker, options)
    else:
        with pytest.raises(ConfigError, match=error):
            served_winner(tmp_path / "study")


def test_a_candidate_trained_as_a_bi_encoder_is_scored_as_one(tmp_path):
    from loralab.study.spec import StudySpec
    from loralab.study.steps import expand

    spec = StudySpec(task="rerank", data={"train": "groups.jsonl", "test": "scifact"}, candidates=[
        {"name": "cross", "method": "lora"}, {"name": "bi", "method": "lora", "train": {"ranker": "bi-encoder"}}])
    rankers = {s.name: s.config["ranker"] for s in expand(spec, tmp_path) if s.kind == "evaluate"}
    assert rankers == {"cross": "cross-encoder", "bi": "bi-encoder"}
