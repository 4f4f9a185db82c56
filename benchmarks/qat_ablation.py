"""Quantization-aware vs post-training quantization of one trained cross-encoder, every row measured in this run.

For each QAT run (`loralab train --method full --qat SPEC --model <the float model>`), four rows re-rank the same
queries: the float model, the float model quantized with SPEC (PTQ), the QAT run's float weights, and the QAT run
quantized with SPEC (QAT). Printed: NDCG@10, change against the float model, pairs/s; then per SPEC the PTQ loss and
how much of it QAT recovers, each with a paired 95% bootstrap interval over the queries. Usage:
  python benchmarks/qat_ablation.py --model merged/ce --qat runs/qat-int4 --qat runs/qat-int8 \\
      [--dataset scifact] [--limit 300] [--limit-candidates 30] [--max-length 192] [--out reports/qat]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def qat_spec(run: str) -> str:
    config = json.loads((Path(run) / "train_config.json").read_text())
    spec = config["train"].get("qat")
    if not spec:
        raise SystemExit(f"{run}: not a QAT run (train_config.json has no train.qat)")
    return spec


def methods_for(model: str, runs: list[str], max_length: int) -> list[dict]:
    base = {"ranker": "cross-encoder", "max_length": max_length}
    rows = [{"name": "fp32", "model": model, **base}]
    for run in runs:
        spec = qat_spec(run)
        rows += [{"name": f"PTQ {spec}", "model": model, "quantize": spec, **base},
                 {"name": f"QAT {spec}, float weights", "model": run, **base},
                 {"name": f"QAT {spec}", "model": run, "quantize": spec, **base}]
    return rows


def paired_interval(statistic, *samples: np.ndarray) -> tuple[float, float, float]:
    """The statistic on the queries and its 95% paired bootstrap interval (queries resampled together)."""
    from scipy.stats import bootstrap

    value = float(statistic(*samples, axis=-1))
    result = bootstrap(samples, statistic, paired=True, vectorized=True, n_resamples=10_000, method="percentile",
                       random_state=np.random.default_rng(0))
    return value, float(result.confidence_interval.low), float(result.confidence_interval.high)


def recovery(rows: dict[str, dict], scores: dict[str, dict], spec: str) -> dict:
    ids = sorted(scores["fp32"])
    fp32, ptq, qat = (np.array([scores[name][i] for i in ids]) for name in ("fp32", f"PTQ {spec}", f"QAT {spec}"))
    loss = paired_interval(lambda f, p, axis: 100 * (f - p).mean(axis=axis), fp32, ptq)
    gain = paired_interval(lambda q, p, axis: 100 * (q - p).mean(axis=axis), qat, ptq)
    share = paired_interval(lambda f, p, q, axis: (q - p).mean(axis=axis) / (f - p).mean(axis=axis), fp32, ptq, qat)
    return {"spec": spec, "queries": len(ids), "ptq_loss_points": loss, "qat_gain_over_ptq_points": gain,
            "share_of_ptq_loss_recovered": share}


def main() -> None:
    from loralab.compare.config import CompareConfig
    from loralab.compare.engine import run_compare
    from loralab.compare.report import write_report
    from loralab.compare.significance import per_example_scores

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the float cross-encoder the QAT runs started from")
    parser.add_argument("--qat", action="append", required=True, help="a QAT run folder (repeatable)")
    parser.add_argument("--dataset", default="scifact")
    parser.add_argument("--limit", type=int, default=300, help="first N queries")
    parser.add_argument("--limit-candidates", type=int, default=30, help="top N first-stage candidates per query")
    parser.add_argument("--max-length", type=int, default=192)
    parser.add_argument("--out", default="reports/qat-ablation")
    args = parser.parse_args()
    config = CompareConfig.model_validate({
        "dataset": args.dataset, "methods": methods_for(args.model, args.qat, args.max_length),
        "limit_queries": args.limit, "limit_candidates": args.limit_candidates,
        "title": f"QAT vs PTQ: {args.model} on {args.dataset}",
    })
    rows = run_compare(config, Path(args.out))
    write_report(config, rows, Path(args.out))
    by_name = {r["method"]: r for r in rows}
    scores = {name: per_example_scores(row, "ndcg@10") for name, row in by_name.items()}
    base = by_name["fp32"]
    print(f"{'row':<44}{'NDCG@10':>9}{'Δ pts':>8}{'pairs/s':>9}{'speed ×':>9}")
    for row in rows:
        print(f"{row['method']:<44}{row['ndcg@10']:9.4f}{100 * (row['ndcg@10'] - base['ndcg@10']):+8.2f}"
              f"{row['pairs_per_s']:9.1f}{row['pairs_per_s'] / base['pairs_per_s']:9.2f}")
    summaries = [recovery(by_name, scores, qat_spec(run)) for run in args.qat]
    for s in summaries:
        loss, gain, share = s["ptq_loss_points"], s["qat_gain_over_ptq_points"], s["share_of_ptq_loss_recovered"]
        print(f"{s['spec']}: PTQ loses {loss[0]:.2f} points [{loss[1]:.2f}, {loss[2]:.2f}]; QAT gains {gain[0]:.2f} "
              f"[{gain[1]:.2f}, {gain[2]:.2f}] over PTQ: {share[0]:.0%} of the loss recovered "
              f"[{share[1]:.0%}, {share[2]:.0%}] ({s['queries']} queries, paired 95% bootstrap)")
    keep = ("method", "model", "quantization", "ndcg@10", "ci_low", "ci_high", "pairs_per_s", "size_mb",
            "peak_rss_mb", "p50_ms", "p95_ms")
    print(json.dumps({"rows": [{k: r.get(k) for k in keep} for r in rows], "recovery": summaries}))


if __name__ == "__main__":
    main()
