"""Where the peak RSS of re-ranker training goes: the SciFact recipe, shortened to fixed steps, under each
suspected cause switched off, each in a fresh process, in one run.

Rows: the recipe as loralab runs it (one group of 8 pairs per forward pass, batches padded to a multiple of 32
tokens); the whole step's 8 groups in one pass and padded to the longest pair only (loralab before this change);
and with oneDNN's primitive cache off. Each row reports peak RSS (the kernel's ru_maxrss of that process), seconds per step and the final
eval MRR, with ratios against the first row. Usage:
  python benchmarks/train_memory.py [--steps 40] [--rows default,mmap,onednn,...] [--json out.json] [--keep DIR]
(--keep DIR keeps each row's run folder as DIR/<row>, e.g. to score the trained models afterwards)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# The current SciFact recipe (experiments/scifact-cross-encoder-training, recipe 5; bf16 where it is fast), stopped
# after --steps.
RECIPE = ["--task", "rerank", "--method", "lora", "--max-length", "256", "--lr", "1e-3", "--head-lr", "3e-3",
          "--precision", "auto", "--max-eval-examples", "48", "--teacher", "minilm", "--data", "scifact",
          "--negative-pool", "50"]

# name -> (environment over the parent's, extra CLI flags)
ROWS = {
    "default": ({}, []),
    "one-pass-unbucketed": ({}, ["--forward-batch", "8", "--pad-to-multiple-of", "1"]),
    "onednn-cache-off": ({"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "0"}, []),
}


def run_row(name: str, steps: int, root: Path) -> dict:
    env, flags = ROWS[name]
    out = root / name
    every = max(steps // 2, 1)
    cmd = [sys.executable, "-m", "loralab", "train", *RECIPE, *flags, "--out", str(out), "--max-steps", str(steps),
           "--eval-steps", str(every), "--save-steps", str(every)]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    stderr = proc.stderr.read()
    if status != 0:
        raise SystemExit(f"{name}: training failed ({status}):\n{stderr[-3000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    return {"row": name, "env": env, "flags": flags, "peak_rss_mb": usage.ru_maxrss / 1024,
            "step_s": metrics["train_seconds"] / max(metrics["global_step"], 1),
            "eval_mrr": metrics["eval"].get("eval_mrr"), "command": " ".join([*(f"{k}={v}" for k, v in env.items()),
                                                                             "loralab", *cmd[3:]])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path, help="keep the run folders here instead of a temporary folder")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        for name in args.rows.split(","):
            rows.append(run_row(name, args.steps, root))
            print(json.dumps(rows[-1]), flush=True)
    first = rows[0]
    print(f"\n{'row':<18}{'peak RSS MB':>12}{'x':>6}{'s/step':>8}{'x':>6}{'MRR':>7}")
    for r in rows:
        print(f"{r['row']:<18}{r['peak_rss_mb']:>12.0f}{r['peak_rss_mb'] / first['peak_rss_mb']:>6.2f}"
              f"{r['step_s']:>8.2f}{r['step_s'] / first['step_s']:>6.2f}{r['eval_mrr'] or float('nan'):>7.3f}")
    result = {"benchmark": "train_memory", "steps": args.steps, "recipe": RECIPE, "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
