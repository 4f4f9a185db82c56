"""Significance for a comparison: each row's 95% bootstrap interval on the primary metric, and paired tests of
every row against the baseline (the first row) and against the best row, Holm-corrected across the family.

The per-example scores come from each row's run folder (`metrics.json` -> `per_example[primary]`), so the tests
pair the same queries/examples. Rows without per-example scores (e.g. an old run) are left unmarked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loralab.eval.statistics import bootstrap_interval, holm, paired_randomization_test

ALPHA = 0.05


def per_example_scores(row: dict[str, Any], primary: str) -> dict[str, float] | None:
    path = Path(str(row.get("run_dir", ""))) / "metrics.json"
    if not row.get("run_dir") or not path.is_file():
        return None
    scores = json.loads(path.read_text()).get("per_example", {}).get(primary)
    return {str(k): float(v) for k, v in scores.items()} if scores else None


def annotate(rows: list[dict[str, Any]], primary: str, greater_is_better: bool = True) -> dict[str, Any]:
    """Adds `ci_low`, `ci_high`, `p_vs_baseline`, `p_vs_best` (Holm-adjusted) to the rows; returns a summary."""
    scores = {r["method"]: per_example_scores(r, primary) for r in rows}
    have = [r for r in rows if scores[r["method"]] and r.get(primary) is not None]
    for row in have:
        interval = bootstrap_interval(scores[row["method"]])
        row["ci_low"], row["ci_high"] = interval.low, interval.high
    if len(have) < 2:
        return {"baseline": None, "best": None, "alpha": ALPHA, "tests": []}
    baseline = have[0]
    best = max(have, key=lambda r: r[primary] if greater_is_better else -r[primary])
    pairs = [(r, baseline) for r in have if r is not baseline]
    pairs += [(r, best) for r in have if r is not best and r is not baseline]  # best vs baseline: tested once
    tests = [paired_randomization_test(scores[a["method"]], scores[b["method"]], a["method"], b["method"])
             for a, b in pairs]
    adjusted = holm(tests)
    for (a, b), test in zip(pairs, adjusted):
        a["p_vs_baseline" if b is baseline else "p_vs_best"] = test.p_adjusted
        if b is baseline and a is best:
            baseline["p_vs_best"] = test.p_adjusted
    return {
        "baseline": baseline["method"], "best": best["method"], "alpha": ALPHA, "correction": "holm",
        "greater_is_better": greater_is_better,
        "test": "paired randomization (sign flips), two-sided, 10,000 resamples",
        "tests": [t.__dict__ for t in adjusted],
    }


def noise_lines(rows: list[dict[str, Any]], summary: dict[str, Any], primary: str) -> list[str]:
    """Plain-language lines for the report: which differences are real and which are noise."""
    if not summary.get("tests"):
        return []
    baseline, best = summary["baseline"], summary["best"]
    base_value = next(r[primary] for r in rows if r["method"] == baseline)
    real = [r for r in rows if r.get("p_vs_baseline") is not None and r["p_vs_baseline"] < ALPHA]
    better = [r["method"] for r in real if (r[primary] > base_value) == summary["greater_is_better"]]
    worse = [r["method"] for r in real if r["method"] not in better]
    noise = [r["method"] for r in rows if r.get("p_vs_baseline") is not None and r["p_vs_baseline"] >= ALPHA]
    tied_best = [r["method"] for r in rows if r.get("p_vs_best") is not None and r["p_vs_best"] >= ALPHA]
    lines = [f"Significance: paired randomization tests on per-example {primary}, Holm-corrected, alpha {ALPHA}; "
             f"95% bootstrap intervals in the table."]
    if better:
        lines.append(f"Significantly better than the baseline ({baseline}): {', '.join(better)}.")
    if worse:
        lines.append(f"Significantly worse than the baseline ({baseline}): {', '.join(worse)}.")
    if noise:
        lines.append(f"Within noise of the baseline ({baseline}): {', '.join(noise)}: their difference is not "
                     "significant on this many examples.")
    if tied_best:
        lines.append(f"Not distinguishable from the best ({best}): {', '.join(tied_best)}.")
    return lines
