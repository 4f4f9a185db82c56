"""Statistics a reader can trust: bootstrap confidence intervals and paired significance tests over examples.

Both work on per-example scores (per query for ranking), aligned by example id, as `EvalResult.per_example`
keeps them. scipy does the resampling (`scipy.stats.bootstrap`, `scipy.stats.permutation_test` with paired
sign flips, the test trec_eval users know as the paired randomization test); Holm's step-down correction for
many comparisons is five lines, and scipy has only Benjamini-Hochberg, so it is written here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loralab.errors import ConfigError

RESAMPLES = 10_000
SEED = 0  # fixed: the same scores give the same interval and p-value on every run


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    level: float = 0.95

    def __str__(self) -> str:
        return f"{self.mean:.4f} [{self.low:.4f}, {self.high:.4f}]"


@dataclass(frozen=True)
class PairedTest:
    """`a` minus `b` on the examples both were scored on."""

    a: str
    b: str
    mean_difference: float
    p_value: float
    num_examples: int
    p_adjusted: float | None = None  # after the multiple-comparison correction, when one was applied

    def significant(self, alpha: float = 0.05) -> bool:
        return (self.p_adjusted if self.p_adjusted is not None else self.p_value) < alpha


def bootstrap_interval(scores, level: float = 0.95, resamples: int = RESAMPLES, seed: int = SEED) -> Interval:
    """Percentile-bootstrap (BCa where defined) interval of the mean of per-example scores."""
    from scipy.stats import bootstrap

    values = np.asarray(list(scores.values()) if isinstance(scores, dict) else scores, dtype=float)
    if values.size == 0:
        raise ConfigError("bootstrap_interval: no per-example scores")
    mean = float(values.mean())
    if values.size == 1 or np.all(values == values[0]):
        return Interval(mean, mean, mean, level)
    result = bootstrap((values,), np.mean, confidence_level=level, n_resamples=resamples, method="BCa",
                       random_state=np.random.default_rng(seed))
    low, high = result.confidence_interval
    if not (np.isfinite(low) and np.isfinite(high)):  # BCa undefined (e.g. degenerate jackknife): percentile
        result = bootstrap((values,), np.mean, confidence_level=level, n_resamples=resamples, method="percentile",
                           random_state=np.random.default_rng(seed))
        low, high = result.confidence_interval
    return Interval(mean, float(low), float(high), level)


def aligned(a: dict[str, float], b: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The two score vectors on the example ids both have, in one order."""
    ids = sorted(set(a) & set(b))
    if not ids:
        raise ConfigError("paired test: the two results share no example id (were they run on the same data?)")
    return np.array([a[i] for i in ids], dtype=float), np.array([b[i] for i in ids], dtype=float)


def paired_randomization_test(a: dict[str, float], b: dict[str, float], name_a: str = "a", name_b: str = "b",
                              resamples: int = RESAMPLES, seed: int = SEED) -> PairedTest:
    """Two-sided paired randomization (sign-flip permutation) test of mean(a - b) = 0."""
    from scipy.stats import permutation_test

    x, y = aligned(a, b)
    difference = float((x - y).mean())
    if np.allclose(x, y):
        return PairedTest(name_a, name_b, difference, 1.0, len(x))
    result = permutation_test((x, y), lambda u, v, axis: np.mean(u - v, axis=axis), permutation_type="samples",
                              n_resamples=resamples, alternative="two-sided", vectorized=True,
                              random_state=np.random.default_rng(seed))
    return PairedTest(name_a, name_b, difference, float(result.pvalue), len(x))


def holm(tests: list[PairedTest]) -> list[PairedTest]:
    """Holm's step-down adjustment (controls the family-wise error rate), in the input order."""
    order = sorted(range(len(tests)), key=lambda i: tests[i].p_value)
    adjusted = [0.0] * len(tests)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(tests) - rank) * tests[i].p_value))
        adjusted[i] = running
    return [PairedTest(t.a, t.b, t.mean_difference, t.p_value, t.num_examples, p) for t, p in zip(tests, adjusted)]


def paired_table(per_example: dict[str, dict[str, float]], pairs: list[tuple[str, str]]
                 ) -> tuple[dict[str, Interval], list[PairedTest]]:
    """A results table's statistics: each row's bootstrap interval, and the paired tests of `pairs` (row a, row b),
    Holm-corrected as one family, in the order given."""
    missing = sorted({name for pair in pairs for name in pair} - set(per_example))
    if missing:
        raise ConfigError(f"paired_table: no per-example scores for {', '.join(missing)}")
    intervals = {name: bootstrap_interval(scores) for name, scores in per_example.items()}
    tests = [paired_randomization_test(per_example[a], per_example[b], a, b) for a, b in pairs]
    return intervals, holm(tests)
