"""Training under `accelerate launch` with 2 CPU processes (DDP over gloo) follows the 1-process run.

The tiny model has no dropout: dropout masks are drawn per process, so with it the two runs would differ by
sampling noise, not by anything DDP does wrong.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import loralab

ACCELERATE_CONFIGS = Path(loralab.__file__).parent / "configs" / "accelerate"


def _groups(path: Path) -> Path:
    rows = []
    for i in range(32):
        topic = ["fleas", "concrete", "cats", "tea"][i % 4]
        rows.append({
            "query_id": f"q{i}", "query": f"question {i} about {topic}",
            "positive": {"_id": f"p{i}", "title": topic, "text": f"all about {topic} and more {topic}"},
            "negatives": [f"unrelated text number {i} {j}" for j in range(4)],
        })
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _tiny_bert_without_dropout(folder: Path, tokenizer_from: Path) -> Path:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_from))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _train_args(model: Path, data: Path, out: Path) -> list[str]:
    # 32 steps at a high learning rate: the loss falls from log(4) to ~0.1, so 2% is a real tolerance.
    return ["train", "--task", "rerank", "--method", "full", "--model", str(model), "--data", str(data),
            "--out", str(out), "--max-steps", "32", "--batch-size", "4", "--eval-steps", "16", "--save-steps", "16",
            "--max-length", "32", "--lr", "5e-3", "--num-negatives", "3", "--seed", "7"]


def _run(cmd: list[str]) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-4000:]


def _curves(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "curves.jsonl").read_text().splitlines()]


def _train_loss(run: Path) -> float:
    """The Trainer's mean training loss over the run (averaged over processes under DDP)."""
    return next(row["train_loss"] for row in _curves(run) if "train_loss" in row)


@pytest.mark.slow
def test_two_process_ddp_run_reaches_the_one_process_loss(tmp_path, tiny_bert):
    model = _tiny_bert_without_dropout(tmp_path / "tiny", tiny_bert)
    data = _groups(tmp_path / "groups.jsonl")
    _run([sys.executable, "-m", "loralab", *_train_args(model, data, tmp_path / "one")])
    accelerate = Path(sys.executable).parent / "accelerate"
    _run([str(accelerate), "launch", "--config_file", str(ACCELERATE_CONFIGS / "ddp.yaml"), "--num_processes", "2",
          "--main_process_port", "29533", "-m", "loralab", *_train_args(model, data, tmp_path / "two")])

    one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert (one["processes"], two["processes"]) == (1, 2)
    assert one["global_step"] == two["global_step"] == 32  # same global batch -> same number of steps
    assert _train_loss(tmp_path / "one") < 0.7  # it learned (log 4 = 1.39 at the start)
    assert _train_loss(tmp_path / "two") == pytest.approx(_train_loss(tmp_path / "one"), rel=0.02)
    assert two["eval"]["eval_loss"] == pytest.approx(one["eval"]["eval_loss"], rel=0.02)
    # Only the main process wrote: each evaluation once in the curves (two writers would double them).
    assert [row["step"] for row in _curves(tmp_path / "two") if "eval_mrr" in row] == \
        [row["step"] for row in _curves(tmp_path / "one") if "eval_mrr" in row]
    assert (tmp_path / "two" / "model" / "model.safetensors").is_file()
    assert json.loads((tmp_path / "two" / "train_config.json").read_text())["processes"] == 2


def test_a_global_batch_that_does_not_split_over_the_processes_is_refused():
    from loralab.errors import ConfigError
    from loralab.methods.configs import train_config
    from loralab.training.trainer import per_process_batch

    assert per_process_batch(train_config(batch_size=8), 2) == 4
    with pytest.raises(ConfigError, match="batch_size 7 .* multiple of 2"):
        per_process_batch(train_config(batch_size=7), 2)
