"""Quantization-aware vs post-training quantization of one trained cross-encoder, every row measured in this run.

For each QAT run (`loralab train --method full --qat SPEC --model <the float model>`), four rows re-rank the same
queries: the float model, the float model quantized with SPEC (PTQ), the QAT run's float weights, and the QAT run
quantized with SPEC (QAT). QAT fine-tunes further, and more training alone can move quality, so --control takes a run
fine-tuned the same way without --qat: its float row and its PTQ rows are the matched comparison. Printed: NDCG@10,
change against the float model, pairs/s; then per SPEC how much of the PTQ loss QAT recovers, against the starting
model and against the control, each with a paired 95% bootstrap interval over the queries. Usage:
  python benchmarks/qat_ablation.py --model merged/ce --qat runs/qat-int4 --qat runs/qat-int8 [--control runs/ft] \\
      [--dataset scifact] [--limit 300] [--limit-candidates 30] [--max-length 192] [--out reports/qat] [--reuse DIR]
--reuse DIR takes the rows an earlier run of this script wrote to DIR (same name, model and quantization) instead of
scoring them again: their quality is the same by construction, their speed is from that run.
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


CONTROL = "fine-tuned without QAT"


def methods_for(model: str, specs: dict[str, str], control: str | None, max_length: int) -> list[dict]:
    """`specs`: QAT run folder -> the spec it trained for."""
    base = {"ranker": "cross-encoder", "max_length": max_length}
    rows = [{"name": "fp32", "model": model, **base}]
    for run, spec in specs.items():
        rows += [{"name": f"PTQ {spec}", "model": model, "quantize": spec, **base},
                 {"name": f"QAT {spec}, float weights", "model": run, **base},
                 {"name": f"QAT {spec}", "model": run, "quantize": spec, **base}]
    if control:
        rows.append({"name": CONTROL, "model": control, **base})
        rows += [{"name": f"{CONTROL} + PTQ {spec}", "model": control, "quantize": spec, **base}
                 for spec in specs.values()]
    return rows


def reusable_rows(folder: str | None, methods: list[dict]) -> dict[str, dict]:
    """Rows of an earlier run of this script that match a method here by name, model and quantization."""
    if not folder:
        return {}
    earlier = {r["method"]: r for r in json.loads((Path(folder) / "results.json").read_text())["rows"]}
    return {m["name"]: earlier[m["name"]] for m in methods if m["name"] in earlier
            and earlier[m["name"]].get("model") == m["model"]
            and earlier[m["name"]].get("quantization") == m.get("quantize")}


def paired_interval(statistic, *samples: np.ndarray) -> tuple[float, float, float]:
    """The statistic on the queries and its 95% paired bootstrap interval (queries resampled together)."""
    from scipy.stats import bootstrap

    value = float(statistic(*samples, axis=-1))
    result = bootstrap(samples, statistic, paired=True, vectorized=True, n_resamples=10_000, method="percentile",
                       random_state=np.random.default_rng(0))
    return value, float(result.confidence_interval.low), float(result.confidence_interval.high)


def recovery(scores: dict[str, dict], spec: str, float_row: str, ptq_row: str) -> dict:
    """PTQ's loss (float_row - ptq_row), QAT's gain over it, and the share of the loss that gain is."""
    ids = sorted(scores[float_row])
    floats, ptq, qat = (np.array([scores[name][i] for i in ids]) for name in (float_row, ptq_row, f"QAT {spec}"))
    loss = paired_interval(lambda f, p, axis: 100 * (f - p).mean(axis=axis), floats, ptq)
    gain = paired_interval(lambda q, p, axis: 100 * (q - p).mean(axis=axis), qat, ptq)
    share = paired_interval(lambda f, p, q, axis: (q - p).mean(axis=axis) / (f - p).mean(axis=axis), floats, ptq, qat)
    return {"spec": spec, "against": float_row, "ptq_row": ptq_row, "queries": len(ids), "ptq_loss_points": loss,
            "qat_gain_over_ptq_points": gain, "share_of_ptq_loss_recovered": share}


def main() -> None:
    from loralab.compare.config import CompareConfig
    from loralab.compare.engine import run_compare
    from loralab.compare.report import write_report
    from loralab.compare.significance import per_example_scores

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the float cross-encoder the QAT runs started from")
    parser.add_argument("--qat", action="append", required=True, help="a QAT run folder (repeatable)")
    parser.add_argument("--control", help="a run fine-tuned like the QAT runs, without --qat")
    parser.add_argument("--reuse", help="an earlier --out of this script: take its matching rows")
    parser.add_argument("--dataset", default="scifact")
    parser.add_argument("--limit", type=int, default=300, help="first N queries")
    parser.add_argument("--limit-candidates", type=int, default=30, help="top N first-stage candidates per query")
    parser.add_argument("--max-length", type=int, default=192)
    parser.add_argument("--out", default="reports/qat-ablation")
    args = parser.parse_args()
    specs = {run: qat_spec(run) for run in args.qat}
    methods = methods_for(args.model, specs, args.control, args.max_length)
    reused = reusable_rows(args.reuse, methods)
    settings = {"dataset": args.dataset, "limit_queries": args.limit, "limit_candidates": args.limit_candidates,
                "title": f"QAT vs PTQ: {args.model} on {args.dataset}"}
    to_score = [m for m in methods if m["name"] not in reused]
    fresh = run_compare(CompareConfig.model_validate({**settings, "methods": to_score}), Path(args.out)) if to_score else []
    by_fresh = {r["method"]: r for r in fresh}
    rows = [reused.get(m["name"]) or by_fresh[m["name"]] for m in methods]
    config = CompareConfig.model_validate({**settings, "methods": methods})
    write_report(config, rows, Path(args.out))
    by_name = {r["method"]: r for r in rows}
    scores = {name: per_example_scores(row, "ndcg@10") for name, row in by_name.items()}
    base = by_name["fp32"]
    print(f"{'row':<52}{'NDCG@10':>9}{'Δ pts':>8}{'pairs/s':>9}{'speed ×':>9}")
    for row in rows:
        print(f"{row['method']:<52}{row['ndcg@10']:9.4f}{100 * (row['ndcg@10'] - base['ndcg@10']):+8.2f}"
              f"{row['pairs_per_s']:9.1f}{row['pairs_per_s'] / base['pairs_per_s']:9.2f}")
    summaries = []
    for spec in specs.values():
        summaries.append(recovery(scores, spec, "fp32", f"PTQ {spec}"))
        if args.control:
            summaries.append(recovery(scores, spec, CONTROL, f"{CONTROL} + PTQ {spec}"))
    for s in summaries:
        loss, gain, share = s["ptq_loss_points"], s["qat_gain_over_ptq_points"], s["share_of_ptq_loss_recovered"]
        print(f"{s['spec']} against {s['against']}: PTQ loses {loss[0]:.2f} points [{loss[1]:.2f}, {loss[2]:.2f}]; QAT gains {gain[0]:.2f} "
              f"[{gain[1]:.2f}, {gain[2]:.2f}] over PTQ: {share[0]:.0%} of the loss recovered "
              f"[{share[1]:.0%}, {share[2]:.0%}] ({s['queries']} queries, paired 95% bootstrap)")
    keep = ("method", "model", "quantization", "ndcg@10", "ci_low", "ci_high", "pairs_per_s", "size_mb",
            "peak_rss_mb", "p50_ms", "p95_ms")
    print(json.dumps({"rows": [{k: r.get(k) for k in keep} | {"reused": r["method"] in reused} for r in rows],
                      "recovery": summaries}))


if __name__ == "__main__":
    main()
