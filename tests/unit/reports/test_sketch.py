"""The quantile sketch: its stated error bound, exact merging and bounded size."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.sketch import ALPHA, MAX_BUCKETS, QuantileSketch, rank_of

QS = (0.0, 0.01, 0.07, 0.25, 0.5, 0.9, 0.99, 1.0)
RNG = np.random.default_rng(20240301)
GAMMA = (1 + ALPHA) / (1 - ALPHA)


def true_quantile(values: list[float] | np.ndarray, q: float) -> float:
    """The value at rank max(1, ceil(q n)) of the sorted values, with q read exactly."""
    ordered = sorted(values)
    rank = max(1, math.ceil(Fraction(str(q)) * len(ordered)))
    return float(ordered[rank - 1])


def assert_within_bound(estimate: float | None, truth: float) -> None:
    assert estimate is not None
    assert abs(estimate - truth) <= ALPHA * abs(truth) * (1 + 1e-9), (estimate, truth)


def assert_within_stated_bound(estimate: float | None, truth: float, sample: list[float]) -> None:
    """The module's bound, with its exception for magnitudes over 2047 buckets below the
    largest of their sign."""
    largest = max((abs(x) for x in sample if (x > 0) == (truth > 0)), default=0.0)
    if truth == 0 or abs(truth) >= largest / GAMMA ** (MAX_BUCKETS - 1):
        assert_within_bound(estimate, truth)
    else:
        assert estimate is not None and math.copysign(1, estimate) == math.copysign(1, truth)
        assert abs(estimate) < largest / GAMMA ** (MAX_BUCKETS - 2)


magnitudes = st.floats(min_value=1e-300, max_value=1e300, allow_nan=False)
values = st.one_of(st.just(0.0), magnitudes, magnitudes.map(lambda x: -x))


@settings(max_examples=300)
@given(st.lists(values, min_size=1, max_size=200))
def test_quantiles_are_within_alpha_of_the_value_at_their_rank(sample: list[float]) -> None:
    sketch = QuantileSketch.of(sample)
    for q in QS:
        assert_within_stated_bound(sketch.quantile(q), true_quantile(sample, q), sample)


def test_a_span_wider_than_the_bucket_limit_loses_accuracy_only_below_the_floor() -> None:
    sample = [3.8187045998745944e16, 0.0625, 5.0e16 / 5e17]
    sketch = QuantileSketch.of(sample)
    assert len(sketch.positive) <= MAX_BUCKETS
    assert_within_bound(sketch.quantile(1.0), max(sample))
    small = sketch.quantile(0.0)
    assert small is not None and small > 0.0625 * (1 + ALPHA)  # folded upwards
    assert small < max(sample) / GAMMA ** (MAX_BUCKETS - 2)


@pytest.mark.parametrize(
    "sample",
    [
        RNG.lognormal(3, 2, 5000),
        -RNG.lognormal(0, 3, 5000),
        np.concatenate([np.zeros(800), RNG.normal(0, 50, 3000), -RNG.pareto(1.5, 1000)]),
        RNG.choice([0, 1, 1, 1, 2, 5, 100, -7], 4000).astype(float),
        1e9 + RNG.normal(0, 1, 2000),
    ],
    ids=["lognormal", "negative-heavy-tail", "zeros-and-signs", "heavy-ties", "large-offset"],
)
def test_quantiles_of_skewed_samples_are_within_the_bound(sample: np.ndarray) -> None:
    sketch = QuantileSketch.of(sample)
    assert sketch.count == len(sample)
    for q in QS:
        assert_within_bound(sketch.quantile(q), true_quantile(sample, q))


@settings(max_examples=100)
@given(st.lists(st.lists(values, max_size=50), min_size=1, max_size=5))
def test_merging_sketches_equals_sketching_all_values_at_once(parts: list[list[float]]) -> None:
    merged = QuantileSketch()
    for part in parts:
        merged = merged.merge(QuantileSketch.of(part))
    everything = QuantileSketch.of([x for part in parts for x in part])
    assert merged.to_document() == everything.to_document()


def test_document_round_trips() -> None:
    sketch = QuantileSketch.of([-2.5, 0.0, 0.0, 1.0, 3.0, 1e6])
    doc = sketch.to_document()
    assert doc["zero"] == 2 and sum(doc["positive"]["counts"]) == 3
    assert QuantileSketch.from_document(doc) == sketch


def test_buckets_ascend_by_value_and_add_up_to_the_count() -> None:
    sketch = QuantileSketch.of([5.0, -1.0, 0.0, -30.0, 2.0, 2.0])
    buckets = list(sketch.buckets())
    assert [v for v, _ in buckets] == sorted(v for v, _ in buckets)
    assert sum(c for _, c in buckets) == 6
    assert [c for _, c in buckets] == [1, 1, 1, 2, 1]


def test_empty_sketch_has_no_quantile_and_q_must_be_a_fraction() -> None:
    assert QuantileSketch().quantile(0.5) is None
    with pytest.raises(ValueError):
        QuantileSketch.of([1.0]).quantile(1.5)


def test_magnitudes_below_the_floor_count_as_zero() -> None:
    sketch = QuantileSketch.of([1e-310, -1e-305, 4.0])
    assert sketch.zero == 2
    assert sketch.quantile(0.5) == 0.0


def test_sketches_of_different_accuracy_do_not_merge() -> None:
    with pytest.raises(ValueError):
        QuantileSketch.of([1.0]).merge(QuantileSketch.of([1.0], alpha=0.05))


def test_bucket_count_is_bounded_and_only_the_smallest_magnitudes_lose_accuracy() -> None:
    sample = np.geomspace(1e-40, 1e40, 20_000)
    sketch = QuantileSketch.of(-sample)
    assert len(sketch.negative) == MAX_BUCKETS
    floor = sample.max() / GAMMA ** (MAX_BUCKETS - 1)
    for q in QS:
        truth = true_quantile(-sample, q)
        assert_within_stated_bound(sketch.quantile(q), truth, (-sample).tolist())
    assert true_quantile(-sample, 1.0) > -floor  # the collapsed case is exercised
    assert true_quantile(-sample, 0.0) < -floor  # and so is the accurate one


def test_rank_reads_q_as_the_decimal_written() -> None:
    assert rank_of(0.07, 100) == 7  # the float product is 7.000000000000001
    assert rank_of(0.0, 10) == 1
    assert rank_of(1.0, 10) == 10
    assert rank_of(0.5, 4) == 2
    assert rank_of(0.5, 5) == 3
