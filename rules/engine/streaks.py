"""Streaks (docs/api.md#rules-admin-api): one count per period, whatever order the events arrive in.

A streak counts at most once per period; a gap resets it to 1 unless freezes cover every
missed period; freezes are earned every `earnEvery` counts up to `max`; a milestone pays when
a run reaches its count. The counts are not stored: they are recomputed by walking the kept
moments (instant and zone) in time order, the oldest folded into the state's `base`.
Invariant: `recent` is ascending by (at, zone) in every state this module or
rules.engine.streak_tools makes; the in-order fast path relies on it.
Why: docs/decisions/0004-streaks-are-a-walk-over-kept-moments.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rules.engine.definitions import Milestone, StreakRule
from rules.engine.periods import START_SLACK, period_index, period_start, zone
from rules.engine.state import PaidRun, StreakBase, StreakMoment, StreakState
from rules.engine.streak_ahead import ahead, extended
from rules.engine.streak_documents import streak_state_from_document as streak_state_from_document
from rules.engine.streak_documents import streak_state_to_document as streak_state_to_document
from rules.engine.streak_step import LATEST_PERIOD as LATEST_PERIOD
from rules.engine.streak_step import StreakStep as StreakStep
from rules.engine.streak_walk import (
    Walk,
    first_kept_index,
    fold,
    folded_zones,
    milestones_reached,
    settle,
    walk_over,
)


def advance_at(
    rule: StreakRule,
    state: StreakState | None,
    moment: datetime,
    zone: ZoneInfo,
    *,
    checked: bool = False,
    index: int | None = None,
) -> StreakStep:
    """Count an event at `moment` for a user whose timezone is now `zone`.

    The event is judged against the latest counted moment before it, re-read in `zone`: a
    timezone change (travel) neither starts a new period early (east: it is already tomorrow
    here, but the last count was made today, seen from here) nor breaks the streak (the day
    after the last counted one, seen from here, is the next period). Later moments are judged
    again in their own zones (docs/decisions/0004-streaks-are-a-walk-over-kept-moments.md).
    With `checked`, the caller has found unchanged_by false for this state and event; `index`:
    the period of `moment` in `zone`, of the rule's kind, when the caller knows it (as
    periods.period_index gives it for periods.zone(zone.key)).
    """
    if zone.key is None or moment.tzinfo is None:
        raise ValueError("a streak needs an aware moment and a named timezone")
    if state is None or state.period != rule.period:
        state = for_rule(rule, state)
    # In UTC: aware datetimes sharing a tzinfo compare by wall time, fold (DST) ignored.
    at, name = moment.astimezone(UTC), zone.key
    recent = state.recent
    if not checked and unchanged_by(rule, state, at, name, index):
        return StreakStep(state=state, counted=False)
    in_order = not recent or (recent[-1].at, recent[-1].zone) < (at, name)
    if in_order and recent:
        step = ahead(rule, state, at, name, index)  # the common case, in one pass
        if step is not None:
            return step
    new = StreakMoment(at, name)
    if in_order:
        return _in_order(rule, state, new, index)
    placed = _with_moment(rule, state, new)
    if placed is None:
        return StreakStep(state=state, counted=False)
    return _placed(rule, state, *placed, new)


def unchanged_by(
    rule: StreakRule, state: StreakState, at: datetime, zone_name: str, index: int | None = None
) -> bool:
    """True when an event at `at` (in UTC) by a user now in `zone_name` certainly leaves
    `state` as it is: it comes after every moment the streak keeps, in the period of the
    latest one of its zone, which keeps the period's place (_with_moment would say so too).
    A quick test for the common case; False decides nothing. `index`: the event's period in
    `zone_name`, when the caller knows it."""
    recent = state.recent
    if state.period != rule.period or not recent or at <= recent[-1].at:
        return False
    for kept in reversed(recent):
        if kept.zone == zone_name:
            here, period = zone(zone_name), rule.period
            if index is None:
                index = period_index(at, here, period)
            return period_index(kept.at, here, period) == index
    return False


def latest_period(state: StreakState, period: str) -> int:
    """The period of the latest moment `state` keeps, in its own zone; `period`: the state's
    kind of period. It depends on nothing else, so it is remembered in the state's `__dict__`,
    as functools.cached_property remembers a value (not a field: equality, asdict() and
    replace() never see it). For a state that keeps a moment."""
    remembered: int | None = state.__dict__.get(LATEST_PERIOD)
    if remembered is None:
        latest = state.recent[-1]
        remembered = state.__dict__[LATEST_PERIOD] = period_index(
            latest.at, zone(latest.zone), period
        )
    return remembered


def _in_order(
    rule: StreakRule, state: StreakState, new: StreakMoment, index: int | None
) -> StreakStep:
    """advance_at when `new` comes after every moment the state keeps (`recent` is ascending):
    appended, unless what the state folded or keeps has its period already. `index`: its period,
    when the caller knows it."""
    name, period = new.zone, rule.period
    here = zone(name)
    if index is None:
        index = period_index(new.at, here, period)
    if _never_counts(rule, state, new, index):
        return StreakStep(state, False)
    recent = state.recent
    start = period_start(index, here, period)
    # One of `recent` of the zone of `new` and in its period there: `new` never counts. It is
    # after all of `recent` (ascending): those of its period are after `earliest`.
    earliest = start - START_SLACK
    for moment in reversed(recent):
        if moment.at < earliest:
            break
        if moment.zone == name and period_index(moment.at, here, period) == index:
            return StreakStep(state, False)
    return _appended(rule, state, (*recent, new), index, start)


def _appended(
    rule: StreakRule,
    state: StreakState,
    recent: tuple[StreakMoment, ...],
    index: int | None = None,
    start: datetime | None = None,
) -> StreakStep:
    """advance_at when the new moment is the latest of all (events arriving in order): one
    walk serves as the walk before it (the same moments, the same runs), the walk after it and
    the fold, instead of three. Decides exactly as _placed. `index` and `start`: the period of
    the new moment in its zone and its start, when the caller knows them."""
    first_kept = first_kept_index(rule, recent, start)
    newest = len(recent) - 1
    if first_kept > newest:  # all to fold, the new moment too: never seen, but be exact
        return _placed(rule, state, recent, None, recent[-1])
    if not state.paid and state.walked_with == rule.freezes.walk_key:
        return extended(rule, state, recent, first_kept, index)
    walk = Walk(rule, state.base, track=False)
    base = state.base
    if first_kept:
        walk.take_all(recent[:first_kept])
        base = walk.base(folded_zones(state.base, recent[:first_kept]))
    walk.take_all(recent[first_kept:newest])
    # The walk before the new moment ends here; the new one can only lengthen its last run.
    runs_before = len(walk.runs)
    last_length = walk.runs[-1].length if walk.runs else 0
    counted, spent = walk.counted, walk.spent
    walk.take_all(recent[newest:])

    # Both walk the same runs in the same order: each run inherits what it settled.
    inherited = [run.length for run in walk.runs[:runs_before]]
    if inherited:
        inherited[-1] = last_length
    if state.paid:
        recorded = {record.start: record.through for record in state.paid}
        for number, run in enumerate(walk.runs[:runs_before]):
            inherited[number] = max(inherited[number], recorded.get(run.start, 0))
    inherited += [0] * (len(walk.runs) - runs_before)
    milestones, paid = milestones_reached(rule, walk, inherited)
    return _step(rule, walk, base, recent[first_kept:], paid, milestones, counted, spent)


def _placed(
    rule: StreakRule,
    state: StreakState,
    recent: tuple[StreakMoment, ...],
    replaced: StreakMoment | None,
    new: StreakMoment,
) -> StreakStep:
    """advance_at for any placement of the new moment (a late event, one taking an earlier
    moment's place): the walks before and after it compared run by run."""
    before = walk_over(rule, state.base, state.recent)
    after = walk_over(rule, state.base, recent)
    moved = {} if replaced is None else {replaced: new}
    milestones, paid = settle(rule, before, after, moved, state.paid)
    base, kept = fold(rule, state.base, recent)
    return _step(rule, after, base, kept, paid, milestones, before.counted, before.spent)


def _step(
    rule: StreakRule,
    after: Walk,
    base: StreakBase,
    kept: tuple[StreakMoment, ...],
    paid: list[PaidRun],
    milestones: tuple[Milestone, ...],
    counted_before: int,
    spent_before: int,
) -> StreakStep:
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
        walked_with=rule.freezes.walk_key,
    )
    return StreakStep(
        state=advanced,
        counted=after.counted > counted_before,
        milestones=milestones,
        freezes_used=max(0, after.spent - spent_before),
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
    if _never_counts(rule, state, new):
        return None
    kept, replaced = [], None
    for moment in state.recent:
        if _same_period(rule, moment, new):
            if moment.at <= new.at:
                return None  # an earlier one of this zone and period is kept: this never counts
            replaced = moment  # `new` is the earlier one: it takes the period's place
            continue
        kept.append(moment)
    kept.append(new)
    return tuple(sorted(kept, key=lambda moment: (moment.at, moment.zone))), replaced


def _never_counts(
    rule: StreakRule, state: StreakState, new: StreakMoment, index: int | None = None
) -> bool:
    """Whether what the state folded already rules `new` out. `index`: the period of `new` in
    its zone, when the caller knows it."""
    base = state.base
    through = base.through
    if through is not None and new.at <= through:
        return True  # older than what was folded: it cannot be placed
    # An earlier one of this zone and period was folded: this never counts (_same_period,
    # with the period of `new` worked out once).
    name, period = new.zone, rule.period
    for moment in base.folded:
        if moment.zone == name:
            here = zone(name)
            if index is None:
                index = period_index(new.at, here, period)
            if period_index(moment.at, here, period) == index:
                return True
    return False


def _same_period(rule: StreakRule, moment: StreakMoment, new: StreakMoment) -> bool:
    """Whether `moment` is of the zone of `new` and in its period there."""
    if moment.zone != new.zone:
        return False
    here = zone(new.zone)
    return period_index(moment.at, here, rule.period) == period_index(new.at, here, rule.period)
