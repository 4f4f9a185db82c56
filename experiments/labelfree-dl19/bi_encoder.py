"""The bi-encoder students (`loralab train --ranker bi-encoder`) on TREC DL 2019, cross-fitted, against the point they
started from (the zero-shot MiniLM bi-encoder), the teacher ensemble, BM25 and the cross-encoder students of this
folder: NDCG@10 with 95% bootstrap intervals and Holm-corrected paired randomization tests over the 43 queries.
Reads the run folders `loralab rerank` wrote (commands.sh); writes bi-encoder-results.json here.
Usage: python experiments/labelfree-dl19/bi_encoder.py ZERO_SHOT_RUN "NAME=STUDENT_RUN" ["NAME=STUDENT_RUN" ...]"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from loralab.eval.metrics import per_query_ranking
from loralab.eval.statistics import paired_table
from loralab.tasks.rerank.evaluate import load_task_dataset

HERE = Path(__file__).parent
START = "MiniLM bi-encoder (zero-shot, the students' start)"
TEACHER = "teacher: mpnet + SPLADE-tiny ensemble (zero-shot)"


def metrics(run: Path) -> dict:
    return json.loads((Path(run) / "metrics.json").read_text())


def write_paired_results(students: dict[str, dict], rows: dict[str, dict[str, float]], path: Path) -> None:
    """Intervals for every row and Holm-corrected paired tests of each student against every later row; printed,
    and written to `path` with the per-query scores and the students' training metrics."""
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
    path.write_text(json.dumps(out, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("start", type=Path, help="run folder of `loralab rerank --ranker bi-encoder --model minilm`")
    parser.add_argument("students", nargs="+", help="NAME=RUN: a run folder of `loralab rerank --ranker bi-encoder "
                        "--crossfit ...`")
    args = parser.parse_args()
    students = {name: metrics(run) for name, run in (spec.split("=", 1) for spec in args.students)}
    data = load_task_dataset("trec-dl-2019")
    ensemble = HERE.parent / "teachers-zero-shot" / "dl19-ensemble" / "ensemble-metrics.json"
    rows = {name: student["per_example"]["ndcg@10"] for name, student in students.items()} | {
        START: metrics(args.start)["per_example"]["ndcg@10"],
        TEACHER: json.loads(ensemble.read_text())["per_example"]["ndcg@10"],
        "BM25 (Anserini run)": per_query_ranking(data.candidates, data.qrels, data.relevance_level)["ndcg@10"],
        "cross-encoder student (cross-fitted, this folder)":
            json.loads((HERE / "results.json").read_text())["rows"]["student (cross-fitted)"]["per_query_ndcg@10"],
    }
    write_paired_results(students, rows, HERE / "bi-encoder-results.json")


if __name__ == "__main__":
    main()
