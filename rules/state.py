"""A user's reward state as the engine sees it: immutable values, no storage concerns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rules.periods import Span, span_of

# Completion counts are kept for this many recent periods per capped event, so the user
# document stays small. Periods older than those are remembered as forgotten
# (`forgotten_before`), and an event imported into one is refused as over the limit rather
# than risk paying a capped reward twice.
COMPLETION_PERIODS_KEPT = 40


@dataclass(frozen=True)
class StreakState:
    current_count: int = 0
    longest_count: int = 0
    last_period: int | None = None
    period: str | None = None  # the kind of period `last_period` counts (day, week, month)
    last_update: datetime | None = None
    freezes: int = 0
    last_period_end: datetime | None = None  # when `last_period` ends, in the zone it counted


@dataclass(frozen=True)
class PeriodCount:
    span: Span
    count: int


@dataclass(frozen=True)
class CompletionCounter:
    """How often an event's rule paid out, per period of its `maxCompletions`.

    Periods are kept as absolute spans in the zone they were counted in: an event inside a
    counted span belongs to it whatever the user's timezone is now, so changing timezone can
    neither reopen today early nor count it twice.
    """

    period: str
    counted: tuple[PeriodCount, ...] = ()
    forgotten_before: datetime | None = None  # spans ending before this were dropped

    def span_for(self, moment: datetime, zone: ZoneInfo) -> Span:
        for entry in self.counted:
            if moment in entry.span:
                return entry.span
        return span_of(moment, zone, self.period)

    def count_in(self, span: Span) -> int | None:
        """Completions in `span`, or None when its count is no longer known."""
        for entry in self.counted:
            if entry.span == span:
                return entry.count
        if self.forgotten_before is not None and span.start is not None:
            if span.start < self.forgotten_before:
                return None
        return 0

    def incremented(self, span: Span) -> CompletionCounter:
        counts = {entry.span: entry.count for entry in self.counted}
        counts[span] = counts.get(span, 0) + 1
        by_age = sorted(counts, key=lambda s: s.start or datetime.min.replace(tzinfo=UTC))
        kept, dropped = by_age[-COMPLETION_PERIODS_KEPT:], by_age[:-COMPLETION_PERIODS_KEPT]
        forgotten = self.forgotten_before
        for old in dropped:
            if old.end is not None and (forgotten is None or old.end > forgotten):
                forgotten = old.end
        return CompletionCounter(
            period=self.period,
            counted=tuple(PeriodCount(s, counts[s]) for s in kept),
            forgotten_before=forgotten,
        )


@dataclass(frozen=True)
class UserState:
    user_id: str
    usergroup: str | None = None
    timezone: str | None = None
    balance: int = 0
    lifetime: int = 0
    streaks: Mapping[str, StreakState] = field(default_factory=dict)
    completions: Mapping[str, CompletionCounter] = field(default_factory=dict)
    badges: tuple[str, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    event_count: int = 0
