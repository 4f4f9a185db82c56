"""A comparison report says which differences are significant, and ends in a verdict when given a budget."""

import json

import numpy as np

from loralab.compare.config import CompareConfig
from loralab.compare.report import write_report


def _row(tmp_path, name, scores, **costs):
    folder = tmp_path / "runs" / name
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps({"per_example": {"ndcg@10": scores}}))
    return {"method": name, "ranker": "bm25", "ndcg@10": float(np.mean(list(scores.values()))), "num_queries": len(scores),
            "run_dir": str(folder), "notes": [], **costs}


def test_report_marks_noise_and_real_differences_and_recommends(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.8, size=60)
    rows = [
        _row(tmp_path, "bm25", {f"q{i}": v for i, v in enumerate(base)}, p95_ms=1.0, cost_per_1m=0.01),
        _row(tmp_path, "noise", {f"q{i}": v + rng.normal(0, 0.05) for i, v in enumerate(base)}, p95_ms=5.0,
             cost_per_1m=0.1),
        _row(tmp_path, "better", {f"q{i}": min(1.0, v + 0.15) for i, v in enumerate(base)}, p95_ms=50.0,
             cost_per_1m=1.0),
    ]
    config = CompareConfig(dataset="trec-dl-2019", methods=[{"name": r["method"], "ranker": "bm25"} for r in rows],
                           budget={"max_p95_ms": 20})
    write_report(config, rows, tmp_path / "out")
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    by_name = {r["method"]: r for r in results["rows"]}
    assert by_name["better"]["p_vs_baseline"] < 0.05 <= by_name["noise"]["p_vs_baseline"]
    assert by_name["better"]["ci_low"] < by_name["better"]["ndcg@10"] < by_name["better"]["ci_high"]
    assert len(results["statistics"]["tests"]) == 3 and results["statistics"]["correction"] == "holm"
    assert results["verdict"]["winner"] == "noise" and results["verdict"]["within_budget"] == ["bm25", "noise"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Within noise of the baseline (bm25): noise" in report and "95% CI" in report
    assert "Verdict: noise has the best ndcg@10" in report
