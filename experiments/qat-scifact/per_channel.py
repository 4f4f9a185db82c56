"""Addendum: post-training int8-dynamic with one weight scale per output channel (`int8-dynamic:per_channel=true`)
on the same float models and data as the QAT ablation, against the float rows stored in results.json (paired
randomization test and 95% bootstrap interval over the 300 claims). Writes per_channel.json here.
Usage: python experiments/qat-scifact/per_channel.py [MODEL=STORED_FLOAT_ROW ...] [--spec SPEC --out NAME.json]
(default: merged/qat-base=fp32, int8-dynamic:per_channel=true, per_channel.json)"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from loralab.eval.statistics import bootstrap_interval, paired_randomization_test
from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker

HERE = Path(__file__).parent
SPEC = "int8-dynamic:per_channel=true"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="*", default=["merged/qat-base=fp32"])
    parser.add_argument("--spec", default=SPEC)
    parser.add_argument("--out", default="per_channel.json")
    args = parser.parse_args()
    spec = args.spec
    stored = json.loads((HERE / "results.json").read_text())["per_query_ndcg@10"]
    data = load_task_dataset("scifact", max_queries=300, max_candidates=30)
    rows = {}
    for arg in args.models:
        model, _, float_row = arg.partition("=")
        result = run_ranker(data, "cross-encoder", show_progress=False, model=model, max_length=192, quantize=spec)
        per_query = result.per_example["ndcg@10"]
        test = paired_randomization_test(per_query, stored[float_row], f"{float_row} + PTQ {spec}", float_row)
        interval = bootstrap_interval(per_query)
        rows[f"{float_row} + PTQ {spec}"] = {"model": model, "ndcg@10": interval.mean,
                                              "ci95": [interval.low, interval.high], "vs_float": vars(test),
                                              "pairs_per_s": result.throughput, "per_query_ndcg@10": per_query}
        print(f"{model} + {spec}: {interval}; vs {float_row}: {test.mean_difference:+.4f} (p = {test.p_value:.3f})")
    (HERE / args.out).write_text(json.dumps({"data": "SciFact test, 300 claims, bm25s top 30, max length 192",
                                             "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
