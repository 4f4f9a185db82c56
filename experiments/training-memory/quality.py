"""Same quality at a fifth of the memory? Scores the run folders `benchmarks/train_memory.py --keep DIR` left (the
SciFact recipe cut to fixed steps, once as loralab trained before the memory change and once as it trains now) on
the SciFact test claims, and tests the difference per claim (paired randomization, bootstrap intervals).
Usage: python experiments/training-memory/quality.py DIR [--rows one-pass-unbucketed,default] [--claims 300]
Writes quality.json here; rows already in it are not scored again (and kept when not named). `--pairs A:B,...`
names the paired tests (one Holm family); a row named `mean(A+B)` is the per-claim mean of two scored rows (e.g. one
setting over two seeds). Without --pairs the last row is tested against each other row. `--seeds A:B` compares two
settings over the seeds both were trained with (rows `A`, at loralab's default seed, and `A-seedN`): the training
seed, not the claims, is then the unit, so the interval holds the run-to-run noise of training."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
from scipy import stats

from loralab.eval.statistics import paired_table
from loralab.methods.configs import TrainConfig
from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker

HERE = Path(__file__).parent
CANDIDATES, MAX_LENGTH = 30, 256  # the recipe's max length; BM25's top 30 keeps one row near 10 minutes here


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", type=Path, help="the --keep folder of benchmarks/train_memory.py")
    parser.add_argument("--rows", default="one-pass-unbucketed,default")
    parser.add_argument("--claims", type=int, default=300)
    parser.add_argument("--pairs", default="", help="paired tests as A:B,C:D (A minus B)")
    parser.add_argument("--seeds", default="", help="A:B, setting A minus setting B over their common seeds")
    args = parser.parse_args()
    data = load_task_dataset("scifact", max_queries=args.claims, max_candidates=CANDIDATES)
    out_path = HERE / "quality.json"
    stored = json.loads(out_path.read_text())["rows"] if out_path.exists() else {}
    rows, speed = {}, {}
    for name in args.rows.split(","):
        if name in stored:
            rows[name], speed[name] = stored[name]["per_query_ndcg@10"], stored[name]["pairs_per_s"]
            continue
        result = run_ranker(data, "cross-encoder", show_progress=False, model=str(args.runs / name),
                            max_length=MAX_LENGTH)
        rows[name], speed[name] = result.per_example["ndcg@10"], result.throughput
        print(f"{name}: NDCG@10 {sum(rows[name].values()) / len(rows[name]):.4f}", flush=True)
    names = list(rows)
    pairs = [tuple(pair.split(":")) for pair in args.pairs.split(",")] if args.pairs else [
        (names[-1], other) for other in names[:-1]]
    for name in {n for pair in pairs for n in pair if n.startswith("mean(")}:
        a, b = name[5:-1].split("+")
        rows[name] = {q: (rows[a][q] + rows[b][q]) / 2 for q in rows[a]}
        speed[name] = None
    names = list(rows)
    intervals, tests = paired_table(rows, pairs)
    for name, interval in intervals.items():
        print(f"{name:24s} {interval}")
    for test in tests:
        print(f"{test.a} - {test.b}: {test.mean_difference:+.4f}, p = {test.p_value:.3f} (Holm {test.p_adjusted:.3f})")
    out = {"data": f"SciFact test, {args.claims} claims, bm25s top {CANDIDATES}, max length {MAX_LENGTH}",
           "runs": str(args.runs),
           # rows scored earlier and not named this time are kept: a later call never drops a scored adapter
           "rows": {**stored, **{n: {**vars(intervals[n]), "pairs_per_s": speed[n],
                                     "per_query_ndcg@10": rows[n]} for n in names}},
           "tests": [vars(t) for t in tests]}
    if args.seeds:
        out["over_seeds"] = over_seeds(rows, *args.seeds.split(":"))
        print(json.dumps(out["over_seeds"], indent=1))
    out_path.write_text(json.dumps(out, indent=1) + "\n")


def over_seeds(rows: dict[str, dict[str, float]], a: str, b: str) -> dict:
    """Mean NDCG@10 of each training seed's run under settings a and b, and a paired t-interval of a - b over the
    seeds (same seed: same initial head, same groups in the same order; only the setting differs)."""
    def by_seed(setting: str) -> dict[int, float]:
        found = {}
        for name, per_claim in rows.items():
            match = re.fullmatch(re.escape(setting) + r"(?:-seed(\d+))?", name)
            if match:
                found[int(match.group(1) or TrainConfig.seed)] = float(np.mean(list(per_claim.values())))
        return found

    score_a, score_b = by_seed(a), by_seed(b)
    seeds = sorted(score_a.keys() & score_b.keys())
    if len(seeds) < 2:
        raise SystemExit(f"--seeds {a}:{b}: need rows of both settings at two seeds or more, found {seeds}")
    runs_a, runs_b = [score_a[s] for s in seeds], [score_b[s] for s in seeds]
    diffs = np.subtract(runs_a, runs_b)
    half = stats.t.ppf(0.975, len(seeds) - 1) * diffs.std(ddof=1) / np.sqrt(len(seeds))
    return {"a": a, "b": b, "seeds": seeds, "ndcg@10_a": runs_a, "ndcg@10_b": runs_b,
            "mean_a": float(np.mean(runs_a)), "mean_b": float(np.mean(runs_b)),
            "seed_sd_a": float(np.std(runs_a, ddof=1)), "seed_sd_b": float(np.std(runs_b, ddof=1)),
            "mean_difference": float(diffs.mean()), "ci95": [float(diffs.mean() - half), float(diffs.mean() + half)],
            "p_paired_t": float(stats.ttest_rel(runs_a, runs_b).pvalue)}

if __name__ == "__main__":
    main()
