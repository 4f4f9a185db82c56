"""Bi-encoder students trained on the grown chains, cross-fitted on TREC DL 2019, against the rows measured before on
the same 43 queries (labelfree-dl19/bi-encoder-results.json: the zero-shot MiniLM bi-encoder they start from, the
teacher ensemble, BM25 and the bi-encoder students of the 600-passage chains): NDCG@10 with 95% bootstrap intervals
and Holm-corrected paired randomization tests, each new student against every other row.
Usage: python experiments/labelfree-dl19-more/evaluate.py "NAME=RERANK_RUN" ["NAME=RERANK_RUN" ...]
(RERANK_RUN: the folder `loralab rerank --ranker bi-encoder --crossfit ...` wrote); writes results.json here."""

from __future__ import annotations

import argparse
import json
import runpy
from pathlib import Path

HERE = Path(__file__).parent
EARLIER = HERE.parent / "labelfree-dl19"
RENAMED = {"bi-encoder student, lr 2e-4 (cross-fitted)": "600-passage chains, bi-encoder student lr 2e-4",
           "bi-encoder student, lr 1e-3 (cross-fitted)": "600-passage chains, bi-encoder student lr 1e-3"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("students", nargs="+", help="NAME=RUN: a run folder of `loralab rerank --crossfit ...`")
    args = parser.parse_args()
    # labelfree-dl19's bi_encoder.py (experiment folders are not packages): the same table, tests and output
    script = runpy.run_path(str(EARLIER / "bi_encoder.py"))
    students = {name: script["metrics"](run) for name, run in (spec.split("=", 1) for spec in args.students)}
    earlier = json.loads((EARLIER / "bi-encoder-results.json").read_text())["per_query_ndcg@10"]
    rows = {name: student["per_example"]["ndcg@10"] for name, student in students.items()}
    rows |= {RENAMED.get(name, name): per_query for name, per_query in earlier.items()
             if not name.startswith("cross-encoder student")}
    script["write_paired_results"](students, rows, HERE / "results.json")


if __name__ == "__main__":
    main()
