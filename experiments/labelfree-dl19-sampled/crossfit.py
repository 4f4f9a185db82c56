"""The sampled-query students cross-fitted on all 43 DL19 queries: fold 0's per-query NDCG@10 from results.json
(evaluate.py, the fold-0 student), fold 1's re-ranked here by the fold-1 student, against the cross-fitted rows of
labelfree-dl19-more/results.json on the same queries, with Holm-corrected paired randomization tests.
Usage: python experiments/labelfree-dl19-sampled/crossfit.py FOLD1_STUDENT_RUN; writes results-crossfit.json here."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker
from loralab.tasks.rerank.folds import fold_query_ids, restrict

HERE = Path(__file__).parent
STUDENT = "sampled chains (3 per passage), bi-encoder students (cross-fitted)"
FOLD0_STUDENT = "sampled chain (3 per passage), bi-encoder student"  # evaluate.py's row


def main() -> None:
    student = sys.argv[1]
    fold0 = json.loads((HERE / "results.json").read_text())
    data = load_task_dataset("trec-dl-2019")
    fold1 = run_ranker(restrict(data, fold_query_ids(data, 2, 1)), "bi-encoder", show_progress=False, model=student)
    ndcg = fold0["per_query_ndcg@10"][FOLD0_STUDENT] | fold1.per_example["ndcg@10"]
    earlier = json.loads((HERE.parent / "labelfree-dl19-more" / "results.json").read_text())["per_query_ndcg@10"]
    if set(ndcg) != set(next(iter(earlier.values()))):
        raise SystemExit("the two folds do not cover the 43 queries of the earlier rows")
    rows = {STUDENT: ndcg} | earlier
    intervals, tests = runpy.run_path(str(HERE / "evaluate.py"))["compare"](STUDENT, rows)  # the same table
    out = {"dataset": "trec-dl-2019 (43 queries, cross-fitted)", "students": [fold0["student"], student],
           "rows": {name: vars(interval) for name, interval in intervals.items()}, "tests": [vars(t) for t in tests],
           "per_query_ndcg@10": rows, "training_fold1": json.loads((Path(student) / "metrics.json").read_text())}
    (HERE / "results-crossfit.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
