"""The SciFact student against the rows it must beat, per claim, on the 300 test claims: BM25 (bm25s) and the
zero-shot mpnet + SPLADE-tiny ensemble (per-claim scores from teachers-zero-shot/scifact-teachers.json), alone and
fused with BM25. Reads the run folders `loralab compare --config compare.yaml --out REPORT` wrote; NDCG@10 with 95%
bootstrap intervals and Holm-corrected paired randomization tests; writes results.json here.
Usage: python experiments/labelfree-scifact/paired.py REPORT"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from loralab.eval.statistics import paired_table

HERE = Path(__file__).parent
TEACHERS = HERE.parent / "teachers-zero-shot" / "scifact-teachers.json"


def main() -> None:
    report = Path(sys.argv[1])
    compared = json.loads((report / "results.json").read_text())
    per_query, rows = {}, {}
    for row in compared["rows"]:
        metrics = json.loads((Path(row["run_dir"]) / "metrics.json").read_text())
        per_query[row["method"]] = metrics["per_example"]["ndcg@10"]
        rows[row["method"]] = {k: row[k] for k in ("ndcg@10", "mrr@10", "recall@100", "p50_ms", "pairs_per_s", "ci")}
    teachers = json.loads(TEACHERS.read_text())["rows"]
    ensemble = "zero-shot ensemble mpnet + SPLADE-tiny"
    per_query[ensemble] = teachers["ensemble mpnet + SPLADE-tiny"]["per_query_ndcg@10"]
    students = [m for m in per_query if m.startswith("chain student")]
    intervals, tests = paired_table(per_query, [(s, b) for s in students for b in ("BM25 (bm25s)", ensemble)])
    for name, interval in intervals.items():
        rows.setdefault(name, {})["ndcg@10_ci95"] = vars(interval)
        print(f"{name:48s} {interval}")
    for t in tests:
        print(f"  {t.a} - {t.b}: {t.mean_difference:+.4f}, p = {t.p_value:.4f} (Holm {t.p_adjusted:.4f})")
    out = {"dataset": "scifact test (300 claims, bm25s top-100)", "report": str(report), "rows": rows,
           "tests": [vars(t) for t in tests], "per_query_ndcg@10": per_query}
    (HERE / "results.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
