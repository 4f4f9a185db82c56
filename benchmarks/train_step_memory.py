"""Peak RSS and time of one re-ranker training step by how it is cut: 64 (query, passage) pairs of 256 tokens
(8 groups of 1 positive + 7 negatives, the SciFact recipe's step), run as one forward/backward pass or as passes
of 16 or 8 pairs (gradient accumulation), with BERT's attention dropout 0.1 or 0. MiniLM + LoRA (r 16, PEFT),
fp32, each row in a fresh process, the step run twice and the second timed. Usage:
  python benchmarks/train_step_memory.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROWS = [(64, 0.1), (16, 0.1), (8, 0.1), (64, 0.0), (8, 0.0)]  # (pairs per pass, attention dropout)
STEP_PAIRS, LENGTH = 64, 256


def one_row(per_pass: int, dropout: float) -> dict:
    import resource

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    from loralab.artifacts.load import resolve_model

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        resolve_model("minilm"), num_labels=1, attention_probs_dropout_prob=dropout)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=["query", "key", "value", "dense"],
                                             modules_to_save=["classifier"]))
    model.train()
    ids = torch.randint(1000, 20000, (per_pass, LENGTH))
    mask = torch.ones_like(ids)
    loaded_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def step() -> float:
        start = time.perf_counter()
        for _ in range(STEP_PAIRS // per_pass):
            model(input_ids=ids, attention_mask=mask).logits.sum().backward()
        return time.perf_counter() - start

    step()
    seconds = step()
    return {"pairs_per_pass": per_pass, "attention_dropout": dropout, "step_s": seconds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "after_load_mb": loaded_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    parser.add_argument("--row", help=argparse.SUPPRESS)  # "pairs,dropout": run one row in this process
    args = parser.parse_args()
    if args.row:
        per_pass, dropout = args.row.split(",")
        print(json.dumps(one_row(int(per_pass), float(dropout))))
        return
    rows = []
    for per_pass, dropout in ROWS:
        out = subprocess.run([sys.executable, __file__, "--row", f"{per_pass},{dropout}"], capture_output=True,
                             text=True, check=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    first = rows[0]
    print(f"\n{'pairs/pass':>10}{'attn drop':>10}{'peak RSS MB':>12}{'x':>6}{'s/step':>8}{'x':>6}")
    for r in rows:
        print(f"{r['pairs_per_pass']:>10}{r['attention_dropout']:>10}{r['peak_rss_mb']:>12.0f}"
              f"{r['peak_rss_mb'] / first['peak_rss_mb']:>6.2f}{r['step_s']:>8.2f}{r['step_s'] / first['step_s']:>6.2f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"benchmark": "train_step_memory", "rows": rows}, handle, indent=2)
            handle.write("\n")


if __name__ == "__main__":
    main()
