"""Significance tests and intervals against known answers."""

import itertools

import numpy as np
import pytest
from scipy.stats import ttest_rel

from loralab.errors import ConfigError
from loralab.eval.statistics import PairedTest, bootstrap_interval, holm, paired_randomization_test, paired_table


def test_randomization_test_matches_exact_sign_flip_enumeration():
    rng = np.random.default_rng(1)
    a = rng.uniform(size=10)
    b = a - rng.normal(0.08, 0.1, size=10)
    diffs = a - b
    observed = abs(diffs.mean())
    flips = [abs((diffs * np.array(signs)).mean()) for signs in itertools.product([1, -1], repeat=10)]
    exact = np.mean([f >= observed - 1e-12 for f in flips])
    test = paired_randomization_test(dict(enumerate(a)), dict(enumerate(b)), "a", "b")
    assert test.p_value == pytest.approx(exact, abs=1e-9) and test.num_examples == 10
    assert test.mean_difference == pytest.approx(diffs.mean())


def test_randomization_test_agrees_with_the_paired_t_test_on_many_queries():
    rng = np.random.default_rng(2)
    a = rng.uniform(size=300)
    b = np.clip(a - rng.normal(0.01, 0.1, size=300), 0, 1)
    test = paired_randomization_test({str(i): v for i, v in enumerate(a)}, {str(i): v for i, v in enumerate(b)})
    assert test.p_value == pytest.approx(ttest_rel(a, b).pvalue, abs=0.02)


def test_pairs_on_shared_ids_only_and_identical_scores_are_not_significant():
    same = paired_randomization_test({"q1": 0.5, "q2": 0.7, "x": 1.0}, {"q1": 0.5, "q2": 0.7})
    assert same.p_value == 1.0 and same.num_examples == 2 and not same.significant()


def test_bootstrap_interval_covers_the_mean_with_the_expected_width():
    rng = np.random.default_rng(3)
    values = rng.normal(0.6, 0.2, size=400)
    interval = bootstrap_interval(values)
    expected_half_width = 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    assert interval.low < values.mean() < interval.high
    assert (interval.high - interval.low) / 2 == pytest.approx(expected_half_width, rel=0.15)
    assert bootstrap_interval([0.3, 0.3]).low == 0.3


def test_holm_adjustment_known_answer():
    tests = [PairedTest("x", "base", 0.1, p, 10) for p in (0.01, 0.04, 0.03, 0.005)]
    adjusted = [t.p_adjusted for t in holm(tests)]
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_paired_table_holm_corrects_its_tests_as_one_family():
    rng = np.random.default_rng(1)
    base = {str(i): float(v) for i, v in enumerate(rng.uniform(0.3, 0.7, 60))}
    rows = {"base": base, "better": {k: v + 0.1 + rng.normal(0, 0.05) for k, v in base.items()},
            "same": {k: v + rng.normal(0, 0.05) for k, v in base.items()}}
    intervals, tests = paired_table(rows, [("better", "base"), ("same", "base")])
    assert set(intervals) == set(rows) and intervals["better"] == bootstrap_interval(rows["better"])
    alone = [paired_randomization_test(rows[a], rows[b], a, b) for a, b in (("better", "base"), ("same", "base"))]
    assert tests == holm(alone) and [(t.a, t.b) for t in tests] == [("better", "base"), ("same", "base")]
    assert tests[0].significant() and not tests[1].significant()
    with pytest.raises(ConfigError, match="no per-example scores for missing"):
        paired_table(rows, [("better", "missing")])
