"""Did training move the student towards its teacher on real DL19 queries? For each of the 43 queries, the Kendall
tau between a ranker's scores and the teacher ensemble's over the BM25 top-100, and the overlap of their top 10;
the cross-fitted student against its zero-shot start, paired randomization over the queries. No judgment is read.
Usage: python experiments/labelfree-dl19-more/agreement.py STUDENT_RUN.trec  (from `loralab rerank --crossfit --out`)
Writes agreement.json here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scipy.stats import kendalltau

from loralab.data.trec import read_run
from loralab.eval.statistics import bootstrap_interval, paired_randomization_test
from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker

HERE = Path(__file__).parent
TEACHER = [{"ranker": "bi-encoder", "model": "mpnet", "max_length": 256},
           {"ranker": "splade", "model": "splade-tiny", "max_length": 256}]


def top10(scores: dict[str, float]) -> set[str]:
    return set(sorted(scores, key=scores.get, reverse=True)[:10])


def agreement(ranking, teacher, queries) -> dict[str, dict[str, float]]:
    tau, overlap = {}, {}
    for q in queries:
        theirs = dict(teacher.ranked(q, 100))
        ours = dict(ranking.ranked(q, 100))
        docs = sorted(set(theirs) & set(ours))
        tau[q] = float(kendalltau([ours[d] for d in docs], [theirs[d] for d in docs]).statistic)
        overlap[q] = len(top10(ours) & top10(theirs)) / 10
    return {"kendall_tau": tau, "top10_overlap": overlap}


def main() -> None:
    data = load_task_dataset("trec-dl-2019")
    queries = sorted(data.qrels)
    teacher = run_ranker(data, "ensemble", show_progress=False, members=TEACHER).outputs
    rows = {"cross-fitted student (grown chains)": agreement(read_run(Path(sys.argv[1])), teacher, queries),
            "MiniLM bi-encoder, zero-shot (its start)": agreement(
                run_ranker(data, "bi-encoder", show_progress=False, model="minilm").outputs, teacher, queries)}
    (student, a), (start, b) = rows.items()
    out = {"dataset": "trec-dl-2019 (43 queries, BM25 top-100)", "teacher": TEACHER, "rows": {}, "tests": {}}
    for measure in ("kendall_tau", "top10_overlap"):
        for name, per_query in rows.items():
            interval = bootstrap_interval(per_query[measure])
            out["rows"].setdefault(name, {})[measure] = vars(interval)
            print(f"{name:42s} {measure:14s} {interval}")
        test = paired_randomization_test(a[measure], b[measure], student, start)
        out["tests"][measure] = vars(test)
        print(f"  {measure}: student - start {test.mean_difference:+.4f}, p = {test.p_value:.4f}")
    out["per_query"] = rows
    (HERE / "agreement.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
