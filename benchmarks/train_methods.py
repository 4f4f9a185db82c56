"""LoRA vs QLoRA vs full fine-tuning on one setup (MiniLM cross-encoder, SciFact train groups).

Each method trains in its own process (so peak RSS is its own) for the same steps and data, then the
table reports step time, peak RSS, trainable parameters, artifact size and the held-out MRR, with
ratios against LoRA measured in this one run. Usage:
  python benchmarks/train_methods.py [--steps 20] [--batch-size 4] [--max-length 128]

--vs-plain instead times loralab's LoRA recipes against a plain PEFT + Trainer script (benchmarks/plain_peft_trainer.py)
on the same rows, model, LoRA settings, batch and steps, each in its own process: re-ranking (SciFact train groups of
1 + 7, the recipe's shape: batch 8 groups, 256 tokens) and SST-2 classification (batch 32, 64 tokens):
  python benchmarks/train_methods.py --vs-plain [--rerank-steps 10] [--classify-steps 30]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def run_one(kind: str, steps: int, batch_size: int, max_length: int, out: str) -> dict:
    from loralab.methods.configs import method_config, train_config
    from loralab.training.trainer import train

    lr = 3e-5 if kind == "full" else 1e-3
    cfg = train_config(task="rerank", data="scifact-train", model="minilm", max_steps=steps, batch_size=batch_size,
                       max_length=max_length, learning_rate=lr, head_learning_rate=None if kind == "full" else 3e-3,
                       eval_steps=steps, save_steps=steps, max_eval_examples=64, logging_steps=steps)
    m = train(method_config(kind), cfg, Path(out) / kind).metrics
    return {
        "method": kind, "step_s": m["train_seconds"] / max(m["global_step"], 1),
        "peak_rss_mb": m["peak_rss_bytes"] / 2**20, "trainable": m["trainable_params"],
        "trainable_pct": m["trainable_percent"], "artifact_mb": m["artifact_bytes"] / 2**20,
        "base_mb": m["base_param_bytes"]["total"] / 2**20, "eval_mrr": m["eval"]["eval_mrr"],
    }


RECIPES = {  # task -> (batch, max length, lr): the recipes' shapes (experiments/scifact-*, experiments/sst2-*)
    "rerank": (8, 256, 1e-3),
    "classify": (32, 64, 2e-4),
}


def run_loralab_recipe(task: str, steps: int, out: str) -> dict:
    from loralab.methods.configs import method_config, train_config
    from loralab.training.trainer import train

    batch, max_length, lr = RECIPES[task]
    data = "scifact-train" if task == "rerank" else "sst2"
    cfg = train_config(task=task, data=data, model="minilm", max_steps=steps, batch_size=batch,
                       max_length=max_length, learning_rate=lr, eval_steps=10 * steps, save_steps=10 * steps,
                       max_eval_examples=16, logging_steps=steps)  # no evaluation inside the timed loop: plain has none
    m = train(method_config("lora"), cfg, Path(out) / f"loralab-{task}").metrics
    return {"task": task, "path": "loralab", "step_s": m["train_seconds"] / max(m["global_step"], 1),
            "peak_rss_mb": m["peak_rss_bytes"] / 2**20}


def run_plain(task: str, steps: int) -> dict:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import plain_peft_trainer as plain

    from loralab.models.packaged import PACKAGED
    from loralab.tasks.classify.data import load_labeled
    from loralab.tasks.rerank.train import load_training_groups

    batch, max_length, lr = RECIPES[task]
    model = str(PACKAGED["minilm"].require())
    if task == "rerank":
        result = plain.train_rerank(model, load_training_groups("scifact-train", num_negatives=7), steps, batch,
                                    max_length, lr)
    else:
        result = plain.train_classify(model, load_labeled("sst2", "train"), steps, batch, max_length, lr)
    return {"task": task, "path": "plain PEFT + Trainer", **result}


def vs_plain(rerank_steps: int, classify_steps: int) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for task, steps in (("rerank", rerank_steps), ("classify", classify_steps)):
            for fn, fn_args in ((run_plain, (task, steps)), (run_loralab_recipe, (task, steps, out))):
                with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                    rows.append({"steps": steps, **pool.submit(fn, *fn_args).result()})
    print(f"{'task':<10}{'path':<22}{'s/step':>8}{'x plain':>9}{'peak RSS MB':>13}{'x plain':>9}")
    for r in rows:
        plain = next(p for p in rows if p["task"] == r["task"] and p["path"] != "loralab")
        r["step_vs_plain"] = r["step_s"] / plain["step_s"]
        r["rss_vs_plain"] = r["peak_rss_mb"] / plain["peak_rss_mb"]
        print(f"{r['task']:<10}{r['path']:<22}{r['step_s']:>8.2f}{r['step_vs_plain']:>9.2f}"
              f"{r['peak_rss_mb']:>13.0f}{r['rss_vs_plain']:>9.2f}")
    print(json.dumps({"benchmark": "train_methods --vs-plain", "recipes": RECIPES, "rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--vs-plain", action="store_true", help="loralab's recipes vs a plain PEFT + Trainer script")
    parser.add_argument("--rerank-steps", type=int, default=10)
    parser.add_argument("--classify-steps", type=int, default=30)
    args = parser.parse_args()
    if args.vs_plain:
        return vs_plain(args.rerank_steps, args.classify_steps)
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for kind in ("lora", "qlora", "full"):
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                rows.append(pool.submit(run_one, kind, args.steps, args.batch_size, args.max_length, out).result())
    lora = rows[0]
    print(f"{'method':<7}{'s/step':>8}{'x':>6}{'peak RSS MB':>13}{'x':>6}{'trainable':>12}{'%':>8}"
          f"{'artifact MB':>13}{'base MB':>9}{'MRR':>7}")
    for r in rows:
        print(f"{r['method']:<7}{r['step_s']:>8.2f}{r['step_s'] / lora['step_s']:>6.2f}{r['peak_rss_mb']:>13.0f}"
              f"{r['peak_rss_mb'] / lora['peak_rss_mb']:>6.2f}{r['trainable']:>12,}{r['trainable_pct']:>8.3f}"
              f"{r['artifact_mb']:>13.2f}{r['base_mb']:>9.1f}{r['eval_mrr']:>7.3f}")
    print(json.dumps({"benchmark": "train_methods", "steps": args.steps, "rows": rows}))


if __name__ == "__main__":
    main()
