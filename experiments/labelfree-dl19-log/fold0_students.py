"""Students trained for fold 0, each re-ranking only fold 0's 22 DL19 queries (the ones its chain never saw), with
a 95% bootstrap interval and paired randomization tests against BM25 and against the generated-query LoRA student
of labelfree-dl19 (its fold-0 adapter, committed there) on the same queries. Writes results.json here.
Usage: python experiments/labelfree-dl19-log/fold0_students.py NAME=MODEL [NAME=MODEL ...]"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from loralab.eval.metrics import per_query_ranking
from loralab.eval.statistics import bootstrap_interval, paired_randomization_test
from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker
from loralab.tasks.rerank.folds import fold_query_ids, restrict

HERE = Path(__file__).parent
BASELINE = "generated-query LoRA student"


def main() -> None:
    data = load_task_dataset("trec-dl-2019")
    fold = restrict(data, fold_query_ids(data, 2, 0))
    bm25 = per_query_ranking(fold.candidates, fold.qrels, fold.relevance_level)["ndcg@10"]
    models = {BASELINE: str(HERE.parent / "labelfree-dl19" / "student-fold0")}
    models.update(arg.split("=", 1) for arg in sys.argv[1:])
    rows, scores = {}, {"BM25": bm25}
    for name, model in models.items():
        result = run_ranker(fold, "cross-encoder", show_progress=False, model=model)
        per_query = result.per_example["ndcg@10"]
        interval = bootstrap_interval(per_query)
        tests = {b: vars(paired_randomization_test(per_query, s, name, b)) for b, s in scores.items()}
        rows[name] = {"model": model, "ndcg@10": interval.mean, "ndcg@10_ci95": [interval.low, interval.high],
                      "pairs_per_s": result.throughput, "vs": tests, "per_query_ndcg@10": per_query}
        scores.setdefault(name, per_query) if name == BASELINE else None
        print(f"{name}: {interval}", *(f"| vs {b} {t['mean_difference']:+.4f} p={t['p_value']:.3f}"
                                      for b, t in tests.items()))
    out = {"dataset": "trec-dl-2019", "queries": "fold 0 of 2 (22 judged queries sorted by id)",
           "bm25_ndcg@10": bootstrap_interval(bm25).mean, "rows": rows}
    (HERE / "results.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
