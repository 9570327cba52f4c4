"""A user's reward state as the engine sees it: immutable values, no storage concerns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# Completion counts are kept for this many recent periods per capped event, so the user
# document stays small. A period whose count had to be dropped is remembered as forgotten
# (`forgotten_through`), and an event imported into such an old period is refused as over the
# limit rather than risk paying a capped reward twice.
COMPLETION_PERIODS_KEPT = 40


@dataclass(frozen=True)
class StreakState:
    current_count: int = 0
    longest_count: int = 0
    last_period: int | None = None
    period: str | None = None  # the kind of period `last_period` counts (day, week, month)
    last_update: datetime | None = None
    freezes: int = 0


@dataclass(frozen=True)
class CompletionCounter:
    """How often an event's rule paid out, per period of its `maxCompletions`."""

    period: str
    counts: Mapping[int, int] = field(default_factory=dict)
    forgotten_through: int | None = None  # counts of periods up to this index were dropped

    def count_in(self, period: str, index: int) -> int | None:
        """Completions in that period, or None when its count is no longer known."""
        if period != self.period:
            return 0
        if self.forgotten_through is not None and index <= self.forgotten_through:
            return None
        return self.counts.get(index, 0)

    def incremented(self, period: str, index: int) -> CompletionCounter:
        if period != self.period:  # the cap's period changed: earlier counts mean nothing
            return CompletionCounter(period=period, counts={index: 1})
        counts = dict(self.counts)
        counts[index] = counts.get(index, 0) + 1
        kept = sorted(counts)[-COMPLETION_PERIODS_KEPT:]
        forgotten = self.forgotten_through
        for index_dropped in set(counts) - set(kept):
            forgotten = index_dropped if forgotten is None else max(forgotten, index_dropped)
        return CompletionCounter(
            period=period, counts={i: counts[i] for i in kept}, forgotten_through=forgotten
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
