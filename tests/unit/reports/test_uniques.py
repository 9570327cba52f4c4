"""Distinct users: exact ids up to the bound, a HyperLogLog sketch above it."""

from __future__ import annotations

from reports.analytics.uniques import USER_ID_LIMIT, count_users, day_users, estimate, registers_of


def ids(start: int, stop: int) -> list[str]:
    return [f"user-{n}" for n in range(start, stop)]


def test_a_day_within_the_bound_keeps_its_sorted_distinct_ids() -> None:
    day = day_users(["b", "a", "b", "c"])
    assert day == {"count": 3, "ids": ["a", "b", "c"], "sketch": None}


def test_a_day_over_the_bound_keeps_an_exact_count_and_a_sketch_instead() -> None:
    day = day_users(ids(0, USER_ID_LIMIT + 1))
    assert day["count"] == USER_ID_LIMIT + 1
    assert day["ids"] is None
    assert isinstance(day["sketch"], str) and len(day["sketch"]) == 2 * 2**14


def test_days_with_ids_count_their_union_exactly() -> None:
    days = [day_users(ids(0, 100)), day_users(ids(50, 180))]
    assert count_users(days) == (180, True)


def test_a_day_with_a_sketch_makes_the_window_an_estimate_within_three_percent() -> None:
    big = day_users(ids(0, 40_000))
    small = day_users(ids(39_000, 45_000))  # 1,000 of these overlap the big day
    count, exact = count_users([big, small])
    assert not exact
    assert abs(count - 45_000) <= 0.03 * 45_000


def test_registers_of_a_union_are_the_maximum_of_the_registers() -> None:
    union = registers_of(ids(0, 3000))
    merged = bytearray(map(max, registers_of(ids(0, 2000)), registers_of(ids(1000, 3000))))
    assert merged == union


def test_small_counts_are_estimated_closely_by_linear_counting() -> None:
    assert abs(estimate(registers_of(ids(0, 500))) - 500) <= 5
    assert estimate(registers_of([])) == 0
