"""The walk behind a streak (rules.engine.streaks): its counts, runs and freezes worked out by
taking its moments in time order from a base, and the folding of moments too old or too many
to keep into a new base.

A walk judges each moment against the latest counted one, both read in the zone of the moment
being judged; folding a prefix of the walk into the base is exact, so a state with a base and
a few recent moments walks as the whole history would.
Why: docs/decisions/0004-streaks-are-a-walk-over-kept-moments.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from rules.engine.definitions import Milestone, StreakRule
from rules.engine.periods import START_SLACK, period_index, period_start, zone
from rules.engine.state import PaidRun, StreakBase, StreakMoment

KEPT_WINDOW = timedelta(days=8)
MAX_KEPT = 32
FOLDED_ZONES_KEPT = 8
LONGEST_PERIOD = timedelta(days=32)  # a month, DST included, is shorter


@dataclass(slots=True)
class Run:
    start: datetime  # its first counted moment
    length: int
    moments: list[StreakMoment]  # the moments it counted, those folded into the base left out


class Walk:
    """The streak's counts, walked from a base over moments in time order. With `track`, it
    also records which run each moment counted in and the moments of each run (for settle)."""

    # A walk is made for every event that changes a streak: slots make it and its reads cheaper.
    __slots__ = (
        "period",
        "policy",
        "count",
        "longest",
        "freezes",
        "last",
        "last_zone",
        "last_index",
        "through",
        "counted",
        "spent",
        "runs",
        "track",
        "run_of",
        "from_base",
    )

    def __init__(self, rule: StreakRule, base: StreakBase, track: bool = True) -> None:
        self.period = rule.period
        self.policy = rule.freezes
        self.count, self.longest, self.freezes = base.count, base.longest, base.freezes
        self.last = base.last_counted
        # The zone of the latest counted moment and its period there (None: from the base).
        self.last_zone: str | None = None
        self.last_index = 0
        self.through = base.through
        self.counted = 0  # moments counted by this walk
        self.spent = 0  # freezes spent by this walk
        self.runs: list[Run] = []
        self.track = track
        # The run each moment counted in, or was judged against (it fell in its latest period).
        self.run_of: dict[StreakMoment, int] = {}
        self.from_base = base.last_counted is not None
        if base.last_counted is not None:
            self.runs.append(Run(base.run_start or base.last_counted, base.count, []))

    def take_all(self, moments: Sequence[StreakMoment]) -> None:
        """Take `moments`, in order. (The walk's state lives in locals meanwhile: this loop is
        most of a streak's cost.)"""
        if not moments:
            return
        period, runs, track, run_of = self.period, self.runs, self.track, self.run_of
        earn_every, most = self.policy.earn_every, self.policy.max
        count, longest, freezes = self.count, self.longest, self.freezes
        counted, spent = self.counted, self.spent
        last, last_zone, last_index = self.last, self.last_zone, self.last_index
        for moment in moments:
            at, name = moment.at, moment.zone
            here = zone(name)
            index = period_index(at, here, period)
            if last is None:
                count = 1
                runs.append(Run(at, 1, [moment] if track else []))
            else:
                # The latest counted moment, seen from here.
                latest = last_index if name == last_zone else period_index(last, here, period)
                missed = index - latest - 1
                if missed < 0:
                    if track:
                        run_of[moment] = len(runs) - 1
                    continue  # the latest counted period, seen from here
                if missed > freezes:
                    count = 1
                    runs.append(Run(at, 1, [moment] if track else []))
                else:
                    freezes -= missed
                    spent += missed
                    count += 1
                    run = runs[-1]
                    run.length = count
                    if track:
                        run.moments.append(moment)
            if track:
                run_of[moment] = len(runs) - 1
            if earn_every and count % earn_every == 0 and freezes < most:
                freezes += 1
            if count > longest:
                longest = count
            last, last_zone, last_index = at, name, index
            counted += 1
        self.count, self.longest, self.freezes = count, longest, freezes
        self.counted, self.spent = counted, spent
        self.last, self.last_zone, self.last_index = last, last_zone, last_index
        self.through = moments[-1].at

    def base(self, folded: tuple[StreakMoment, ...] = ()) -> StreakBase:
        return StreakBase(
            self.count,
            self.longest,
            self.freezes,
            self.runs[-1].start if self.runs else None,
            self.last,
            self.through,
            folded,
        )


def walk_over(rule: StreakRule, base: StreakBase, moments: Sequence[StreakMoment]) -> Walk:
    walk = Walk(rule, base)
    walk.take_all(moments)
    return walk


def settle(
    rule: StreakRule,
    before: Walk,
    after: Walk,
    moved: Mapping[StreakMoment, StreakMoment],
    paid: Sequence[PaidRun],
) -> tuple[tuple[Milestone, ...], list[PaidRun]]:
    """The milestones the runs `after` newly reach, and the records of runs that have settled
    more than their length.

    A run `after` inherits what each run `before` settled whose counted moments it holds (the
    moment `moved` replaced it, if any), and the base's run its continuation: it pays only the
    milestones above the highest of those."""
    recorded = {record.start: record.through for record in paid}
    inherited = [0] * len(after.runs)
    for index, old in enumerate(before.runs):
        settled = max(old.length, recorded.get(old.start, 0))
        heirs = {after.run_of[moved.get(moment, moment)] for moment in old.moments}
        if index == 0 and before.from_base:
            heirs.add(0)  # the run going on in the base starts both walks
        for heir in heirs:
            inherited[heir] = max(inherited[heir], settled)
    return milestones_reached(rule, after, inherited)


def milestones_reached(
    rule: StreakRule, after: Walk, inherited: Sequence[int]
) -> tuple[tuple[Milestone, ...], list[PaidRun]]:
    """The milestones each run `after` reaches above what it inherited, ascending by count,
    and the records of runs that inherited more than their length."""
    reached: list[Milestone] = []
    records: list[PaidRun] = []
    for run, through in zip(after.runs, inherited, strict=True):
        if through < run.length:
            reached.extend(m for m in rule.milestones if through < m.count <= run.length)
        elif through > run.length:
            records.append(PaidRun(run.start, through))
    if len(reached) > 1:
        reached.sort(key=lambda milestone: milestone.count)
    return tuple(reached), records


def folded_base(
    rule: StreakRule, base: StreakBase, folding: tuple[StreakMoment, ...]
) -> StreakBase:
    """`base` with `folding` (the oldest kept moments, in order) folded in: what
    walk_over(rule, base, folding).base(folded_zones(base, folding)) gives, at about half its
    cost (a day streak folds a moment at nearly every event that starts a day). It judges each
    moment as Walk.take_all does, without the runs, which a fold has no use for: change both
    alike, and streak_ahead._folded_one (test_engine_equivalence compares every step with the
    reference engine's)."""
    period, policy = rule.period, rule.freezes
    earn_every, most = policy.earn_every, policy.max
    count, longest, freezes = base.count, base.longest, base.freezes
    last = base.last_counted
    run_start = None if last is None else base.run_start or last
    last_zone: str | None = None
    last_index = 0
    for moment in folding:
        at, name = moment.at, moment.zone
        here = zone(name)
        index = period_index(at, here, period)
        if last is None:
            count, run_start = 1, at
        else:
            latest = last_index if name == last_zone else period_index(last, here, period)
            missed = index - latest - 1
            if missed < 0:
                continue
            if missed > freezes:
                count, run_start = 1, at
            else:
                freezes -= missed
                count += 1
        if earn_every and count % earn_every == 0 and freezes < most:
            freezes += 1
        if count > longest:
            longest = count
        last, last_zone, last_index = at, name, index
    return StreakBase(
        count, longest, freezes, run_start, last, folding[-1].at, folded_zones(base, folding)
    )


def fold(
    rule: StreakRule, base: StreakBase, recent: tuple[StreakMoment, ...]
) -> tuple[StreakBase, tuple[StreakMoment, ...]]:
    """Fold the moments too old, or too many, to keep into the base (see first_kept_index)."""
    first_kept = first_kept_index(rule, recent)
    if first_kept == 0:
        return base, recent
    return folded_base(rule, base, recent[:first_kept]), recent[first_kept:]


def first_kept_index(
    rule: StreakRule, recent: tuple[StreakMoment, ...], newest_start: datetime | None = None
) -> int:
    """The index of the first of `recent` to keep: those before are too old, or too many.

    Too old: before KEPT_WINDOW ahead of the start of the latest period a moment falls in (in
    its zone). Periods, not instants, so that the boundary does not depend on which event of a
    period came first: it only moves forward, whatever the arrival order. `newest_start`: the
    start of the period of the last of `recent`, in its zone, when the caller knows it.
    """
    period = rule.period
    newest = recent[-1]
    latest = _period_start(newest.at, newest.zone, period) if newest_start is None else newest_start
    # A moment's period starts before START_SLACK after it, and `recent` is ascending: once
    # that is no later than the latest start found, none of the moments left has a later one.
    reached = latest - START_SLACK
    for index in range(len(recent) - 2, -1, -1):
        moment = recent[index]
        if moment.at <= reached:
            break
        start = _period_start(moment.at, moment.zone, period)
        if start > latest:
            latest, reached = start, start - START_SLACK
    # The first at or after the bound (bisect_left's answer): few come before it.
    bound, first_kept = latest - KEPT_WINDOW, 0
    while first_kept < len(recent) and recent[first_kept].at < bound:
        first_kept += 1
    return max(first_kept, len(recent) - MAX_KEPT)


def folded_zones(base: StreakBase, folding: tuple[StreakMoment, ...]) -> tuple[StreakMoment, ...]:
    """Of each zone, the latest folded moment that may still share a period with a later one."""
    latest = folding[-1]
    through = latest.at
    if len(folding) == 1:
        for moment in base.folded:
            if moment.zone != latest.zone:
                break
        else:  # one zone, one moment folded, the common case: it is the latest
            return (latest,)
    by_zone = {moment.zone: moment for moment in (*base.folded, *folding)}
    if len(by_zone) == 1:  # one zone, the common case: what the sort below would leave
        (latest,) = by_zone.values()
        return (latest,) if latest.at > through - LONGEST_PERIOD else ()
    return tuple(
        sorted(
            (m for m in by_zone.values() if m.at > through - LONGEST_PERIOD),
            key=lambda m: (m.at, m.zone),
        )[-FOLDED_ZONES_KEPT:]
    )


# Each kept moment's period start is asked for at every event that folds: remember them.
@lru_cache(maxsize=65536)
def _period_start(at: datetime, zone_name: str, period: str) -> datetime:
    here = zone(zone_name)
    return period_start(period_index(at, here, period), here, period)
