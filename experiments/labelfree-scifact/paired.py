"""The SciFact student against the rows it must beat, per claim, on the 300 test claims: BM25 (bm25s) and the
zero-shot mpnet + SPLADE-tiny ensemble (per-claim scores from teachers-zero-shot/scifact-teachers.json), alone and
fused with BM25. Reads the run folders `loralab compare --config compare.yaml --out REPORT` wrote; NDCG@10 with 95%
bootstrap intervals and Holm-corrected paired randomization tests; writes results.json here (or --out FILE).
Usage: python experiments/labelfree-scifact/paired.py REPORT [REPORT ...] [--out FILE] [--against ROW ...]"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from loralab.eval.statistics import paired_table

HERE = Path(__file__).parent
TEACHERS = HERE.parent / "teachers-zero-shot" / "scifact-teachers.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("reports", type=Path, nargs="+", help="folders `loralab compare --out` wrote (rows merged)")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--against", action="append", default=[], help="another row each student row is tested "
                        "against (alone against alone, fused against fused), e.g. the model it started from")
    args = parser.parse_args()
    per_query, rows = {}, {}
    for row in [row for report in args.reports for row in json.loads((report / "results.json").read_text())["rows"]]:
        metrics = json.loads((Path(row["run_dir"]) / "metrics.json").read_text())
        per_query[row["method"]] = metrics["per_example"]["ndcg@10"]
        rows[row["method"]] = {k: row[k] for k in ("ndcg@10", "mrr@10", "recall@100", "p50_ms", "pairs_per_s", "ci")}
    teachers = json.loads(TEACHERS.read_text())["rows"]
    ensemble = "zero-shot ensemble mpnet + SPLADE-tiny"
    per_query[ensemble] = teachers["ensemble mpnet + SPLADE-tiny"]["per_query_ndcg@10"]
    students = [m for m in per_query if m.startswith("chain student")]
    pairs = [(s, b) for s in students for b in ("BM25 (bm25s)", ensemble)]
    # alone against alone, "<student> + first stage (alpha 0.5)" against "<other> + first stage (alpha 0.5)"
    fused = {s: s[s.find(" + ") :] if " + " in s else "" for s in students}
    for other in args.against:
        for s in students:  # a pair of students is tested once, not once in each direction
            pair = (s, other + fused[s])
            if pair[1] in per_query and pair[1] != s and pair not in pairs and pair[::-1] not in pairs:
                pairs.append(pair)
    intervals, tests = paired_table(per_query, pairs)
    for name, interval in intervals.items():
        rows.setdefault(name, {})["ndcg@10_ci95"] = vars(interval)
        print(f"{name:48s} {interval}")
    for t in tests:
        print(f"  {t.a} - {t.b}: {t.mean_difference:+.4f}, p = {t.p_value:.4f} (Holm {t.p_adjusted:.4f})")
    out = {"dataset": "scifact test (300 claims, bm25s top-100)", "reports": [str(r) for r in args.reports],
           "rows": rows,
           "tests": [vars(t) for t in tests], "per_query_ndcg@10": per_query}
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
