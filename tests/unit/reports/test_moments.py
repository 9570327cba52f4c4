"""Mean and std that merge without losing precision."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reports.moments import Moments, merge_moments, moments_of

RNG = np.random.default_rng(7)


@pytest.mark.parametrize(
    "sample",
    [
        RNG.lognormal(2, 1.5, 3000),
        1e9 + RNG.normal(0, 0.5, 3000),  # sum of squares would cancel here
        np.concatenate([np.zeros(100), -RNG.exponential(3, 500)]),
    ],
    ids=["lognormal", "large-offset", "zeros-and-negatives"],
)
def test_merged_chunks_give_numpys_mean_and_sample_std(sample: np.ndarray) -> None:
    chunks = np.array_split(sample, 7)
    merged = merge_moments(moments_of(chunk.tolist()) for chunk in chunks)
    assert merged.count == len(sample)
    assert merged.mean is not None and merged.std is not None
    assert math.isclose(merged.mean, float(np.mean(sample)), rel_tol=1e-12)
    assert math.isclose(merged.std, float(np.std(sample, ddof=1)), rel_tol=1e-9)


def test_std_needs_two_values_and_empty_groups_merge_away() -> None:
    assert moments_of([4.0]).std is None
    assert moments_of([]).mean is None
    assert merge_moments([Moments(0, 0.0, 0.0), moments_of([1.0, 3.0])]) == moments_of([1.0, 3.0])
    assert merge_moments([]) == Moments(0, 0.0, 0.0)
