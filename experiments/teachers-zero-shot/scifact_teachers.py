"""Zero-shot teachers on SciFact test (300 claims, bm25s top-100): mpnet, SPLADE-tiny, and their ensemble (z-score
per query, equal weights: `rankers.ensemble.combine`, what `--ranker ensemble` computes), with each member scoring
the 30,000 pairs once and the ensemble fused from those scores. Both members encode each of the 5,074 distinct
abstracts once (`document_cache`), so their pairs/s is the rate over the whole run, not per cold query.
NDCG@10 with 95% bootstrap intervals and Holm-corrected paired randomization tests; writes scifact-teachers.json.
Usage: python experiments/teachers-zero-shot/scifact_teachers.py [--limit N]"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from loralab.data.schemas import Ranking
from loralab.eval.metrics import evaluate_ranking, per_query_ranking
from loralab.eval.statistics import bootstrap_interval, holm, paired_randomization_test
from loralab.rankers.ensemble import combine
from loralab.rankers.registry import build_ranker, ranker_config
from loralab.rankers.rerank import rerank_dataset
from loralab.tasks.rerank.evaluate import load_task_dataset

HERE = Path(__file__).parent
MEMBERS = {"mpnet bi-encoder": ("bi-encoder", "mpnet"), "SPLADE-tiny": ("splade", "splade-tiny")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="first N claims only (a quick check)")
    args = parser.parse_args()
    data = load_task_dataset("scifact", max_queries=args.limit)
    rankings, speed = {"BM25 (bm25s)": data.candidates}, {}
    for name, (kind, model) in MEMBERS.items():
        began = time.perf_counter()
        ranking, latency = rerank_dataset(build_ranker(ranker_config(kind, model=model, max_length=256)), data)
        rankings[name] = ranking
        speed[name] = {"pairs_per_s": latency.pairs_per_second, "p50_ms": latency.p50_ms,
                       "seconds": time.perf_counter() - began}
    fused = Ranking()
    for qid in rankings["mpnet bi-encoder"].query_ids:
        docs = [d for d, _ in rankings["mpnet bi-encoder"].ranked(qid)]
        member_scores = [[dict(rankings[m].ranked(qid))[d] for d in docs] for m in MEMBERS]
        fused.add(qid, dict(zip(docs, combine(member_scores, None, "zscore"))))
    rankings["ensemble mpnet + SPLADE-tiny"] = fused
    level = data.relevance_level
    per_query = {n: per_query_ranking(r, data.qrels, level)["ndcg@10"] for n, r in rankings.items()}
    rows = {}
    for name, ranking in rankings.items():
        interval = bootstrap_interval(per_query[name])
        rows[name] = {"metrics": evaluate_ranking(ranking, data.qrels, level).values, "ndcg@10_ci95": [interval.low, interval.high],
                      **speed.get(name, {}), "per_query_ndcg@10": per_query[name]}
        print(f"{name:32s} NDCG@10 {interval}", f"{speed[name]['pairs_per_s']:.1f} pairs/s" if name in speed else "")
    ens = "ensemble mpnet + SPLADE-tiny"
    tests = holm([paired_randomization_test(per_query[ens], per_query[b], ens, b) for b in rankings if b != ens])
    for t in tests:
        print(f"  {t.a} - {t.b}: {t.mean_difference:+.4f}, p = {t.p_value:.4f} (Holm {t.p_adjusted:.4f})")
    out = {"dataset": "scifact", "queries": len(per_query[ens]), "max_length": 256, "rows": rows,
           "tests": [vars(t) for t in tests]}
    (HERE / "scifact-teachers.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
