"""Tolerant readers for messy LLM output: permutations (listwise) and numbers (rating). They never raise."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

_INT = re.compile(r"\d+")
# A number, optionally a fraction ("7/10") or a percentage ("70%"); a decimal comma is accepted ("0,7").
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)?|[.,]\d+)\s*(%|/\s*(\d+(?:\.\d+)?))?")


@dataclass
class Permutation:
    """A full order of 0-based positions, and what had to be repaired to get it from the model's text."""

    order: list[int]
    repairs: Counter = field(default_factory=Counter)  # duplicate / out_of_range / missing
    parsed: int = 0  # ids the model gave that were kept

    @property
    def failed(self) -> bool:
        return self.parsed == 0


def parse_permutation(text: str, n: int) -> Permutation:
    """Read 1-based ids ("[3] > [1] > [2]", "3, 1, 2", ...) into a permutation of range(n).

    Duplicates and out-of-range ids are dropped; ids the model left out keep their previous relative order and go
    after the ones it ranked. Each kind of repair is counted. With no usable id the previous order is kept as is.
    """
    repairs: Counter = Counter()
    seen: list[int] = []
    for token in _INT.findall(text or ""):
        idx = int(token) - 1
        if not 0 <= idx < n:
            repairs["out_of_range"] += 1
        elif idx in seen:
            repairs["duplicate"] += 1
        else:
            seen.append(idx)
    kept = set(seen)
    missing = [i for i in range(n) if i not in kept]
    if missing:
        repairs["missing"] += len(missing)
    return Permutation(order=seen + missing, repairs=repairs, parsed=len(seen))


@dataclass(frozen=True)
class Rating:
    value: float | None
    error: str | None = None


def extract_rating(text: str, low: float = 0.0, high: float = 1.0) -> Rating:
    """The first number in `text` as a rating in [low, high]; "70%" and "7/10" are scaled to 0-1 first.

    Returns Rating(None, reason) when there is no number or it is out of range: the caller records a failure and
    uses its fallback score.
    """
    match = _NUMBER.search(text or "")
    if match is None:
        return Rating(None, "no_number")
    value = float(match.group(1).replace(",", "."))
    if match.group(2) == "%":
        value /= 100
    elif match.group(3) is not None:
        denominator = float(match.group(3))
        if denominator == 0:
            return Rating(None, "out_of_range")
        value /= denominator
    if not low <= value <= high:
        return Rating(None, "out_of_range")
    return Rating(value)
