"""Calendar periods as consecutive integers in a timezone, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine.periods import (
    Span,
    is_timezone,
    period_end,
    period_index,
    span_of,
    zone,
)

BERLIN = zone("Europe/Berlin")
NEW_YORK = zone("America/New_York")
TOKYO = zone("Asia/Tokyo")
UTC_ZONE = zone("UTC")

any_date = st.dates(min_value=date(1971, 1, 1), max_value=date(2099, 12, 31))
zones = st.sampled_from([UTC_ZONE, BERLIN, NEW_YORK, TOKYO, zone("Australia/Lord_Howe")])


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(day: date, hour: int, minute: int, tz: ZoneInfo, fold: int = 0) -> datetime:
    """A local wall-clock time, handed to period_index as the UTC instant it stands for."""
    moment = datetime.combine(day, time(hour, minute, fold=fold), tzinfo=tz)
    return moment.astimezone(UTC)


# --- day ---------------------------------------------------------------------------------


def test_two_moments_of_one_utc_day_share_a_day_index() -> None:
    assert period_index(utc(2024, 5, 1, 0, 0), UTC_ZONE, "day") == period_index(
        utc(2024, 5, 1, 23, 59, 59), UTC_ZONE, "day"
    )


def test_midnight_starts_the_next_day_index() -> None:
    assert (
        period_index(utc(2024, 5, 2, 0, 0), UTC_ZONE, "day")
        - period_index(utc(2024, 5, 1, 23, 59, 59), UTC_ZONE, "day")
    ) == 1


def test_day_index_counts_across_month_and_year_ends() -> None:
    assert (
        period_index(utc(2025, 1, 1, 12), UTC_ZONE, "day")
        - period_index(utc(2024, 12, 31, 12), UTC_ZONE, "day")
    ) == 1
    assert (
        period_index(utc(2024, 3, 1, 12), UTC_ZONE, "day")
        - period_index(utc(2024, 2, 28, 12), UTC_ZONE, "day")
    ) == 2  # leap day between


@settings(database=None)
@given(day=any_date, tz=zones)
def test_consecutive_local_days_have_consecutive_indexes(day: date, tz: ZoneInfo) -> None:
    today = period_index(local(day, 12, 0, tz), tz, "day")
    tomorrow = period_index(local(day + timedelta(days=1), 12, 0, tz), tz, "day")
    assert tomorrow - today == 1


def test_the_same_instant_is_a_different_day_in_another_timezone() -> None:
    moment = utc(2024, 1, 1, 23, 30)  # 2024-01-02 08:30 in Tokyo, 18:30 on the 1st in New York
    utc_day = period_index(moment, UTC_ZONE, "day")
    assert period_index(moment, TOKYO, "day") == utc_day + 1
    assert period_index(moment, NEW_YORK, "day") == utc_day


def test_early_utc_morning_is_the_previous_day_in_new_york() -> None:
    moment = utc(2024, 1, 2, 3, 0)  # 22:00 on 2024-01-01 in New York
    assert period_index(moment, NEW_YORK, "day") == period_index(moment, UTC_ZONE, "day") - 1


def test_a_local_day_spanning_two_utc_dates_is_one_index() -> None:
    first = local(date(2024, 7, 14), 0, 0, TOKYO)
    last = local(date(2024, 7, 14), 23, 59, TOKYO)
    assert period_index(first, TOKYO, "day") == period_index(last, TOKYO, "day")
    assert first.date() != last.date()  # the two instants fall on different UTC dates


@pytest.mark.parametrize(
    ("tz_name", "dst_day"),
    [
        ("Europe/Berlin", date(2024, 3, 31)),  # spring forward: a 23-hour day
        ("Europe/Berlin", date(2024, 10, 27)),  # fall back: a 25-hour day
        ("America/New_York", date(2024, 3, 10)),
        ("America/New_York", date(2024, 11, 3)),
    ],
)
def test_a_dst_change_day_is_one_day(tz_name: str, dst_day: date) -> None:
    tz = zone(tz_name)
    early = period_index(local(dst_day, 0, 30, tz), tz, "day")
    late = period_index(local(dst_day, 23, 30, tz), tz, "day")
    day_before = period_index(local(dst_day - timedelta(days=1), 23, 30, tz), tz, "day")
    day_after = period_index(local(dst_day + timedelta(days=1), 0, 30, tz), tz, "day")
    assert early == late
    assert early - day_before == 1
    assert day_after - late == 1


def test_berlin_spring_forward_day_is_one_index_from_0030_to_2330() -> None:
    # 2024-03-31 00:30 CET is 2024-03-30 23:30 UTC; 23:30 CEST is 21:30 UTC.
    assert local(date(2024, 3, 31), 0, 30, BERLIN) == utc(2024, 3, 30, 23, 30)
    assert (
        period_index(utc(2024, 3, 30, 23, 30), BERLIN, "day")
        == period_index(utc(2024, 3, 31, 21, 30), BERLIN, "day")
        == date(2024, 3, 31).toordinal()
    )


def test_both_repeated_hours_of_a_fall_back_night_are_the_same_day() -> None:
    first = local(date(2024, 10, 27), 2, 30, BERLIN, fold=0)  # CEST
    second = local(date(2024, 10, 27), 2, 30, BERLIN, fold=1)  # CET, an hour later
    assert second - first == timedelta(hours=1)
    assert period_index(first, BERLIN, "day") == period_index(second, BERLIN, "day")


# --- week --------------------------------------------------------------------------------


def test_week_starts_on_monday() -> None:
    sunday = period_index(utc(2023, 12, 31, 12), UTC_ZONE, "week")
    monday = period_index(utc(2024, 1, 1, 12), UTC_ZONE, "week")
    next_sunday = period_index(utc(2024, 1, 7, 23, 59), UTC_ZONE, "week")
    next_monday = period_index(utc(2024, 1, 8, 0, 0), UTC_ZONE, "week")
    assert monday - sunday == 1
    assert next_sunday == monday
    assert next_monday - monday == 1


def test_an_iso_week_spanning_new_year_is_one_week() -> None:
    # 2020-12-31 (Thursday) and 2021-01-03 (Sunday) are both in ISO week 53 of 2020.
    assert period_index(utc(2020, 12, 31, 12), UTC_ZONE, "week") == period_index(
        utc(2021, 1, 3, 12), UTC_ZONE, "week"
    )


@settings(database=None)
@given(first=any_date, offset=st.integers(-20, 20))
def test_two_days_share_a_week_index_exactly_when_they_share_an_iso_week(
    first: date, offset: int
) -> None:
    second = first + timedelta(days=offset)
    same_index = period_index(local(first, 12, 0, UTC_ZONE), UTC_ZONE, "week") == period_index(
        local(second, 12, 0, UTC_ZONE), UTC_ZONE, "week"
    )
    assert same_index == (first.isocalendar()[:2] == second.isocalendar()[:2])


@settings(database=None)
@given(day=any_date, tz=zones)
def test_consecutive_weeks_have_consecutive_indexes(day: date, tz: ZoneInfo) -> None:
    this_week = period_index(local(day, 12, 0, tz), tz, "week")
    next_week = period_index(local(day + timedelta(days=7), 12, 0, tz), tz, "week")
    assert next_week - this_week == 1


def test_week_follows_the_local_monday_in_the_timezone() -> None:
    moment = utc(2024, 1, 7, 20, 0)  # Sunday in UTC, already Monday 05:00 in Tokyo
    assert period_index(moment, TOKYO, "week") == period_index(moment, UTC_ZONE, "week") + 1


# --- month -------------------------------------------------------------------------------


def test_month_index_changes_on_the_first_of_the_month() -> None:
    jan_1 = period_index(utc(2024, 1, 1, 0, 0), UTC_ZONE, "month")
    jan_31 = period_index(utc(2024, 1, 31, 23, 59), UTC_ZONE, "month")
    feb_1 = period_index(utc(2024, 2, 1, 0, 0), UTC_ZONE, "month")
    assert jan_1 == jan_31
    assert feb_1 - jan_31 == 1


def test_december_and_january_are_consecutive_months() -> None:
    assert (
        period_index(utc(2024, 1, 15), UTC_ZONE, "month")
        - period_index(utc(2023, 12, 15), UTC_ZONE, "month")
    ) == 1


def test_month_follows_the_local_calendar() -> None:
    moment = utc(2024, 1, 31, 20, 0)  # already February 1st in Tokyo
    assert period_index(moment, TOKYO, "month") == period_index(moment, UTC_ZONE, "month") + 1


def test_lifetime_is_a_single_period() -> None:
    assert period_index(utc(1999, 1, 1), UTC_ZONE, "lifetime") == 0
    assert period_index(utc(2050, 6, 1), TOKYO, "lifetime") == 0


def test_unknown_period_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="fortnight"):
        period_index(utc(2024, 1, 1), UTC_ZONE, "fortnight")


# --- timezone names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Asia/Kolkata"]
)
def test_known_iana_names_are_timezones(name: str) -> None:
    assert is_timezone(name) is True


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus_Mons",
        "",
        "Europe/berlin",
        "Asia/Tokyo ",
        "../etc/passwd",
        "/etc/localtime",
        "CET+1",
    ],
)
def test_unknown_or_malformed_names_are_not_timezones(name: str) -> None:
    assert is_timezone(name) is False


# --- spans and ends ---------------------------------------------------------------------------


def test_span_of_a_berlin_day_is_its_local_midnights_in_utc() -> None:
    span = span_of(datetime(2024, 3, 31, 12, tzinfo=UTC), ZoneInfo("Europe/Berlin"), "day")

    # 31 March 2024 is the 23-hour day of the spring change.
    assert span == Span(
        datetime(2024, 3, 30, 23, tzinfo=UTC), datetime(2024, 3, 31, 22, tzinfo=UTC)
    )


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_a_period_ends_where_the_next_one_starts(period: str) -> None:
    zone = ZoneInfo("America/New_York")
    moment = datetime(2024, 11, 3, 15, tzinfo=UTC)
    index = period_index(moment, zone, period)

    end = period_end(index, zone, period)

    assert period_index(end, zone, period) == index + 1
    assert period_index(end - timedelta(microseconds=1), zone, period) == index
    assert moment in span_of(moment, zone, period)
    assert end not in span_of(moment, zone, period)


def test_lifetime_span_holds_every_moment() -> None:
    span = span_of(datetime(2024, 1, 1, tzinfo=UTC), ZoneInfo("UTC"), "lifetime")
    assert datetime(1990, 1, 1, tzinfo=UTC) in span and datetime(2190, 1, 1, tzinfo=UTC) in span
