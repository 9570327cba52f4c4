"""Leaderboard scores (docs/architecture.md): which board a moment falls on, which ledger
entries count, and how points and their tie-break share one sortable number. Pure: the Redis
side is rules.stores.boards, the use case rules.usecases.leaderboards.

Boards are per project and UTC period (day, ISO week, month, `all`); positive rule entries
count in the period of their `createdAt`, manual adjustments never. More points rank first,
then whoever reached the total first, then the userId; ascending scores are the ranking:

    score = -(points * 2**(TIE_BITS + 1) + (2**TIE_BITS - 1 - tick))

with `tick` the milliseconds from the period's start (ALL_TIME_EPOCH for `all`) to the
latest counted entry. Why: docs/decisions/0007-leaderboard-scores-and-live-updates.md.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

PERIODS = ("day", "week", "month", "all")
EARNED_SOURCES = ("event", "streak", "challenge")
ALL_TIME_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# Bits of a score's tie-break: the milliseconds a period can last (all time: until 2159).
TIE_BITS = {"day": 27, "week": 30, "month": 32, "all": 42}
KEEP_AFTER = {"day": timedelta(days=7), "week": timedelta(weeks=4), "month": timedelta(days=62)}


@dataclass(frozen=True)
class Board:
    """One period's board of a project."""

    project: str
    period: str
    key: str | None  # 2026-11-26, 2026-W48, 2026-11; None for all
    start: datetime
    end: datetime | None

    @property
    def expires_at(self) -> datetime | None:
        return None if self.end is None else self.end + KEEP_AFTER[self.period]

    def tick(self, moment: datetime) -> int:
        """Milliseconds from the board's start to `moment`, within the tie-break's bits."""
        elapsed = (moment - self.start) // timedelta(milliseconds=1)
        return min(max(elapsed, 0), (1 << TIE_BITS[self.period]) - 1)


def board_for(project: str, period: str, moment: datetime) -> Board:
    """The board of `period` that `moment` (UTC) falls in."""
    return _board_on(project, period, utc(moment).date())


@functools.lru_cache(maxsize=4096)
def _board_on(project: str, period: str, day: date) -> Board:
    """The board of `period` holding the UTC `day`: made once per day, not once per award."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if period == "day":
        return Board(project, period, f"{day:%Y-%m-%d}", midnight, midnight + timedelta(days=1))
    if period == "week":
        year, week, weekday = day.isocalendar()
        start = midnight - timedelta(days=weekday - 1)
        return Board(project, period, f"{year}-W{week:02d}", start, start + timedelta(weeks=1))
    if period == "month":
        start = midnight.replace(day=1)
        end = (
            start.replace(year=start.year + 1, month=1)
            if start.month == 12
            else start.replace(month=start.month + 1)
        )
        return Board(project, period, f"{start:%Y-%m}", start, end)
    if period == "all":
        return Board(project, period, None, ALL_TIME_EPOCH, None)
    raise ValueError(f"unknown period {period!r}; one of {', '.join(PERIODS)}")


def encode(points: int, tick: int, period: str) -> float:
    bits = TIE_BITS[period]
    return -float((points << (bits + 1)) + ((1 << bits) - 1 - tick))


def decode(score: float, period: str) -> tuple[int, int]:
    """(points, tick) of a score written by `encode` (the tick as rounding left it)."""
    bits = TIE_BITS[period]
    composite = int(-score)
    points = composite >> (bits + 1)
    tie = composite - (points << (bits + 1))
    return points, max(0, (1 << bits) - 1 - tie)


def counted(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The ledger entries a board counts: points earned through rules."""
    return [e for e in entries if e["delta"] > 0 and e["source"] in EARNED_SOURCES]


def changes(project: str, entries: Iterable[Mapping[str, Any]]) -> dict[Board, tuple[int, int]]:
    """Per board the (counted) `entries` fall on: the points they add and the latest entry's
    tick."""
    found: dict[Board, tuple[int, int]] = {}
    for entry in entries:
        at = utc(entry["createdAt"])
        for period in PERIODS:
            board = board_for(project, period, at)
            points, tick = found.get(board, (0, 0))
            found[board] = (points + entry["delta"], max(tick, board.tick(at)))
    return found


def utc(moment: datetime) -> datetime:
    # A MongoDB client that is not tz_aware hands back naive UTC datetimes.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
