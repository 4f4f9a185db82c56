"""A label-free student against its teacher: re-ranking throughput on the same pairs, in one run.

Each ranker re-ranks the BM25 top-100 of the first --queries queries of --dataset (default trec-dl-2019; BM25 is
run when a dataset ships no candidates), warmed up on the first query, then best of --rounds passes, exactly as
`loralab rerank` calls it (`Ranker.score` per query). Prints pairs/s and each ranker's speed as a multiple of the
first one (the teacher). Ratios from one run on one machine.
A bi-encoder or SPLADE teacher re-encodes every passage on every pass (`document_cache=0`): its later passes
would otherwise only look vectors up, which is a different system (a precomputed index), not a re-ranker.
A model spec may end in @QUANT (e.g. @int8-dynamic): quantized after loading, as `-o quantize=` does.
Usage: python benchmarks/student_vs_teacher.py --ranker teacher=bi-encoder:mpnet \
           --ranker student=cross-encoder:experiments/labelfree-dl19/student-fold0 \
           --ranker student-int8=cross-encoder:experiments/labelfree-dl19/student-fold0@int8-dynamic \
           [--dataset scifact] [--queries 8] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import time

import torch

from loralab.data.registry import load_rerank_dataset
from loralab.rankers.registry import build_ranker, ranker_config
from loralab.retrieval.bm25 import with_bm25_candidates


def measure(spec: str, queries: list[tuple[str, list]], rounds: int) -> dict:
    kind, _, model = spec.partition(":")
    model, _, quantize = model.partition("@")
    options = {"quantize": quantize} if quantize else {}
    if kind in ("bi-encoder", "splade"):
        options["document_cache"] = 0
    ranker = build_ranker(ranker_config(kind, model=model, max_length=256, **options))
    ranker.score(*queries[0])  # warm-up: kernel creation is a one-off cost
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for query, docs in queries:
            ranker.score(query, docs)
        best = min(best, time.perf_counter() - start)
    pairs = sum(len(docs) for _, docs in queries)
    del ranker
    gc.collect()
    return {"spec": spec, "pairs": pairs, "seconds": round(best, 3), "pairs_per_s": round(pairs / best, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranker", action="append", required=True, help="NAME=KIND:MODEL; the first is the baseline")
    parser.add_argument("--dataset", default="trec-dl-2019", help="a re-ranking dataset with first-stage candidates")
    parser.add_argument("--queries", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    data = with_bm25_candidates(load_rerank_dataset(args.dataset).limited(max_queries=args.queries))
    queries = [(data.queries[q], [data.corpus[d] for d, _ in data.candidates.ranked(q)])
               for q in data.candidates.query_ids]
    rows = {}
    for named in args.ranker:
        name, _, spec = named.partition("=")
        rows[name] = measure(spec, queries, args.rounds)
    base = next(iter(rows.values()))["pairs_per_s"]
    print(f"{'ranker':<16}{'pairs/s':>10}{'x first':>9}  spec")
    for name, row in rows.items():
        row["x_first"] = round(row["pairs_per_s"] / base, 2)
        print(f"{name:<16}{row['pairs_per_s']:>10.1f}{row['x_first']:>9.2f}  {row['spec']}")
    result = {"benchmark": "student_vs_teacher", "dataset": args.dataset, "queries": len(queries),
              "threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine(), "rows": rows}
    print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
