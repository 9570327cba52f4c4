"""Day keys and the days of the 7d / 30d / all windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from reports.windows import UnknownWindow, day_key, day_range, window_bounds, window_days


def test_day_key_is_the_utc_date_of_an_aware_moment() -> None:
    new_york_evening = datetime(2024, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert day_key(new_york_evening) == "2024-01-02"


def test_day_key_reads_a_naive_moment_as_utc_like_pymongo_returns_it() -> None:
    assert day_key(datetime(2024, 1, 1, 23, 59, 59)) == "2024-01-01"
    assert day_key(date(2024, 2, 29)) == "2024-02-29"


def test_seven_days_end_today_and_include_it() -> None:
    today = datetime(2024, 3, 2, 8, 0, tzinfo=UTC)
    assert window_days("7d", today) == [
        "2024-02-25",
        "2024-02-26",
        "2024-02-27",
        "2024-02-28",
        "2024-02-29",
        "2024-03-01",
        "2024-03-02",
    ]
    assert window_bounds("7d", today) == ("2024-02-25", "2024-03-02")


def test_thirty_days_span_thirty_consecutive_days() -> None:
    days = window_days("30d", date(2024, 3, 2))
    assert len(days) == 30 and len(set(days)) == 30
    assert days[0] == "2024-02-02" and days[-1] == "2024-03-02"


def test_all_runs_from_the_first_day_with_data_and_has_no_lower_bound() -> None:
    assert window_bounds("all", date(2024, 3, 2)) == (None, "2024-03-02")
    assert window_days("all", date(2024, 3, 2), first_day="2024-02-28") == [
        "2024-02-28",
        "2024-02-29",
        "2024-03-01",
        "2024-03-02",
    ]
    assert window_days("all", date(2024, 3, 2)) == []


def test_a_later_first_day_shortens_a_fixed_window_but_an_earlier_one_does_not_lengthen_it() -> (
    None
):
    assert window_days("7d", date(2024, 3, 2), first_day="2024-03-01") == [
        "2024-03-01",
        "2024-03-02",
    ]
    assert len(window_days("7d", date(2024, 3, 2), first_day="2020-01-01")) == 7


def test_unknown_window_is_refused() -> None:
    with pytest.raises(UnknownWindow):
        window_days("90d", date(2024, 3, 2))


def test_day_range_is_inclusive_and_empty_when_reversed() -> None:
    assert day_range("2024-12-31", "2025-01-01") == ["2024-12-31", "2025-01-01"]
    assert day_range("2025-01-02", "2025-01-01") == []
