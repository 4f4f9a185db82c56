"""Addendum: post-training int8-dynamic with one weight scale per output channel (`int8-dynamic:per_channel=true`)
on the same float models and data as the QAT ablation, against the float rows stored in results.json (paired
randomization test and 95% bootstrap interval over the 300 claims). Writes per_channel.json here.
Usage: python experiments/qat-scifact/per_channel.py [MODEL=STORED_FLOAT_ROW ...]
(default: merged/qat-base=fp32)"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from loralab.eval.statistics import bootstrap_interval, paired_randomization_test
from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker

HERE = Path(__file__).parent
SPEC = "int8-dynamic:per_channel=true"


def main() -> None:
    stored = json.loads((HERE / "results.json").read_text())["per_query_ndcg@10"]
    data = load_task_dataset("scifact", max_queries=300, max_candidates=30)
    rows = {}
    for arg in sys.argv[1:] or ["merged/qat-base=fp32"]:
        model, _, float_row = arg.partition("=")
        result = run_ranker(data, "cross-encoder", show_progress=False, model=model, max_length=192, quantize=SPEC)
        per_query = result.per_example["ndcg@10"]
        test = paired_randomization_test(per_query, stored[float_row], f"{float_row} + PTQ {SPEC}", float_row)
        interval = bootstrap_interval(per_query)
        rows[f"{float_row} + PTQ {SPEC}"] = {"model": model, "ndcg@10": interval.mean,
                                             "ci95": [interval.low, interval.high], "vs_float": vars(test),
                                             "pairs_per_s": result.throughput, "per_query_ndcg@10": per_query}
        print(f"{model} + {SPEC}: {interval}; vs {float_row}: {test.mean_difference:+.4f} (p = {test.p_value:.3f})")
    (HERE / "per_channel.json").write_text(json.dumps({"data": "SciFact test, 300 claims, bm25s top 30, max length 192",
                                                       "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
