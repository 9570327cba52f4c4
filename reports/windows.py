"""Days and report windows.

A day is a UTC calendar date written as an ISO string, `'YYYY-MM-DD'`: it sorts as text, is a
plain BSON string, and compares with `$gte`/`$lte` in a query on the partials.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal, get_args

Window = Literal["7d", "30d", "all"]
WINDOWS: tuple[Window, ...] = get_args(Window)
_WINDOW_DAYS: dict[str, int] = {"7d": 7, "30d": 30}


class UnknownWindow(ValueError):
    """A window name other than 7d, 30d or all."""


def day_key(moment: datetime | date) -> str:
    """The UTC day of `moment`. A naive datetime is taken as UTC (what PyMongo returns unless
    the client is tz_aware); a `date` is taken as already being a UTC day."""
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.date().isoformat()
    return moment.isoformat()


def day_range(first: str, last: str) -> list[str]:
    """Every day from `first` to `last`, both included, in order; empty when first > last."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def window_bounds(window: str, today: datetime | date) -> tuple[str | None, str]:
    """(first day or None for no lower bound, last day) of `window` ending on `today`, both
    included. `7d` is today and the six days before it: today counts although it is not over."""
    last = day_key(today)
    if window == "all":
        return None, last
    if window not in _WINDOW_DAYS:
        raise UnknownWindow(f"window must be one of {', '.join(WINDOWS)}, not {window!r}")
    first = date.fromisoformat(last) - timedelta(days=_WINDOW_DAYS[window] - 1)
    return first.isoformat(), last


def window_days(window: str, today: datetime | date, first_day: str | None = None) -> list[str]:
    """The days of `window` ending on `today`, oldest first.

    `all` has no start of its own: it starts at `first_day` (the oldest day with data), and is
    empty without one. A `first_day` later than a 7d/30d window's start shortens that window
    too, so callers can always pass the oldest day they hold.
    """
    first, last = window_bounds(window, today)
    if first_day is not None and (first is None or first_day > first):
        first = first_day
    if first is None:
        return []
    return day_range(first, last)
