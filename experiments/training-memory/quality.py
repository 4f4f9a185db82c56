"""Same quality at a fifth of the memory? Scores the run folders `benchmarks/train_memory.py --keep DIR` left (the
SciFact recipe cut to fixed steps, once as loralab trained before the memory change and once as it trains now) on
the SciFact test claims, and tests the difference per claim (paired randomization, bootstrap intervals).
Usage: python experiments/training-memory/quality.py DIR [--rows one-pass-unbucketed,default] [--claims 300]
Writes quality.json here; rows already in it are not scored again. `--pairs A:B,...` names the paired tests (one
Holm family); a row named `mean(A+B)` is the per-claim mean of two scored rows (e.g. one setting over two seeds).
Without --pairs the last row is tested against each other row."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from loralab.eval.statistics import paired_table
from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker

HERE = Path(__file__).parent
CANDIDATES, MAX_LENGTH = 30, 256  # the recipe's max length; BM25's top 30 keeps one row near 10 minutes here


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", type=Path, help="the --keep folder of benchmarks/train_memory.py")
    parser.add_argument("--rows", default="one-pass-unbucketed,default")
    parser.add_argument("--claims", type=int, default=300)
    parser.add_argument("--pairs", default="", help="paired tests as A:B,C:D (A minus B)")
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
           "runs": str(args.runs), "rows": {n: {**vars(intervals[n]), "pairs_per_s": speed[n],
                                                "per_query_ndcg@10": rows[n]} for n in names},
           "tests": [vars(t) for t in tests]}
    out_path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
