# Frozen copy of rules/engine/streaks.py as of main 9948adc (before the engine's speed work): the
# reference engine of tests/bench/engine.py and tests/unit/rules/test_engine_equivalence.py.
# Do not edit: it is what the new engine is measured against and must agree with.
"""Streaks (docs/api.md#rules-admin-api): one count per period, whatever order the events arrive in.

A streak counts at most once per period. The next period adds one; the same period changes
nothing; a gap resets the count to 1 unless the user holds enough freezes to cover every missed
period, in which case they are spent and the count goes on. A freeze is earned each time the
count reaches a multiple of `earnEvery`, up to `max`. A milestone pays when a run (the counts
from a reset on) reaches its count.

Decisions:

- A streak is a walk, not a counter. The state keeps the events it has seen as moments (the
  instant, and the timezone the user was in, as given to `advance_at`), and the counts are
  recomputed by walking them in time order. Each moment is judged against the latest counted
  one, both read in the zone of the moment being judged: that is how travel always worked (a
  trip east does not open tomorrow early, a trip west does not break the streak; see
  rules.engine.periods), and walking moments in time order reproduces exactly what in-order arrival
  gives. Because the walk depends only on the set of moments, an event arriving late (an
  older timestamp) gives the same state as if it had arrived in order: days 1, 3, 2 count 3,
  and a late event filling a gap a freeze covered gives the freeze back.
- Not a re-reading of every moment in the current zone: that would let a trip merge two
  counted days into one (23:00 and 01:00 UTC are one day in Tokyo) and break a streak.
- What is kept: per (zone, period in that zone) only the earliest moment. A later one of the
  same zone and period can never count, whatever else arrives (the latest counted moment before
  it is in its period too), so dropping it changes nothing; with one zone, that is one moment
  per period. So the stored moments, too, are the same in any arrival order.
- Bounded: moments before KEPT_WINDOW ahead of the start of the latest period seen, and any
  beyond the MAX_KEPT most recent, are folded into the state's `base`: count, freezes, longest,
  run start, latest counted moment, `through` (the latest folded moment), and the latest folded
  moment of each of FOLDED_ZONES_KEPT zones (so that a later event of its zone and period is
  still recognised as never counting). Folding a prefix of the walk is exact. An event at or
  before `through` cannot be placed: it does not count and leaves the state as it is. The
  boundary follows period starts, not instants, so it does not depend on which event of a
  period came first. KEPT_WINDOW exceeds the 7 days within which events arrive without the
  import scope (plus the 5 minutes a timestamp may lie ahead): unless a user's moments of the
  last 8 days exceed MAX_KEPT (many zones), any event accepted without that scope is placed. An
  import of older history in time order is placed too, each event after the one before.
- `counted` means the event added a counted period to the streak; an earlier event of an
  already counted period (it becomes the period's moment) is not counted. `freezes_used` is the
  net number of freezes this event made the streak spend, never negative (a late event that
  gives a freeze back reports 0, and `freezes` shows it).
- Milestones: an event pays the milestones it makes a run newly reach, possibly several at once
  (a late event joining two runs), in `milestones`; `milestone` is the highest of them. A run
  never pays a count twice: each run of the new walk inherits the highest count settled by
  every run of the previous walk whose counted moments it now holds (counted, or judged
  against it), and pays only milestones above that. Points already paid stay paid, so the
  total depends on arrival order in two cases. When a late event joins two runs that each
  reached a milestone, it has been paid twice for what is now one run (as it would have been
  for two runs in time order, which is what they were when paid). When a late event splits a
  paid run (it takes the freeze that joined it, or, in another zone, makes a period the same as
  its own), each part keeps what the whole settled (`StreakState.paid`) and does not pay those
  counts again, though in time order each part might have. Only in-order arrival gives exactly
  one payment per run and milestone reached.
- A change of period kind (day, week, month) restarts the streak, keeping longest and freezes.
- Stored BSON-clean (streak_state_to_document): the counts as before, plus the moments, the
  base and the payment records, all datetimes, ints, strings and lists of them. A document
  written before moments were kept reads as a base ending at its `lastUpdate`, its run's
  milestones settled through its count: the next event is judged as it always was, and events
  at or before `lastUpdate` are not placed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.bench.reference.definitions import Milestone, StreakRule
from tests.bench.reference.periods import period_index, period_start, zone
from tests.bench.reference.state import PaidRun, StreakBase, StreakMoment, StreakState

KEPT_WINDOW = timedelta(days=8)
MAX_KEPT = 32
FOLDED_ZONES_KEPT = 8
LONGEST_PERIOD = timedelta(days=32)  # a month, DST included, is shorter


@dataclass(frozen=True)
class StreakStep:
    """What one event did to one streak."""

    state: StreakState
    counted: bool
    milestones: tuple[Milestone, ...] = ()  # newly reached, ascending by count
    freezes_used: int = 0

    @property
    def milestone(self) -> Milestone | None:
        """The highest milestone this event reached, if any (all of them: `milestones`)."""
        return self.milestones[-1] if self.milestones else None


def advance_at(
    rule: StreakRule, state: StreakState | None, moment: datetime, zone: ZoneInfo
) -> StreakStep:
    """Count an event at `moment` for a user whose timezone is now `zone`.

    The event is judged against the latest counted moment before it, re-read in `zone`: a
    timezone change (travel) neither starts a new period early (east: it is already tomorrow
    here, but the last count was made today, seen from here) nor breaks the streak (the day
    after the last counted one, seen from here, is the next period). Later moments are judged
    again in their own zones (see the module's docstring).
    """
    if zone.key is None or moment.tzinfo is None:
        raise ValueError("a streak needs an aware moment and a named timezone")
    state = for_rule(rule, state)
    # In UTC: aware datetimes sharing a tzinfo compare by wall time, fold (DST) ignored.
    new = StreakMoment(moment.astimezone(UTC), zone.key)
    placed = _with_moment(rule, state, new)
    if placed is None:
        return StreakStep(state=state, counted=False)
    recent, replaced = placed

    before = _walk(rule, state.base, state.recent)
    after = _walk(rule, state.base, recent)
    moved = {} if replaced is None else {replaced: new}
    milestones, paid = _settle(rule, before, after, moved, state.paid)
    base, kept = _fold(rule, state.base, recent)
    if base.run_start is not None:
        start = base.run_start
        paid = [record for record in paid if record.start >= start]  # earlier runs are over
    advanced = StreakState(
        current_count=after.count,
        longest_count=after.longest,
        last_update=after.last,
        freezes=after.freezes,
        period=rule.period,
        recent=kept,
        base=base,
        paid=tuple(paid),
    )
    return StreakStep(
        state=advanced,
        counted=after.counted > before.counted,
        milestones=milestones,
        freezes_used=max(0, after.spent - before.spent),
    )


def for_rule(rule: StreakRule, state: StreakState | None) -> StreakState:
    """The state an event of `rule` starts from: a new one, or `state` restarted when the
    definition switched period kind (its runs mean nothing then)."""
    if state is None:
        freezes = rule.freezes.initial
        return StreakState(freezes=freezes, period=rule.period, base=StreakBase(freezes=freezes))
    if state.period != rule.period:
        # The definition switched between day/week/month: its runs mean nothing now.
        longest, freezes = state.longest_count, state.freezes
        return StreakState(
            longest_count=longest,
            freezes=freezes,
            period=rule.period,
            base=StreakBase(longest=longest, freezes=freezes),
        )
    return state


def _with_moment(
    rule: StreakRule, state: StreakState, new: StreakMoment
) -> tuple[tuple[StreakMoment, ...], StreakMoment | None] | None:
    """The moments to keep once `new` is seen and the one it replaces, if any; None when `new`
    changes nothing."""
    through = state.base.through
    if through is not None and new.at <= through:
        return None  # older than what was folded: it cannot be placed
    here = zone(new.zone)
    period = period_index(new.at, here, rule.period)
    if any(
        moment.zone == new.zone and period_index(moment.at, here, rule.period) == period
        for moment in state.base.folded
    ):
        return None  # an earlier one of this zone and period was folded: this never counts
    kept, replaced = [], None
    for moment in state.recent:
        if moment.zone == new.zone and period_index(moment.at, here, rule.period) == period:
            if moment.at <= new.at:
                return None  # an earlier one of this zone and period is kept: this never counts
            replaced = moment  # `new` is the earlier one: it takes the period's place
            continue
        kept.append(moment)
    kept.append(new)
    return tuple(sorted(kept, key=lambda moment: (moment.at, moment.zone))), replaced


@dataclass
class _Run:
    start: datetime  # its first counted moment
    length: int
    moments: list[StreakMoment]  # the moments it counted, those folded into the base left out


class _Walk:
    """The streak's counts, walked from a base over moments in time order."""

    def __init__(self, rule: StreakRule, base: StreakBase) -> None:
        self.rule = rule
        self.count, self.longest, self.freezes = base.count, base.longest, base.freezes
        self.last = base.last_counted
        self.through = base.through
        self.counted = 0  # moments counted by this walk
        self.spent = 0  # freezes spent by this walk
        self.runs: list[_Run] = []
        # The run each moment counted in, or was judged against (it fell in its latest period).
        self.run_of: dict[StreakMoment, int] = {}
        self.from_base = base.last_counted is not None
        if base.last_counted is not None:
            self.runs.append(_Run(base.run_start or base.last_counted, base.count, []))

    def take(self, moment: StreakMoment) -> None:
        self.through = moment.at
        if self.last is None:
            self._start_run(moment)
        else:
            here = zone(moment.zone)
            period = self.rule.period
            missed = period_index(moment.at, here, period) - period_index(self.last, here, period)
            missed -= 1
            if missed < 0:
                self.run_of[moment] = len(self.runs) - 1
                return  # the latest counted period, seen from here
            if missed > self.freezes:
                self._start_run(moment)
            else:
                self.freezes -= missed
                self.spent += missed
                self.count += 1
                run = self.runs[-1]
                run.length = self.count
                run.moments.append(moment)
        self.run_of[moment] = len(self.runs) - 1
        policy = self.rule.freezes
        if policy.earn_every and self.count % policy.earn_every == 0 and self.freezes < policy.max:
            self.freezes += 1
        self.longest = max(self.longest, self.count)
        self.last = moment.at
        self.counted += 1

    def _start_run(self, moment: StreakMoment) -> None:
        self.count = 1
        self.runs.append(_Run(moment.at, 1, [moment]))

    def base(self) -> StreakBase:
        return StreakBase(
            count=self.count,
            longest=self.longest,
            freezes=self.freezes,
            run_start=self.runs[-1].start if self.runs else None,
            last_counted=self.last,
            through=self.through,
        )


def _walk(rule: StreakRule, base: StreakBase, moments: Iterable[StreakMoment]) -> _Walk:
    walk = _Walk(rule, base)
    for moment in moments:
        walk.take(moment)
    return walk


def _settle(
    rule: StreakRule,
    before: _Walk,
    after: _Walk,
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
    reached: list[Milestone] = []
    records: list[PaidRun] = []
    for run, through in zip(after.runs, inherited, strict=True):
        reached.extend(m for m in rule.milestones if through < m.count <= run.length)
        if through > run.length:
            records.append(PaidRun(run.start, through))
    return tuple(sorted(reached, key=lambda milestone: milestone.count)), records


def _fold(
    rule: StreakRule, base: StreakBase, recent: tuple[StreakMoment, ...]
) -> tuple[StreakBase, tuple[StreakMoment, ...]]:
    """Fold the moments too old, or too many, to keep into the base.

    Too old: before KEPT_WINDOW ahead of the start of the latest period a moment falls in (in
    its zone). Periods, not instants, so that the boundary does not depend on which event of a
    period came first: it only moves forward, whatever the arrival order.
    """
    latest = max(_period_start(rule, moment) for moment in recent)
    first_kept = next(i for i, m in enumerate(recent) if m.at >= latest - KEPT_WINDOW)
    first_kept = max(first_kept, len(recent) - MAX_KEPT)
    if first_kept == 0:
        return base, recent
    folding = recent[:first_kept]
    through = folding[-1].at
    # Of each zone, the latest folded moment that may still share a period with a later one.
    by_zone = {moment.zone: moment for moment in (*base.folded, *folding)}
    by_zone_kept = sorted(
        (m for m in by_zone.values() if m.at > through - LONGEST_PERIOD),
        key=lambda m: (m.at, m.zone),
    )[-FOLDED_ZONES_KEPT:]
    folded = replace(_walk(rule, base, folding).base(), folded=tuple(by_zone_kept))
    return folded, recent[first_kept:]


def _period_start(rule: StreakRule, moment: StreakMoment) -> datetime:
    here = zone(moment.zone)
    return period_start(period_index(moment.at, here, rule.period), here, rule.period)


# --- stored state ------------------------------------------------------------------------


def streak_state_to_document(state: StreakState) -> dict[str, Any]:
    """The state as BSON-clean fields; the caller adds the streakId."""
    base = state.base
    return {
        "currentCount": state.current_count,
        "longestCount": state.longest_count,
        "lastUpdate": state.last_update,
        "freezes": state.freezes,
        "period": state.period,
        "recent": [{"at": moment.at, "zone": moment.zone} for moment in state.recent],
        "base": {
            "count": base.count,
            "longest": base.longest,
            "freezes": base.freezes,
            "runStart": base.run_start,
            "lastCounted": base.last_counted,
            "through": base.through,
            "folded": [{"at": moment.at, "zone": moment.zone} for moment in base.folded],
        },
        "paid": [{"runStart": record.start, "through": record.through} for record in state.paid],
    }


def streak_state_from_document(doc: Mapping[str, Any]) -> StreakState:
    current, longest, freezes = doc["currentCount"], doc["longestCount"], doc.get("freezes", 0)
    last_update = doc.get("lastUpdate")
    base = doc.get("base")
    if base is None:
        # Stored before moments were kept: all of it is the base, the last counted moment its
        # end. The next event is judged against that moment as it always was.
        return StreakState(
            current_count=current,
            longest_count=longest,
            last_update=last_update,
            freezes=freezes,
            period=doc.get("period"),
            base=StreakBase(
                count=current,
                longest=longest,
                freezes=freezes,
                run_start=last_update,
                last_counted=last_update,
                through=last_update,
            ),
        )
    return StreakState(
        current_count=current,
        longest_count=longest,
        last_update=last_update,
        freezes=freezes,
        period=doc.get("period"),
        recent=_moments(doc.get("recent", [])),
        base=StreakBase(
            count=base["count"],
            longest=base["longest"],
            freezes=base["freezes"],
            run_start=base.get("runStart"),
            last_counted=base.get("lastCounted"),
            through=base.get("through"),
            folded=_moments(base.get("folded", [])),
        ),
        paid=tuple(PaidRun(p["runStart"], p["through"]) for p in doc.get("paid", [])),
    )


def _moments(docs: Iterable[Mapping[str, Any]]) -> tuple[StreakMoment, ...]:
    return tuple(StreakMoment(doc["at"], doc["zone"]) for doc in docs)
