"""Calendar periods (day, ISO week, month) as consecutive integers in a timezone.

Two moments fall in the same period exactly when their indexes are equal, and consecutive
periods have consecutive indexes, so a streak only ever compares integers. Indexes are computed
from the local calendar date, so a 23- or 25-hour day around a DST change is still one day.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIODS = ("day", "week", "month")
CAP_PERIODS = (*PERIODS, "lifetime")


def period_index(moment: datetime, zone: ZoneInfo, period: str) -> int:
    local = moment.astimezone(zone).date()
    if period == "day":
        return local.toordinal()
    if period == "week":
        return (local.toordinal() - 1) // 7  # ordinal 1 (0001-01-01) is a Monday: ISO weeks
    if period == "month":
        return local.year * 12 + local.month - 1
    if period == "lifetime":
        return 0
    raise ValueError(f"unknown period {period!r}")


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_timezone(name: str) -> bool:
    """True for an IANA timezone name this machine knows (e.g. Europe/Berlin)."""
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
