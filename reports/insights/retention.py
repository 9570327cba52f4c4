"""Retention (docs/api.md#insights), from users' first times (reports.insights.store) and the users
of each day (reports.insights.days), as sets of user hashes (reports.insights.hashes).

Periods are UTC days, or ISO weeks (Monday to Sunday); a period is named by its first day.
Cohorts are the periods whose first day lies in [first, last], ascending, without the empty
ones. A user belongs to the cohort of the period holding their first event (of the cohort
event when one is given). retained[0] is the cohort's size; retained[k] counts its users with
at least one event (of the return event when one is given) in the k-th period after the
cohort's, or is None when that period has not begun on `today`. A split compares the users who
did the split event during their cohort period with those who did not.

Days are handled as epoch day numbers (days since 1970-01-01, a Thursday), so every step is a
numpy operation over the hashes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from reports.insights.hashes import EMPTY, Hashes, from_binary, union

Period = Literal["day", "week"]
MS_PER_DAY = 86_400_000
_EPOCH = date(1970, 1, 1)
_LENGTH = {"day": 1, "week": 7}


def epoch_day(day: date) -> int:
    return (day - _EPOCH).days


def as_date(number: int) -> date:
    return _EPOCH + timedelta(days=number)


def period_starts(days: npt.NDArray[np.int64], period: Period) -> npt.NDArray[np.int64]:
    """The first day of the period holding each day (epoch day numbers)."""
    if period == "day":
        return days
    return days - (days + 3) % 7  # epoch day 0 is a Thursday: Monday is 3 days before


def cohort_starts(first: date, last: date, period: Period) -> list[int]:
    """The periods whose first day lies in [first, last]."""
    lo, hi = epoch_day(first), epoch_day(last)
    start = int(period_starts(np.array([lo], dtype=np.int64), period)[0])
    if start < lo:
        start += _LENGTH[period]
    return list(range(start, hi + 1, _LENGTH[period]))


def span(first: date, last: date, period: Period, periods: int) -> tuple[date, date]:
    """The days whose users the answer may need: from the first cohort's first day to the
    last day of the last cohort's period `periods` after."""
    starts = cohort_starts(first, last, period) or [epoch_day(first)]
    end = starts[-1] + (periods + 1) * _LENGTH[period] - 1
    return as_date(starts[0]), as_date(end)


def retention(
    *,
    period: Period,
    first: date,
    last: date,
    periods: int,
    today: date,
    first_hashes: Hashes,
    first_ms: npt.NDArray[np.int64],
    active: Mapping[int, Hashes],
    split: Mapping[int, Hashes] | None = None,
) -> list[dict[str, Any]]:
    """The cohorts. `active` and `split` map an epoch day to the users active (of the return
    event) and doing the split event that day."""
    length = _LENGTH[period]
    starts = cohort_starts(first, last, period)
    cohort_of = period_starts(first_ms // MS_PER_DAY, period)
    today_number = epoch_day(today)
    returns = _Periods(active, length)  # each period's users, merged once for every cohort

    def users_of_period(days: Mapping[int, Hashes], start: int) -> Hashes:
        return union(days.get(day, EMPTY) for day in range(start, start + length))

    cohorts = []
    for start in starts:
        members = np.unique(first_hashes[cohort_of == start])
        if not len(members):
            continue
        cohort: dict[str, Any] = {"start": as_date(start).isoformat()}
        cohort.update(_retained(members, start, length, periods, today_number, returns))
        if split is not None:
            did = np.intersect1d(members, users_of_period(split, start), assume_unique=True)
            did_not = np.setdiff1d(members, did, assume_unique=True)
            cohort["with"] = _retained(did, start, length, periods, today_number, returns)
            cohort["without"] = _retained(did_not, start, length, periods, today_number, returns)
        cohorts.append(cohort)
    return cohorts


class _Periods:
    """The union of the users of each period (by its first day), computed once."""

    def __init__(self, days: Mapping[int, Hashes], length: int) -> None:
        self._days, self._length = days, length
        self._unions: dict[int, Hashes] = {}

    def users(self, start: int) -> Hashes:
        if start not in self._unions:
            span = range(start, start + self._length)
            self._unions[start] = union(self._days.get(day, EMPTY) for day in span)
        return self._unions[start]


def _retained(
    members: Hashes,
    start: int,
    length: int,
    periods: int,
    today: int,
    active: _Periods,
) -> dict[str, Any]:
    retained: list[int | None] = [len(members)]
    for k in range(1, periods + 1):
        begins = start + k * length
        if begins > today:
            retained.append(None)
            continue
        returning = active.users(begins)
        retained.append(len(np.intersect1d(members, returning, assume_unique=True)))
    return {"users": len(members), "retained": retained}


def days_read(first: date, last: date, period: Period, periods: int, *, returns: bool) -> set[int]:
    """The epoch days whose users an answer reads: the periods 1..`periods` after each cohort's
    (`returns`), or the cohorts' own periods (a split)."""
    length = _LENGTH[period]
    wanted: set[int] = set()
    for start in cohort_starts(first, last, period):
        lo, hi = (
            (start + length, start + (periods + 1) * length) if returns else (start, start + length)
        )
        wanted.update(range(lo, hi))
    return wanted


def users_by_day(
    user_days: Iterable[Mapping[str, Any]], read: set[int] | None = None
) -> tuple[dict[int, Hashes], bool]:
    """The union of the users of each day (by epoch day) over the given insight days, and
    whether one of the days `read` (default: all) had dropped its users
    (reports.insights.days.USER_HASH_LIMIT)."""
    parts: dict[int, list[Hashes]] = defaultdict(list)
    dropped = False
    for doc in user_days:
        number = epoch_day(date.fromisoformat(doc["day"]))
        if doc.get("users") is None:
            dropped = dropped or read is None or number in read
            continue
        parts[number].append(from_binary(doc["users"]))
    return {number: union(hashes) for number, hashes in parts.items()}, dropped
