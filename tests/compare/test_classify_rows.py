"""Classification is a comparison task: LoRA, QLoRA and full runs, and post-training variants of one run."""

import json
from pathlib import Path

import pytest

from loralab.compare.config import load_compare_config
from loralab.compare.engine import run_compare
from loralab.compare.report import write_report
from loralab.methods.configs import method_config, train_config
from loralab.training.trainer import train


@pytest.fixture(scope="module")
def sentiment(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sentiment")
    good, bad = ["great film", "loved it", "a delight"], ["awful film", "hated it", "a bore"]
    rows = [{"text": t, "label": 1} for t in good] + [{"text": t, "label": 0} for t in bad]
    for split in ("train", "validation", "test"):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows * 2))
    return folder


def test_classify_compare_rows_for_every_method_and_quantized_variants(tiny_bert, sentiment, tmp_path):
    runs = {}
    for kind in ("lora", "qlora", "full"):
        cfg = train_config(task="classify", model=str(tiny_bert), data=str(sentiment), max_steps=2, batch_size=4,
                           eval_steps=2, save_steps=2, max_length=16)
        train(method_config(kind, **({} if kind == "full" else {"r": 4, "alpha": 8})), cfg, tmp_path / kind)
        runs[kind] = tmp_path / kind
    config = tmp_path / "cmp.yaml"
    config.write_text(
        f"task: classify\ndataset: {sentiment}\nmethods:\n"
        + "".join(f"  - {{name: {k}, model: {runs[k]}}}\n" for k in runs)
        + f"  - {{name: lora bf16, model: {runs['lora']}, quantize: bf16}}\n"
        + f"  - {{name: lora int8, model: {runs['lora']}, quantize: int8-dynamic}}\n")
    cfg = load_compare_config(config)
    rows = run_compare(cfg, tmp_path / "out", isolate=False)
    assert [r["method"] for r in rows] == ["lora", "qlora", "full", "lora bf16", "lora int8"]
    assert all(0.0 <= r["accuracy"] <= 1.0 and r["num_queries"] == 12 and r["p95_ms"] > 0 for r in rows)
    assert [r["quantization"] for r in rows] == [None, "nf4 (QLoRA base)", None, "bf16", "int8-dynamic"]
    assert rows[3]["size_mb"] < rows[0]["size_mb"] and rows[0]["trainable_params"] < rows[2]["trainable_params"]
    paths = write_report(cfg, rows, tmp_path / "out")
    assert "lora int8" in Path(paths["markdown"]).read_text()


def test_classify_rows_refuse_unknown_options(sentiment, tmp_path):
    from loralab.errors import ConfigError

    config = tmp_path / "cmp.yaml"
    config.write_text(f"task: classify\ndataset: {sentiment}\nmethods:\n  - {{name: x, modle: minilm}}\n")
    with pytest.raises(ConfigError, match="unknown option modle; needs 'model'"):
        run_compare(load_compare_config(config), tmp_path / "out", isolate=False)


def test_a_causal_lm_classifies_zero_shot_by_label_log_probabilities(sentiment, tmp_path):
    from lm_support import tiny_llama_folder

    from loralab.tasks.classify.evaluate import evaluate_classifier
    from loralab.tasks.classify.prompt import PromptClassifier, PromptClassifierConfig

    llama = tiny_llama_folder(tmp_path / "llama")
    classifier = PromptClassifier(PromptClassifierConfig(model=str(llama), labels=["bad", "good"]))
    probs = classifier.predict_proba(["great film", "awful film"])
    assert all(len(p) == 2 and abs(sum(p) - 1) < 1e-6 for p in probs)
    result = evaluate_classifier(str(llama), str(sentiment), limit=4, labels=["bad", "good"], latency_samples=2)
    assert result.num_examples == 4 and result.extra["labels"] == ["bad", "good"] and result.latency.num_queries == 2
