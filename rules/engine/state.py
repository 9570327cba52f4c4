"""A user's reward state as the engine sees it: immutable values, no storage concerns."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rules.engine.challenges import ChallengeState
from rules.engine.frozen import fast_init
from rules.engine.periods import Span, period_index, zone

# The most recent payout instants kept per capped event: enough to judge any cap of up to
# MAX_CAP_COUNT completions per period, while the user document stays small. If older ones
# had to be dropped, an event whose period may hold a dropped one is refused as over the
# limit rather than risk paying a capped reward twice.
MAX_CAP_COUNT = 100
COMPLETIONS_KEPT = MAX_CAP_COUNT


@fast_init
@dataclass(frozen=True)
class StreakMoment:
    """An event a streak has seen: its instant, and the timezone (IANA name) the user was in."""

    at: datetime
    zone: str


@fast_init
@dataclass(frozen=True)
class StreakBase:
    """A streak's moments older than those it keeps, folded: where the walk over them ended."""

    count: int = 0  # the length of the run going on at the last folded counted moment
    longest: int = 0
    freezes: int = 0
    run_start: datetime | None = None  # the first counted moment of that run
    last_counted: datetime | None = None
    through: datetime | None = None  # the latest folded moment: none at or before it can count
    # The latest folded moment of each recent zone: a later event of its zone and period never
    # counts, so it is not kept either.
    folded: tuple[StreakMoment, ...] = ()


@fast_init
@dataclass(frozen=True)
class PaidRun:
    """The run starting at `start` has had its milestones up to `through` settled. Recorded only
    when that is more than the run's length (a late event shortened a run already paid)."""

    start: datetime
    through: int


@fast_init
@dataclass(frozen=True)
class StreakState:
    """A streak as rules.engine.streaks walks it: the counts, and the moments they are derived
    from."""

    current_count: int = 0
    longest_count: int = 0
    last_update: datetime | None = None  # the latest counted moment
    freezes: int = 0
    period: str | None = None  # the kind of period the moments were counted in (day, week, month)
    recent: tuple[StreakMoment, ...] = ()  # ascending by (at, zone)
    base: StreakBase = StreakBase()
    paid: tuple[PaidRun, ...] = ()
    # The freeze policy (max, earnEvery) under which the counts above are where the walk over
    # `base` and `recent` ends; None when not known to be (a state from an older document).
    walked_with: tuple[int, int | None] | None = None

    @property
    def last_period(self) -> int | None:
        """The index of the latest counted period, in the timezone it was counted in; None when
        that moment is no longer kept (a state stored before moments were)."""
        if self.period is None or self.last_update is None:
            return None
        for moment in self.recent:
            if moment.at == self.last_update:
                return period_index(moment.at, zone(moment.zone), self.period)
        return None


@fast_init
@dataclass(frozen=True)
class CompletionCounter:
    """When an event's rule paid out: how often in all, and the most recent instants.

    A cap is judged by reading those instants in the user's current timezone: at each payout,
    the local period the user is in holds no more payouts than the cap allows, wherever the
    earlier ones were made.
    """

    total: int = 0
    recent: tuple[datetime, ...] = ()  # ascending, at most COMPLETIONS_KEPT
    dropped_through: datetime | None = None  # the latest instant no longer in `recent`

    def count_within(self, span: Span) -> int | None:
        """Payouts inside `span`, or None when some of them may have been dropped."""
        if span.start is None:  # lifetime
            return self.total
        if self.dropped_through is not None and span.start <= self.dropped_through:
            return None
        # `recent` is ascending: the moments in [start, end) are one slice of it.
        recent = self.recent
        end = len(recent) if span.end is None else bisect_left(recent, span.end)
        return end - bisect_left(recent, span.start)

    def added(self, moment: datetime) -> CompletionCounter:
        recent = self.recent
        if not recent or moment >= recent[-1]:
            recent += (moment,)  # in order, the common case: where insort would put it
        else:
            ordered = list(recent)
            insort(ordered, moment)  # after equal instants, where a stable sort puts it
            recent = tuple(ordered)
        through = self.dropped_through
        if len(recent) > COMPLETIONS_KEPT:  # sliced only then: `recent` is often full
            dropped = recent[:-COMPLETIONS_KEPT]
            if through is None or dropped[-1] > through:
                through = dropped[-1]
            recent = recent[-COMPLETIONS_KEPT:]
        return CompletionCounter(self.total + 1, recent, through)


# Periods of a points cap (maxPoints) remembered per event: a week of days, since events may
# arrive up to 7 days late without events:import. An event in a period older than those kept
# earns nothing from a capped rule rather than risk paying past the cap.
PERIODS_KEPT = 8


@fast_init
@dataclass(frozen=True)
class PointsTally:
    """Points an event's rule paid a user per period of its maxPoints cap, by period start
    (the epoch for "lifetime"), the most recent PERIODS_KEPT periods."""

    periods: tuple[tuple[datetime, int], ...] = ()  # ascending by start
    dropped_through: datetime | None = None  # the latest period start no longer kept

    def within(self, start: datetime) -> int | None:
        """Points paid in the period starting at `start`; None when it may have been dropped."""
        if self.dropped_through is not None and start <= self.dropped_through:
            return None
        return sum(points for begun, points in self.periods if begun == start)

    def added(self, start: datetime, points: int) -> PointsTally:
        totals = dict(self.periods)
        totals[start] = totals.get(start, 0) + points
        ordered = sorted(totals.items())
        dropped = ordered[:-PERIODS_KEPT]
        through = self.dropped_through
        if dropped and (through is None or dropped[-1][0] > through):
            through = dropped[-1][0]
        return PointsTally(periods=tuple(ordered[-PERIODS_KEPT:]), dropped_through=through)


@fast_init
@dataclass(frozen=True)
class UserState:
    user_id: str
    usergroup: str | None = None
    timezone: str | None = None
    balance: int = 0
    lifetime: int = 0
    streaks: Mapping[str, StreakState] = field(default_factory=dict)
    completions: Mapping[str, CompletionCounter] = field(default_factory=dict)
    earned: Mapping[str, PointsTally] = field(default_factory=dict)  # by eventId, capped rules
    challenges: Mapping[str, ChallengeState] = field(default_factory=dict)
    badges: tuple[str, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    event_count: int = 0
