"""The verdict: the Pareto frontier over (quality, p95 latency, peak memory, cost) and the recommendation.

The recommendation is the best-quality candidate within the budget, ties (equal quality within `tie_tolerance`)
broken by cost (a cost a row did not measure, such as an untimed first stage, breaks no limit); when nothing fits, the verdict names the constraint that binds (the one whose removal lets the
best candidate in) and the closest candidate (smallest relative excess over the limits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loralab.errors import ConfigError

# (row key, budget field, what it is) for the costs a budget can cap; lower is better for each.
COSTS = (("p95_ms", "max_p95_ms", "p95 latency (ms)"), ("peak_rss_mb", "max_peak_rss_mb", "peak memory (MB)"),
         ("cost_per_1m", "max_cost_per_1m", "cost per 1M ($)"))


@dataclass(frozen=True)
class Budget:
    max_p95_ms: float | None = None
    max_peak_rss_mb: float | None = None
    max_cost_per_1m: float | None = None
    min_quality: float | None = None  # in the primary metric's own units (for a lower-is-better metric: a maximum)

    def __post_init__(self):
        for name in ("max_p95_ms", "max_peak_rss_mb", "max_cost_per_1m"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"budget {name} must be positive, got {value}")

    def limits(self) -> list[tuple[str, str, float]]:
        return [(key, label, getattr(self, name)) for key, name, label in COSTS if getattr(self, name) is not None]


@dataclass
class Verdict:
    winner: str | None
    reason: str
    frontier: list[str]
    within_budget: list[str]
    binding: str | None = None  # when nothing fits: the constraint that binds
    closest: str | None = None  # when nothing fits: the candidate nearest to the budget
    violations: dict[str, list[str]] = field(default_factory=dict)  # candidate -> the limits it breaks

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _better(a: float, b: float, greater_is_better: bool) -> bool:
    return a > b if greater_is_better else a < b


def _cost(row: dict, key: str) -> float | None:
    """A measured cost; None when the row has none (e.g. BM25's first stage, evaluated as given, is not timed)."""
    value = row.get(key)
    return None if value is None else float(value)


def pareto_frontier(rows: list[dict], primary: str, greater_is_better: bool = True) -> list[str]:
    """Candidates no other candidate beats on quality and on every cost at once; a cost one of the two did not
    measure is left out of their comparison."""
    def dominates(a: dict, b: dict) -> bool:
        qa, qb = a[primary], b[primary]
        costs = [(_cost(a, key), _cost(b, key)) for key, _, _ in COSTS]
        costs = [(x, y) for x, y in costs if x is not None and y is not None]
        at_least = (qa >= qb if greater_is_better else qa <= qb) and all(x <= y for x, y in costs)
        strictly = _better(qa, qb, greater_is_better) or any(x < y for x, y in costs)
        return at_least and strictly

    scored = [r for r in rows if r.get(primary) is not None]
    return [r["method"] for r in scored if not any(dominates(o, r) for o in scored if o is not r)]


def violations(row: dict, budget: Budget, primary: str, greater_is_better: bool) -> list[str]:
    broken = [label for key, label, limit in budget.limits() if (_cost(row, key) or 0.0) > limit]
    if budget.min_quality is not None and _better(budget.min_quality, row[primary], greater_is_better):
        broken.append(f"{primary} {'at least' if greater_is_better else 'at most'} {budget.min_quality:g}")
    return broken


def _excess(row: dict, budget: Budget, primary: str, greater_is_better: bool) -> float:
    """Sum of relative excesses over each limit (0 when within budget)."""
    total = sum(max(0.0, (_cost(row, key) or 0.0) / limit - 1) for key, _, limit in budget.limits())
    if budget.min_quality is not None and budget.min_quality:
        gap = (budget.min_quality - row[primary]) if greater_is_better else (row[primary] - budget.min_quality)
        total += max(0.0, gap / abs(budget.min_quality))
    return total


def _ranked(rows: list[dict], primary: str, greater_is_better: bool, tie_tolerance: float) -> list[dict]:
    """Best quality first; candidates within `tie_tolerance` of one another ordered by cost per 1M."""
    best_first = sorted(rows, key=lambda r: r[primary], reverse=greater_is_better)
    if not best_first:
        return []
    top = best_first[0][primary]
    tied = [r for r in best_first if abs(r[primary] - top) <= tie_tolerance]
    rest = [r for r in best_first if r not in tied]
    def cheapest(row: dict) -> tuple[float, float]:
        return (_cost(row, "cost_per_1m") or 0.0, _cost(row, "p95_ms") or 0.0)

    return sorted(tied, key=cheapest) + rest


def recommend(rows: list[dict], budget: Budget, primary: str, greater_is_better: bool = True,
              tie_tolerance: float = 0.0) -> Verdict:
    scored = [r for r in rows if r.get(primary) is not None and not r.get("failed")]
    if not scored:
        raise ConfigError("no candidate has a score to choose from (every row failed or was not evaluated)")
    frontier = pareto_frontier(scored, primary, greater_is_better)
    broken = {r["method"]: violations(r, budget, primary, greater_is_better) for r in scored}
    fits = [r for r in scored if not broken[r["method"]]]
    if fits:
        ranked = _ranked(fits, primary, greater_is_better, tie_tolerance)
        winner = ranked[0]
        reason = f"{winner['method']} has the best {primary} ({winner[primary]:.4f}) of the {len(fits)} " \
                 f"candidate(s) within the budget"
        tied = [r for r in ranked[1:] if abs(r[primary] - winner[primary]) <= tie_tolerance]
        if tied:
            reason += f"; tied on quality with {', '.join(r['method'] for r in tied)}, it costs least"
        return Verdict(winner["method"], reason, frontier, [r["method"] for r in fits], violations=broken)
    best = _ranked(scored, primary, greater_is_better, tie_tolerance)[0]
    binding = broken[best["method"]][0] if len(broken[best["method"]]) == 1 else None
    if binding is None:  # the limit broken by the most candidates is the one that binds the field
        counts: dict[str, int] = {}
        for limits in broken.values():
            for limit in limits:
                counts[limit] = counts.get(limit, 0) + 1
        binding = max(counts, key=counts.get)
    closest = min(scored, key=lambda r: _excess(r, budget, primary, greater_is_better))
    reason = (f"no candidate fits the budget; {binding} binds (the best candidate, {best['method']}, breaks "
              f"{', '.join(broken[best['method']])}); closest: {closest['method']} "
              f"(breaks {', '.join(broken[closest['method']])})")
    return Verdict(None, reason, frontier, [], binding, closest["method"], broken)
