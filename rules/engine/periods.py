"""Calendar periods (day, ISO week, month) as consecutive integers in a timezone.

Two moments fall in the same period exactly when their indexes are equal, and consecutive
periods have consecutive indexes, so a streak only ever compares integers. Indexes are computed
from the local calendar date, so a 23- or 25-hour day around a DST change is still one day.

A user who changes timezone (travels) can reach tomorrow's date a minute after today's event,
or live a date twice. So what was counted is remembered as instants, and re-read in the
user's current zone: a streak's last counted moment, a cap's payouts (see rules.engine.streaks and
rules.engine.state).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from rules.engine.frozen import fast_init

PERIODS = ("day", "week", "month")
CAP_PERIODS = (*PERIODS, "lifetime")


# Streaks re-read the same stored instants at every event: remember the answers. (Equal keys
# are the same instant, zone and kind, so the cache can never answer for another moment.)
@lru_cache(maxsize=65536)
def period_index(moment: datetime, zone: ZoneInfo, period: str) -> int:
    local = _local_date(moment, zone)
    if period == "day":
        return local.toordinal()
    if period == "week":
        return (local.toordinal() - 1) // 7  # ordinal 1 (0001-01-01) is a Monday: ISO weeks
    if period == "month":
        return local.year * 12 + local.month - 1
    if period == "lifetime":
        return 0
    raise ValueError(f"unknown period {period!r}")


# A new event's instant is asked for in each kind of period, once per event: read its local
# date once.
@lru_cache(maxsize=1024)
def _local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


@fast_init
@dataclass(frozen=True)
class Span:
    """A period as the absolute interval [start, end); both None for "lifetime"."""

    start: datetime | None
    end: datetime | None

    def __contains__(self, moment: datetime) -> bool:
        return (self.start is None or self.start <= moment) and (
            self.end is None or moment < self.end
        )


# Caps and streaks ask for the same few period starts at every event.
@lru_cache(maxsize=65536)
def period_start(index: int, zone: ZoneInfo, period: str) -> datetime:
    """When the period with this index starts: its first local midnight, in UTC."""
    if period == "day":
        first_day = date.fromordinal(index)
    elif period == "week":
        first_day = date.fromordinal(index * 7 + 1)
    elif period == "month":
        year, month = divmod(index, 12)
        first_day = date(year, month + 1, 1)
    else:
        raise ValueError(f"period {period!r} has no start")
    return datetime.combine(first_day, time(), tzinfo=zone).astimezone(UTC)


# No moment of a period is longer than this before its start (period_start): the start is its
# first local midnight, unless a DST change skipped that midnight, and then the period's first
# moments come before it by less than the skipped time. No zone has ever skipped more than a
# day (Samoa skipped 30 December 2011); two give room to spare.
START_SLACK = timedelta(days=2)


def period_end(index: int, zone: ZoneInfo, period: str) -> datetime:
    """When the period with this index ends: the start of the next one."""
    return period_start(index + 1, zone, period)


def span_of(moment: datetime, zone: ZoneInfo, period: str) -> Span:
    """The local period (in `zone`) holding `moment`, as an absolute interval."""
    if period == "lifetime":
        return Span(None, None)
    index = period_index(moment, zone, period)
    return Span(period_start(index, zone, period), period_end(index, zone, period))


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_timezone(name: str) -> bool:
    """True for an IANA timezone name (e.g. Europe/Berlin); not for files of the zone
    database that are no zones of their own ("localtime", "posixrules", "right/UTC")."""
    return name in _iana_names()


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    # "localtime" is this machine's own setting, "Factory" a placeholder with no offset.
    return frozenset(available_timezones()) - {"localtime", "Factory"}
