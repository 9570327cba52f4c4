"""A mergeable quantile sketch: a log-bucketed histogram (DDSketch, Masson et al., VLDB 2019).

A value x != 0 falls in bucket k = ceil(log_gamma |x|), gamma = (1 + alpha) / (1 - alpha), kept
apart for positive and negative values; zeros have a bucket of their own. A bucket answers
with 2 gamma^k / (gamma + 1), which lies within alpha |x| of every x in it. Merging adds the
counts bucket by bucket, so a sketch of many days is the sketch of all their values at once.

Error bound. `quantile(q)` answers for the value x at rank r = max(1, ceil(q * n)) of the n
values sorted ascending (1-based; q = 0.5 of [1, 2, 3, 4] is 2) and returns x' with
|x' - x| <= alpha |x| (up to floating-point rounding, about 1e-15 relative), with two
exceptions that lose only tiny magnitudes:
- |x| < MIN_MAGNITUDE (1e-300) is counted as zero, so x' = 0 (absolute error < 1e-300);
- each sign keeps at most MAX_BUCKETS (2048) consecutive buckets: with M the largest magnitude
  of x's sign, the bound holds for |x| >= M / gamma^2047 (M / 6.0e17 for alpha = 0.01); smaller
  magnitudes are answered from the lowest bucket kept, with |x'| < M / gamma^2046.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

ALPHA = 0.01
MAX_BUCKETS = 2048
MIN_MAGNITUDE = 1e-300
_LOG_MAX = math.log(sys.float_info.max)


def rank_of(q: float, n: int) -> int:
    """The 1-based rank that quantile q of n sorted values stands for: max(1, ceil(q n)).

    q is read as the decimal it is written as: 0.07 of 100 is rank 7, where the float product
    would give ceil(7.000000000000001) = 8."""
    return max(1, math.ceil(Decimal(repr(q)) * n))


def bucket_keys(magnitudes: npt.NDArray[np.float64], alpha: float = ALPHA) -> npt.NDArray[np.int64]:
    """The bucket of each magnitude (all >= MIN_MAGNITUDE), vectorised."""
    gamma = (1 + alpha) / (1 - alpha)
    return np.ceil(np.log(magnitudes) / math.log(gamma)).astype(np.int64)


@dataclass(frozen=True)
class QuantileSketch:
    alpha: float = ALPHA
    zero: int = 0
    positive: Mapping[int, int] = field(default_factory=dict)
    negative: Mapping[int, int] = field(default_factory=dict)  # keyed by the bucket of |x|

    @classmethod
    def of(cls, values: npt.ArrayLike, alpha: float = ALPHA) -> QuantileSketch:
        array = np.asarray(values, dtype=np.float64)
        magnitude = np.abs(array)
        significant = magnitude >= MIN_MAGNITUDE
        keys = bucket_keys(np.where(significant, magnitude, 1.0), alpha)
        return cls.from_buckets(
            zero=int(np.count_nonzero(~significant)),
            positive=Counter(keys[significant & (array > 0)].tolist()),
            negative=Counter(keys[significant & (array < 0)].tolist()),
            alpha=alpha,
        )

    @classmethod
    def from_buckets(
        cls,
        zero: int,
        positive: Mapping[int, int],
        negative: Mapping[int, int],
        alpha: float = ALPHA,
    ) -> QuantileSketch:
        return cls(alpha, zero, _collapse(positive), _collapse(negative))

    @property
    def count(self) -> int:
        return self.zero + sum(self.positive.values()) + sum(self.negative.values())

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        if other.alpha != self.alpha:
            raise ValueError("cannot merge sketches of different relative accuracy")
        return QuantileSketch.from_buckets(
            self.zero + other.zero,
            Counter(self.positive) + Counter(other.positive),
            Counter(self.negative) + Counter(other.negative),
            self.alpha,
        )

    def buckets(self) -> Iterator[tuple[float, int]]:
        """(value the bucket answers with, count) for every bucket, ascending by value."""
        for key in sorted(self.negative, reverse=True):
            yield -self._value(key), self.negative[key]
        if self.zero:
            yield 0.0, self.zero
        for key in sorted(self.positive):
            yield self._value(key), self.positive[key]

    def quantile(self, q: float) -> float | None:
        """The estimate for the value at rank max(1, ceil(q n)); None for an empty sketch."""
        if not 0 <= q <= 1:
            raise ValueError("q must be between 0 and 1")
        total = self.count
        if total == 0:
            return None
        rank, seen = rank_of(q, total), 0
        for value, count in self.buckets():
            seen += count
            if seen >= rank:
                return value
        raise AssertionError("unreachable: the ranks add up to the count")

    def to_document(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "zero": self.zero,
            "positive": _store_document(self.positive),
            "negative": _store_document(self.negative),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> QuantileSketch:
        return cls.from_buckets(
            int(doc["zero"]),
            dict(zip(doc["positive"]["keys"], doc["positive"]["counts"], strict=True)),
            dict(zip(doc["negative"]["keys"], doc["negative"]["counts"], strict=True)),
            float(doc["alpha"]),
        )

    def _value(self, key: int) -> float:
        gamma = (1 + self.alpha) / (1 - self.alpha)
        log_value = key * math.log(gamma) + math.log(2 / (gamma + 1))
        return math.exp(min(log_value, _LOG_MAX))


def _collapse(store: Mapping[int, int]) -> dict[int, int]:
    """Keep at most MAX_BUCKETS consecutive keys, folding the lowest into the last one kept.
    Folding depends only on the highest key, so merging then folding equals folding then
    merging: the sketch stays mergeable."""
    kept = {int(k): int(c) for k, c in store.items() if c}
    if not kept:
        return {}
    floor = max(kept) - MAX_BUCKETS + 1
    if min(kept) >= floor:
        return kept
    collapsed: dict[int, int] = {}
    for key, count in kept.items():
        collapsed[max(key, floor)] = collapsed.get(max(key, floor), 0) + count
    return collapsed


def _store_document(store: Mapping[int, int]) -> dict[str, list[int]]:
    keys = sorted(store)
    return {"keys": keys, "counts": [store[k] for k in keys]}
