"""`loralab eval --task X --json`: one verb for all six tasks, one JSON object as the last line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BM25_RUN = Path(__file__).resolve().parents[2] / "src/loralab/data/builtin/trec-dl-2019-passage/bm25_top100.trec.gz"


def loralab(*args, cwd):
    return subprocess.run([sys.executable, "-m", "loralab.cli.main", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def _json(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_rerank_run_file_and_ranker(tmp_path, beir_folder, tiny_cross_encoder):
    scored = _json(loralab("eval", "--task", "rerank", "--data", "trec-dl-2019", "--run", BM25_RUN, "--json", cwd=tmp_path))
    assert scored["primary"] == "ndcg@10" and scored["ndcg@10"] == pytest.approx(0.5058, abs=5e-5)
    ranked = _json(loralab("eval", "--task", "rerank", "--data", beir_folder, "--model", tiny_cross_encoder,
                           "--json", cwd=tmp_path))
    assert ranked["num_examples"] == 2 and ranked["throughput_unit"] == "pairs/s"
    metrics = json.loads((tmp_path / ranked["run_dir"] / "metrics.json").read_text())
    assert set(metrics["per_example"]["ndcg@10"]) == {"q1", "q2"}


def test_classify_and_its_old_verb(tmp_path, tiny_bert):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model_dir = tmp_path / "clf"
    AutoModelForSequenceClassification.from_pretrained(str(tiny_bert), num_labels=2).save_pretrained(model_dir)
    AutoTokenizer.from_pretrained(str(tiny_bert)).save_pretrained(model_dir)
    data = tmp_path / "sent"
    data.mkdir()
    (data / "test.jsonl").write_text("".join(json.dumps({"text": t, "label": i % 2}) + "\n"
                                             for i, t in enumerate(["good", "bad", "fine", "awful"])))
    out = _json(loralab("eval", "--task", "classify", "--data", data, "--model", model_dir, "--json", cwd=tmp_path))
    assert out["primary"] == "accuracy" and out["num_examples"] == 4 and 0 <= out["accuracy"] <= 1
    alias = _json(loralab("classify-eval", "--data", data, "--model", model_dir, "--json", cwd=tmp_path))
    assert alias["accuracy"] == out["accuracy"]


def test_regress_median_baseline_and_sft_on_a_tiny_llama(tmp_path):
    from lm_support import tiny_llama_folder

    prices = tmp_path / "prices"
    prices.mkdir()
    rows = [{"id": f"i{k}", "text": f"toy {k}", "price": float(k + 1)} for k in range(5)]
    for split in ("train", "test"):
        (prices / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = _json(loralab("eval", "--task", "regress", "--data", prices, "--decoding", "median", "--json", cwd=tmp_path))
    assert out["primary"] == "mae" and out["greater_is_better"] is False and out["mae"] == pytest.approx(1.2)
    llama = tiny_llama_folder(tmp_path / "llama")
    sft = tmp_path / "sft.jsonl"
    sft.write_text(json.dumps({"instruction": "Say hi", "input": "", "output": "hi"}) + "\n")
    out = _json(loralab("eval", "--task", "sft", "--data", sft, "--model", llama, "--json", cwd=tmp_path))
    assert out["primary"] == "exact_match" and out["num_examples"] == 1


def test_unknown_option_for_a_task_is_one_clear_error(tmp_path):
    proc = loralab("eval", "--task", "classify", "--data", "sst2", "--run", "x.trec", cwd=tmp_path)
    assert proc.returncode == 2 and "task classify takes no option run" in proc.stderr
    proc = loralab("eval", "--task", "nope", "--data", "sst2", cwd=tmp_path)
    assert proc.returncode == 2 and "unknown task 'nope'" in proc.stderr
