"""bm25s (loralab's BM25) vs rank_bm25 on SciFact test: query throughput and ranking quality.

Both libraries get the very same tokens (bm25s' tokenizer: lower-case, English stop words, Snowball stemmer)
and the same k1=1.5, b=0.75, so only the scoring engine differs. Query tokenization is outside the timed
part for both. Throughput is queries per second on one thread; the ratio comes from one run (these machines
are shared and noisy: compare ratios, not absolute numbers, across machines).
Usage: python benchmarks/bm25_vs_rank_bm25.py [--queries 300] [--k 100]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from loralab.data.registry import load_rerank_dataset
from loralab.data.schemas import Ranking
from loralab.eval.metrics import evaluate_ranking
from loralab.retrieval.bm25 import BM25Config, BM25Index, bm25_tokens


def run_bm25s(doc_ids, doc_tokens, qids, query_tokens, k: int, config: BM25Config):
    """loralab's BM25 (bm25s scoring matrix + argpartition top-k)."""
    start = time.perf_counter()
    index = BM25Index.build(config, doc_ids, doc_tokens)
    index_s = time.perf_counter() - start
    start = time.perf_counter()
    ranking = index.search_tokens(qids, query_tokens, k)
    return ranking, index_s, time.perf_counter() - start


def run_rank_bm25(doc_ids, doc_tokens, qids, query_tokens, k: int, config: BM25Config):
    """rank_bm25's BM25Okapi, with the same top-k selection and result type as above."""
    from rank_bm25 import BM25Okapi

    start = time.perf_counter()
    retriever = BM25Okapi(doc_tokens, k1=config.k1, b=config.b)
    index_s = time.perf_counter() - start
    ranking = Ranking()
    start = time.perf_counter()
    for qid, query in zip(qids, query_tokens):
        scores = retriever.get_scores(query)
        top = np.argpartition(-scores, k - 1)[:k]
        ranking.add(qid, {doc_ids[int(i)]: float(scores[i]) for i in top if scores[i] > 0})
    return ranking, index_s, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=100)
    args = parser.parse_args()
    data = load_rerank_dataset("scifact").limited(max_queries=args.queries)
    config = BM25Config()
    doc_ids = list(data.corpus)
    doc_tokens = bm25_tokens([data.corpus[d].full_text for d in doc_ids], config)
    qids = list(data.queries)
    query_tokens = bm25_tokens([data.queries[q] for q in qids], config)
    rows = {}
    for name, run in (("bm25s", run_bm25s), ("rank_bm25", run_rank_bm25)):
        run(doc_ids, doc_tokens, qids[:5], query_tokens[:5], args.k, config)  # warm-up: first-call allocations
        ranking, index_s, query_s = run(doc_ids, doc_tokens, qids, query_tokens, args.k, config)
        metrics = evaluate_ranking(ranking, data.qrels, data.relevance_level)
        rows[name] = {
            "index_s": index_s, "query_s": query_s, "queries_per_s": len(qids) / query_s,
            "ndcg@10": metrics.values["ndcg@10"], "recall@100": metrics.values["recall@100"],
        }
    ratio = rows["bm25s"]["queries_per_s"] / rows["rank_bm25"]["queries_per_s"]
    print(f"SciFact test, {len(qids)} queries over {len(doc_ids)} documents, top {args.k}, one thread")
    print(f"{'library':<11}{'index s':>9}{'queries/s':>12}{'ndcg@10':>9}{'recall@100':>12}")
    for name, r in rows.items():
        print(f"{name:<11}{r['index_s']:>9.2f}{r['queries_per_s']:>12.1f}{r['ndcg@10']:>9.4f}{r['recall@100']:>12.4f}")
    print(f"bm25s / rank_bm25 query throughput: {ratio:.1f}x")
    print(json.dumps({"benchmark": "bm25_vs_rank_bm25", "queries": len(qids), "documents": len(doc_ids),
                      "k": args.k, "results": rows, "throughput_ratio": ratio}))


if __name__ == "__main__":
    main()
