"""The sampled-query chain's fold-0 bi-encoder student on fold 0's 22 DL19 queries (the ones whose pools its chain
never saw), against the same queries' scores of the rows measured before (labelfree-dl19-more/results.json: the
greedy one-query-per-passage students of the 600-passage and the grown chains, their zero-shot start, the teacher
ensemble, BM25): NDCG@10 with 95% bootstrap intervals and Holm-corrected paired randomization tests of the new
student against every row; then its agreement with the teacher on those queries against its start's (Kendall tau,
top-10 overlap; labelfree-dl19-more/agreement.py's measure, no judgment read).
Usage: python experiments/labelfree-dl19-sampled/evaluate.py STUDENT_RUN   (a `loralab train --out` folder)
Writes results.json here."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

from loralab.eval.statistics import paired_randomization_test, paired_table
from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker
from loralab.tasks.rerank.folds import fold_query_ids, restrict

HERE = Path(__file__).parent
MORE = HERE.parent / "labelfree-dl19-more"
STUDENT = "sampled chain (3 per passage), bi-encoder student"
START = "MiniLM bi-encoder (zero-shot, the students' start)"


def compare(student: str, rows: dict[str, dict[str, float]]) -> tuple[dict, list]:
    """Every row's 95% interval and Holm-corrected paired tests of `student` against every other row, printed."""
    intervals, tests = paired_table(rows, [(student, other) for other in rows if other != student])
    width = max(map(len, rows))
    for name, interval in intervals.items():
        print(f"{name:{width}s} {interval}")
    for t in tests:
        print(f"  {t.a} - {t.b}: {t.mean_difference:+.4f}, p = {t.p_value:.4f} (Holm {t.p_adjusted:.4f})")
    return intervals, tests


def main() -> None:
    student = sys.argv[1]
    data = load_task_dataset("trec-dl-2019")
    queries = fold_query_ids(data, 2, 0)
    fold = restrict(data, queries)
    result = run_ranker(fold, "bi-encoder", show_progress=False, model=student)
    earlier = json.loads((MORE / "results.json").read_text())["per_query_ndcg@10"]
    rows = {STUDENT: result.per_example["ndcg@10"]} | {name: {q: s[q] for q in queries} for name, s in earlier.items()}
    intervals, tests = compare(STUDENT, rows)

    # labelfree-dl19-more's agreement.py (experiment folders are not packages): the same measure and teacher
    measure = runpy.run_path(str(MORE / "agreement.py"))
    teacher = run_ranker(fold, "ensemble", show_progress=False, members=measure["TEACHER"]).outputs
    start = run_ranker(fold, "bi-encoder", show_progress=False, model="minilm").outputs
    ours, theirs = (measure["agreement"](ranking, teacher, queries) for ranking in (result.outputs, start))
    agreement = {}
    for name in ("kendall_tau", "top10_overlap"):
        test = paired_randomization_test(ours[name], theirs[name], STUDENT, START)
        agreement[name] = vars(test)
        print(f"agreement with the teacher, {name}: student - start {test.mean_difference:+.4f}, "
              f"p = {test.p_value:.4f}")

    out = {"dataset": "trec-dl-2019", "queries": "fold 0 of 2 (22 judged queries sorted by id)",
           "student": student, "rows": {name: vars(interval) for name, interval in intervals.items()},
           "tests": [vars(t) for t in tests], "agreement_with_teacher": agreement,
           "per_query_ndcg@10": rows, "per_query_agreement": {STUDENT: ours, START: theirs},
           "training": json.loads((Path(student) / "metrics.json").read_text())}
    (HERE / "results.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
