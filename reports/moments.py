"""Count, sum and spread of numbers, in a form that merges without losing precision.

A group of numbers is kept as (count, sum, m2): m2 is the sum of squared deviations from the
group's own mean, not the sum of squares, because sum(x^2)/n - mean^2 cancels catastrophically
when the mean is large against the spread (timestamps, prices in cents). Groups merge exactly
(Chan, Golub and LeVeque 1979): m2 = sum(m2_i + n_i (mean_i - mean)^2). Sums use math.fsum, so
each is correctly rounded and the merged std agrees with numpy's to about 1e-12 relative.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

# std is the sample standard deviation (n - 1 in the denominator), as pandas' Series.std.
DDOF = 1


@dataclass(frozen=True)
class Moments:
    count: int
    total: float
    m2: float

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation (ddof = 1); None below two values."""
        if self.count <= DDOF:
            return None
        return math.sqrt(max(self.m2, 0.0) / (self.count - DDOF))


def moments_of(values: Iterable[float]) -> Moments:
    numbers = [float(v) for v in values]
    if not numbers:
        return Moments(0, 0.0, 0.0)
    total = math.fsum(numbers)
    mean = total / len(numbers)
    return Moments(len(numbers), total, math.fsum((x - mean) ** 2 for x in numbers))


def merge_moments(parts: Iterable[Moments]) -> Moments:
    groups = [p for p in parts if p.count]
    count = sum(p.count for p in groups)
    if not count:
        return Moments(0, 0.0, 0.0)
    total = math.fsum(p.total for p in groups)
    mean = total / count
    spread = [p.m2 for p in groups] + [p.count * (p.total / p.count - mean) ** 2 for p in groups]
    return Moments(count, total, math.fsum(spread))
