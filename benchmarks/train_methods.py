"""LoRA vs QLoRA vs full fine-tuning on one setup (MiniLM cross-encoder, SciFact train groups).

Each method trains in its own process (so peak RSS is its own) for the same steps and data, then the
table reports step time, peak RSS, trainable parameters, artifact size and the held-out MRR, with
ratios against LoRA measured in this one run. Usage:
  python benchmarks/train_methods.py [--steps 20] [--batch-size 4] [--max-length 128]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=128)
    args = parser.parse_args()
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
