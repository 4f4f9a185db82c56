"""The verdict on synthetic rows with known answers: winner within budget, binding constraint, ties, frontier."""

import pytest

from loralab.compare.verdict import Budget, pareto_frontier, recommend
from loralab.errors import ConfigError

ROWS = [
    {"method": "bm25", "ndcg@10": 0.50, "p95_ms": 1.0, "peak_rss_mb": 300, "cost_per_1m": 0.01},
    {"method": "lora fp32", "ndcg@10": 0.70, "p95_ms": 900.0, "peak_rss_mb": 1200, "cost_per_1m": 9.0},
    {"method": "lora int8", "ndcg@10": 0.69, "p95_ms": 400.0, "peak_rss_mb": 900, "cost_per_1m": 4.0},
    {"method": "qlora", "ndcg@10": 0.68, "p95_ms": 1500.0, "peak_rss_mb": 800, "cost_per_1m": 15.0},
    {"method": "slow and bad", "ndcg@10": 0.40, "p95_ms": 2000.0, "peak_rss_mb": 2000, "cost_per_1m": 20.0},
]


def test_frontier_drops_dominated_candidates():
    assert pareto_frontier(ROWS, "ndcg@10") == ["bm25", "lora fp32", "lora int8", "qlora"]


def test_best_quality_within_the_budget_wins():
    verdict = recommend(ROWS, Budget(max_p95_ms=500), "ndcg@10")
    assert verdict.winner == "lora int8" and verdict.within_budget == ["bm25", "lora int8"]
    assert "best ndcg@10 (0.6900)" in verdict.reason
    assert recommend(ROWS, Budget(), "ndcg@10").winner == "lora fp32"


def test_nothing_fits_names_the_binding_constraint_and_the_closest_candidate():
    verdict = recommend(ROWS, Budget(max_p95_ms=500, min_quality=0.72), "ndcg@10")
    assert verdict.winner is None and verdict.binding == "ndcg@10 at least 0.72"
    assert verdict.closest == "lora int8" and "no candidate fits" in verdict.reason
    memory = recommend(ROWS, Budget(max_peak_rss_mb=100), "ndcg@10")
    assert memory.binding == "peak memory (MB)" and memory.closest == "bm25"


def test_ties_are_broken_by_cost():
    rows = ROWS + [{"method": "lora bf16", "ndcg@10": 0.70, "p95_ms": 500.0, "peak_rss_mb": 700, "cost_per_1m": 5.0}]
    verdict = recommend(rows, Budget(), "ndcg@10")
    assert verdict.winner == "lora bf16" and "tied on quality with lora fp32" in verdict.reason
    assert recommend(ROWS, Budget(), "ndcg@10", tie_tolerance=0.011).winner == "lora int8"


def test_lower_is_better_metrics_and_failed_rows():
    rows = [{"method": "median", "mae": 30.0, "p95_ms": 0.1, "cost_per_1m": 0.0},
            {"method": "qlora", "mae": 12.0, "p95_ms": 80.0, "cost_per_1m": 2.0},
            {"method": "broken", "mae": None, "failed": "out of memory"}]
    assert recommend(rows, Budget(), "mae", greater_is_better=False).winner == "qlora"
    assert recommend(rows, Budget(min_quality=10.0), "mae", greater_is_better=False).binding == "mae at most 10"
    with pytest.raises(ConfigError, match="positive"):
        Budget(max_p95_ms=0)


def test_an_untimed_first_stage_breaks_no_limit_and_is_not_dominated_by_its_missing_costs():
    rows = [{"method": "bm25", "ndcg@10": 0.50, "p95_ms": None, "cost_per_1m": None},
            {"method": "slow", "ndcg@10": 0.40, "p95_ms": 5000.0, "cost_per_1m": 9.0}]
    assert recommend(rows, Budget(max_p95_ms=100), "ndcg@10").winner == "bm25"
    assert pareto_frontier(rows, "ndcg@10") == ["bm25"]
