"""core.zset.ZSet keeps its order as a list of short sorted lists: compared with one plain
sorted list (the order as it was kept before) over random operations, with lists short enough
that they split and empty often."""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.zset import ZSet

MEMBERS = [f"m{n}".encode() for n in range(12)]
SCORES = st.one_of(
    st.integers(-4, 4).map(float),  # ties, decided by the member
    st.floats(allow_nan=False, width=64).map(lambda score: score + 0.0),
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(MEMBERS), SCORES),
        st.tuples(st.just("remove"), st.sampled_from(MEMBERS)),
    ),
    max_size=60,
)


class PlainZSet:
    """The model: every entry in one sorted list."""

    def __init__(self) -> None:
        self.scores: dict[bytes, float] = {}

    @property
    def order(self) -> list[tuple[float, bytes]]:
        return sorted((score, member) for member, score in self.scores.items())

    def add(self, member: bytes, score: float) -> tuple[bool, bool]:
        before = self.scores.get(member)
        self.scores[member] = score
        return before is None, before != score

    def remove(self, member: bytes) -> bool:
        return self.scores.pop(member, None) is not None


def run(target: Any, operation: tuple[Any, ...]) -> Any:
    name, *arguments = operation
    return getattr(target, name)(*arguments)


@pytest.mark.parametrize("load", [1, 2, 3, ZSet.LOAD])
@given(steps=operations, probes=st.lists(SCORES, max_size=4))
def test_a_zset_answers_as_one_sorted_list(
    load: int, steps: list[tuple[Any, ...]], probes: list[float]
) -> None:
    original = ZSet.LOAD
    ZSet.LOAD = load  # not monkeypatch: a function-scoped fixture under @given
    try:
        zset, model = ZSet(), PlainZSet()
        for step in steps:
            assert run(zset, step) == run(model, step), step
    finally:
        ZSet.LOAD = original

    order = model.order
    assert len(zset) == len(order)
    assert zset.entries(0, len(order)) == order
    for start in range(len(order) + 1):
        for stop in range(start, len(order) + 2):
            assert zset.entries(start, stop) == order[start:stop]
    for member in MEMBERS:
        score = model.scores.get(member)
        expected = None if score is None else order.index((score, member))
        assert zset.rank(member) == expected
    scores = [score for score, _ in order]
    for probe in [*probes, *scores, math.inf, -math.inf]:
        assert zset.at_least(probe) == bisect_left(scores, probe)
        assert zset.above(probe) == sum(score <= probe for score in scores)
    # The layout: no list empty or longer than 2 * load, each list's last entry in _maxes.
    lists = zset._lists
    assert all(0 < len(entries) <= 2 * load for entries in lists)
    assert zset._maxes == [entries[-1] for entries in lists]


def test_a_large_set_is_many_short_lists() -> None:
    zset = ZSet()
    for number in range(10 * ZSet.LOAD):
        zset.add(f"u{number}".encode(), float(-number))

    assert len(zset._lists) >= 5
    assert zset.rank(b"u0") == 10 * ZSet.LOAD - 1
    assert zset.entries(0, 2) == [
        (float(1 - 10 * ZSet.LOAD), f"u{10 * ZSet.LOAD - 1}".encode()),
        (float(2 - 10 * ZSet.LOAD), f"u{10 * ZSet.LOAD - 2}".encode()),
    ]
