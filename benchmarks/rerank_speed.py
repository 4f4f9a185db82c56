"""Re-ranking throughput of the MiniLM bi-encoder and cross-encoder paths on DL19 candidates.

Prints a table and one JSON line. Ratios come from one run on one machine (these machines are noisy);
compare ratios, not absolute numbers, across machines.
Usage: python benchmarks/rerank_speed.py [--queries 5]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from loralab.data.registry import load_rerank_dataset
from loralab.models.batching import length_sorted_batches
from loralab.rankers.registry import build_ranker, ranker_config


def pairs_per_second(ranker, texts: list[str], batch_size: int, sort_by_length: bool) -> float:
    start = time.perf_counter()
    with torch.inference_mode():
        for _, batch in length_sorted_batches(ranker.tokenizer, texts, None, 256, batch_size, sort_by_length):
            ranker.model(**batch)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=5)
    args = parser.parse_args()
    data = load_rerank_dataset("trec-dl-2019").limited(max_queries=args.queries)
    texts = [data.corpus[d].full_text for q in data.candidates.query_ids for d in data.candidates.scores[q]]
    ranker = build_ranker(ranker_config("bi-encoder", model="minilm"))
    pairs_per_second(ranker, texts[:64], 32, True)  # warm-up
    rows = {}
    for batch_size in (1, 8, 32):
        for sort in (False, True):
            rows[f"bs{batch_size}-{'sorted' if sort else 'unsorted'}"] = pairs_per_second(ranker, texts, batch_size, sort)
    base = rows["bs1-unsorted"]
    print(f"{'config':<18}{'pairs/s':>10}{'x bs1':>8}")
    for name, value in rows.items():
        print(f"{name:<18}{value:>10.1f}{value / base:>8.2f}")
    print(json.dumps({"benchmark": "rerank_speed", "texts": len(texts), "pairs_per_s": rows,
                      "sorted_vs_unsorted_bs32": rows["bs32-sorted"] / rows["bs32-unsorted"]}))


if __name__ == "__main__":
    main()
