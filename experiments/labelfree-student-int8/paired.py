"""NDCG@10 of two TREC runs on TREC DL 2019 with 95% bootstrap intervals and the paired randomization test of
their difference; writes the JSON given last. Usage: python paired.py INT8.trec FP32.trec OUT.json"""

import json
import sys
from pathlib import Path

from loralab.data.registry import load_rerank_dataset
from loralab.data.trec import read_run
from loralab.eval.metrics import per_query_ranking
from loralab.eval.statistics import bootstrap_interval, paired_randomization_test

data = load_rerank_dataset("trec-dl-2019")
a_path, b_path, out = sys.argv[1:4]
a, b = (per_query_ranking(read_run(Path(p)), data.qrels, data.relevance_level)["ndcg@10"] for p in (a_path, b_path))
test = paired_randomization_test(a, b, a_path, b_path)
result = {"a": a_path, "b": b_path, "ndcg@10_a": vars(bootstrap_interval(a)), "ndcg@10_b": vars(bootstrap_interval(b)),
          "a_minus_b": vars(test), "per_query_a": a, "per_query_b": b}
print(f"{a_path}: {bootstrap_interval(a)}  {b_path}: {bootstrap_interval(b)}  "
      f"difference {test.mean_difference:+.4f} (p = {test.p_value:.3f}, {test.num_examples} queries)")
Path(out).write_text(json.dumps(result, indent=1) + "\n")
