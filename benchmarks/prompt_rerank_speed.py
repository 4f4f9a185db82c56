"""Pointwise prompt re-ranking (SmolLM2-135M yes/no) on DL19: today's fp32 path vs token-capped batches, the
shared-prefix cache, bf16 and int8.

Each variant runs in its own process, one after the other, over the same queries and BM25 top-k candidates.
Prints p50 ms/query and each variant's speed-up over today's fp32 path, the largest score difference from it, and
NDCG@10 with a paired randomization test against it (two-sided, over queries).
Ratios come from one run on one machine (these machines are noisy): compare ratios, not absolute numbers.
Usage: python benchmarks/prompt_rerank_speed.py [--queries 43] [--candidates 20] [--variants fp32-uncached,...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

VARIANTS = {
    "fp32-today": {"prefix_cache": False, "max_batch_tokens": 0},  # batches of batch_size, padded to the longest
    "fp32-bucketed": {"prefix_cache": False},  # + batches capped at max_batch_tokens once padded
    "fp32-prefix-cache": {"prefix_cache": True},  # + the shared prefix run once per query
    "bf16-prefix-cache": {"prefix_cache": True, "dtype": "bfloat16"},
    "int8-prefix-cache": {"prefix_cache": True, "quantize": "int8-dynamic"},
    "bf16-int8-prefix-cache": {"prefix_cache": True, "dtype": "bfloat16", "quantize": "int8-dynamic"},
}
BASELINE = "fp32-today"
DEFAULT = "fp32-today,fp32-bucketed,fp32-prefix-cache,bf16-prefix-cache,int8-prefix-cache"


def run_variant(name: str, queries: int, candidates: int, batch_size: int, out: Path) -> None:
    """In a child process: re-rank and write latency, scores and per-query NDCG@10 as JSON."""
    import torch

    from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker

    torch.set_num_threads(2)
    dataset = load_task_dataset("trec-dl-2019", max_queries=queries, max_candidates=candidates)
    result = run_ranker(dataset, "prompt-pointwise", show_progress=False, batch_size=batch_size, **VARIANTS[name])
    out.write_text(json.dumps({
        "p50_ms": result.latency.p50_ms, "p95_ms": result.latency.p95_ms, "pairs_per_s": result.latency.pairs_per_second,
        "warmup_s": result.latency.warmup_seconds, "ndcg@10": result.primary_value,
        "per_query": result.per_example[result.primary], "scores": result.outputs.scores,
        "tokens_in_per_query": result.extra["usage"]["tokens_in_per_query"],
        "failures": result.extra["usage"]["failures"],
    }))


def max_score_difference(a: dict, b: dict) -> float:
    return max(abs(a[q][d] - b[q][d]) for q in a for d in a[q])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=43)
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--variants", default=DEFAULT, help=f"comma-separated, from: {', '.join(VARIANTS)}")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # child process
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        run_variant(args.variant, args.queries, args.candidates, args.batch_size, args.out)
        return
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown or BASELINE not in names:
        sys.exit(f"variants: choose from {', '.join(VARIANTS)} (including {BASELINE}); unknown: {unknown}")

    from loralab.eval.statistics import paired_randomization_test

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = Path(tmp) / f"{name}.json"
            subprocess.run([sys.executable, __file__, "--variant", name, "--out", str(path), "--queries",
                            str(args.queries), "--candidates", str(args.candidates), "--batch-size",
                            str(args.batch_size)], check=True)
            results[name] = json.loads(path.read_text())
    base = results[BASELINE]
    print(f"{'variant':<24}{'p50 ms':>9}{'x fp32':>8}{'pairs/s':>9}{'NDCG@10':>9}{'p vs fp32':>11}{'max |dscore|':>14}")
    summary = {}
    for name, r in results.items():
        test = paired_randomization_test(r["per_query"], base["per_query"], name, BASELINE)
        row = {
            "p50_ms": r["p50_ms"], "p95_ms": r["p95_ms"], "pairs_per_s": r["pairs_per_s"], "speedup_p50": base["p50_ms"] / r["p50_ms"],
            "ndcg@10": r["ndcg@10"], "p_value_vs_fp32": test.p_value, "failures": r["failures"],
            "max_score_diff_vs_fp32": max_score_difference(r["scores"], base["scores"]),
            "tokens_in_per_query": r["tokens_in_per_query"], "warmup_s": r["warmup_s"],
        }
        summary[name] = row
        print(f"{name:<24}{row['p50_ms']:>9.0f}{row['speedup_p50']:>8.2f}{row['pairs_per_s']:>9.1f}{row['ndcg@10']:>9.4f}"
              f"{row['p_value_vs_fp32']:>11.3f}{row['max_score_diff_vs_fp32']:>14.2e}")
    print(json.dumps({"benchmark": "prompt_rerank_speed", "queries": args.queries, "candidates": args.candidates,
                      "batch_size": args.batch_size, "variants": summary}))


if __name__ == "__main__":
    main()
