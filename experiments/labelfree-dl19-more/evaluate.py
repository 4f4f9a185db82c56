"""Bi-encoder students trained on the grown chains, cross-fitted on TREC DL 2019, against the rows measured before on
the same 43 queries (labelfree-dl19/bi-encoder-results.json: the zero-shot MiniLM bi-encoder they start from, the
teacher ensemble, BM25 and the bi-encoder students of the 600-passage chains): NDCG@10 with 95% bootstrap intervals
and Holm-corrected paired randomization tests, each new student against every other row.
Usage: python experiments/labelfree-dl19-more/evaluate.py "NAME=RERANK_RUN" ["NAME=RERANK_RUN" ...]
(RERANK_RUN: the folder `loralab rerank --ranker bi-encoder --crossfit ...` wrote); writes results.json here."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from loralab.eval.statistics import paired_table

HERE = Path(__file__).parent
EARLIER = HERE.parent / "labelfree-dl19" / "bi-encoder-results.json"
RENAMED = {"bi-encoder student, lr 2e-4 (cross-fitted)": "600-passage chains, bi-encoder student lr 2e-4",
           "bi-encoder student, lr 1e-3 (cross-fitted)": "600-passage chains, bi-encoder student lr 1e-3"}


def metrics(run: Path) -> dict:
    return json.loads((Path(run) / "metrics.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("students", nargs="+", help="NAME=RUN: a run folder of `loralab rerank --crossfit ...`")
    args = parser.parse_args()
    students = {name: metrics(run) for name, run in (spec.split("=", 1) for spec in args.students)}
    earlier = json.loads(EARLIER.read_text())["per_query_ndcg@10"]
    rows = {name: student["per_example"]["ndcg@10"] for name, student in students.items()}
    rows |= {RENAMED.get(name, name): per_query for name, per_query in earlier.items()
             if not name.startswith("cross-encoder student")}
    names = list(students)
    pairs = [(s, o) for i, s in enumerate(names) for o in names[i + 1 :] + [r for r in rows if r not in students]]
    intervals, tests = paired_table(rows, pairs)
    for name, interval in intervals.items():
        print(f"{name:52s} {interval}")
    for t in tests:
        print(f"  {t.a} - {t.b}: {t.mean_difference:+.4f}, p = {t.p_value:.4f} (Holm {t.p_adjusted:.4f})")
    crossfit = {name: student["config"]["crossfit"] for name, student in students.items()}
    out = {"dataset": "trec-dl-2019 (43 queries, Anserini BM25 top-100)", "crossfit": crossfit,
           "rows": {name: vars(interval) for name, interval in intervals.items()}, "tests": [vars(t) for t in tests],
           "per_query_ndcg@10": rows,
           "training": {Path(run).name: metrics(run) for runs in crossfit.values() for run in runs}}
    (HERE / "results.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
