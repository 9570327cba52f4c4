"""Leaderboard scores: points and the tie-break in one double, ordered as the ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.engine.scores import (
    ALL_TIME_EPOCH,
    PERIODS,
    TIE_BITS,
    Board,
    board_for,
    changes,
    counted,
    decode,
    encode,
)
from rules.stores.boards import Placements, board_key

TICKS = {period: st.integers(0, (1 << bits) - 1) for period, bits in TIE_BITS.items()}


@pytest.mark.parametrize("period", PERIODS)
def test_exact_round_trip_within_the_budget(period: str) -> None:
    bits = TIE_BITS[period]
    largest = (1 << (52 - bits)) - 1
    for points, tick in ((0, 0), (1, 5), (largest, (1 << bits) - 1), (largest, 0)):
        assert decode(encode(points, tick, period), period) == (points, tick)


@given(
    period=st.sampled_from(PERIODS),
    a=st.tuples(st.integers(0, 2**50), st.integers(0, 2**42)),
    b=st.tuples(st.integers(0, 2**50), st.integers(0, 2**42)),
)
def test_more_points_always_rank_first_whatever_rounding_does(
    period: str, a: tuple[int, int], b: tuple[int, int]
) -> None:
    limit = (1 << TIE_BITS[period]) - 1
    (points_a, tick_a), (points_b, tick_b) = a, b
    score_a = encode(points_a, min(tick_a, limit), period)
    score_b = encode(points_b, min(tick_b, limit), period)
    if points_a > points_b:
        assert score_a < score_b  # ascending scores are the ranking
    assert decode(score_a, period)[0] == points_a


@given(period=st.sampled_from(PERIODS), points=st.integers(0, 1000), data=st.data())
def test_between_equal_points_the_earlier_tick_ranks_first(
    period: str, points: int, data: st.DataObject
) -> None:
    early = data.draw(TICKS[period])
    late = data.draw(st.integers(early, (1 << TIE_BITS[period]) - 1))
    if late > early:
        assert encode(points, early, period) < encode(points, late, period)


def test_board_keys_and_bounds_are_utc_periods() -> None:
    moment = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)  # a Friday of ISO week 2026-W53

    week = board_for("p", "week", moment)

    assert (week.key, week.start, week.end) == (
        "2026-W53",
        datetime(2026, 12, 28, tzinfo=UTC),
        datetime(2027, 1, 4, tzinfo=UTC),
    )
    assert board_for("p", "month", moment).end == datetime(2027, 2, 1, tzinfo=UTC)
    assert board_key(board_for("p", "day", moment)) == "laurel:lb:{p}:day:2027-01-01"
    assert board_key(board_for("a:b", "all", moment)) == "laurel:lb:{a:b}:all"
    with pytest.raises(ValueError):
        board_for("p", "year", moment)


def test_only_points_earned_through_rules_count() -> None:
    at = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    entries = [
        {"delta": 5, "source": "event", "createdAt": at},
        {"delta": 3, "source": "streak", "createdAt": at},
        {"delta": 2, "source": "challenge", "createdAt": at},
        {"delta": 9, "source": "adjustment", "createdAt": at},
        {"delta": -4, "source": "event", "createdAt": at},
        {"delta": 0, "source": "event", "createdAt": at},
    ]

    assert [entry["delta"] for entry in counted(entries)] == [5, 3, 2]


def test_changes_add_up_points_per_board_and_keep_the_latest_tick() -> None:
    sunday = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # the last day of ISO week 2026-W48
    monday = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    entries = [
        {"delta": 4, "createdAt": monday},
        {"delta": 1, "createdAt": sunday.replace(tzinfo=None)},  # naive: UTC
        {"delta": 2, "createdAt": monday - timedelta(minutes=30)},
    ]

    found = changes("p", entries)

    by_key = {(board.period, board.key): added for board, added in found.items()}
    all_time = board_for("p", "all", monday)
    assert by_key == {
        ("day", "2026-11-30"): (6, 3600 * 1000),
        ("day", "2026-11-29"): (1, 23 * 3600 * 1000),
        ("week", "2026-W49"): (6, 3600 * 1000),
        ("week", "2026-W48"): (1, (6 * 24 + 23) * 3600 * 1000),
        ("month", "2026-11"): (7, (29 * 24 + 1) * 3600 * 1000),
        ("all", None): (7, all_time.tick(monday)),
    }


# A few moments, so that entries share them as a batch's do; naive ones are UTC.
MOMENTS = st.sampled_from(
    [
        datetime(2026, 11, 29, 23, 59, 59, 999_000, tzinfo=UTC),
        datetime(2026, 11, 30, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 0, 0),
        datetime(2026, 11, 30, 1, 30, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2019, 6, 1, tzinfo=UTC),
        # ticks cut to the millisecond below, before the epoch and beyond the last tick
        datetime(2026, 11, 29, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 11, 30, 0, 0, 0, 1_500, tzinfo=UTC),
        datetime(2019, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2200, 1, 1, 0, 0, 0, 500, tzinfo=UTC),
    ]
)
ENTRY_LISTS = st.lists(
    st.lists(
        st.fixed_dictionaries({"delta": st.integers(1, 1000), "createdAt": MOMENTS}), max_size=5
    ),
    max_size=4,
)


@given(ENTRY_LISTS)
def test_the_stores_placements_change_the_boards_as_changes_does(
    users: list[list[dict[str, Any]]],
) -> None:
    placed = Placements("p")  # one for all the users, as for a batch's
    expected = [changes("p", entries) for entries in users]

    assert [placed.changes(entries) for entries in users] == [
        {board_key(board): added for board, added in found.items()} for found in expected
    ]
    assert placed.boards == {board_key(board): board for found in expected for board in found}


def board_as_before(project: str, period: str, moment: datetime) -> Board:
    """board_for as it was before it kept the boards of a day (issue 17), for comparison."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return Board(project, period, f"{day:%Y-%m-%d}", day, day + timedelta(days=1))
    if period == "week":
        year, week, weekday = moment.isocalendar()
        start = day - timedelta(days=weekday - 1)
        return Board(project, period, f"{year}-W{week:02d}", start, start + timedelta(weeks=1))
    if period == "month":
        start = day.replace(day=1)
        month_after = (start.month % 12) + 1
        end = start.replace(year=start.year + (start.month == 12), month=month_after)
        return Board(project, period, f"{start:%Y-%m}", start, end)
    return Board(project, period, None, ALL_TIME_EPOCH, None)


@given(
    period=st.sampled_from(PERIODS),
    moment=st.datetimes(
        min_value=datetime(2000, 1, 2),
        max_value=datetime(2150, 12, 30),
        timezones=st.none() | st.timezones(),
    ),
)
def test_a_kept_board_is_the_board_made_anew(period: str, moment: datetime) -> None:
    found = board_for("p", period, moment)

    assert found == board_as_before("p", period, moment)
    assert found.start.tzinfo is UTC
    assert board_for("p", period, moment) is found  # made once for the day
