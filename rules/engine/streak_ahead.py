"""The common step of a streak, taken in one pass: an event after every moment the streak keeps,
in the zone of the latest one, of those it folded and of those near the event, on a state
whose counts are where its walk ends.

That is nearly every event that changes a streak (a user's events arrive in order, from one
zone), and the plain path (streaks._in_order, then _appended) works it out in
layers that each find again what the one before knew: the event's period and its start, the
kept moments of its period, the period starts that set the kept window. Here each is found
once, from the moments of the window. Anything else (another zone in the window, a paid run,
a state walked under other freezes, a moment folded in the event's period) is left to the
plain path, which decides every case; test_streak_ahead compares the two on random histories.
Both end in `extended`, the step from the state's counts, held here for both.
Why: docs/decisions/0004-streaks-are-a-walk-over-kept-moments.md.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rules.engine.definitions import Milestone, StreakRule
from rules.engine.periods import START_SLACK, period_index, period_start, zone
from rules.engine.state import StreakBase, StreakMoment, StreakState
from rules.engine.streak_step import LATEST_PERIOD, StreakStep
from rules.engine.streak_walk import KEPT_WINDOW, MAX_KEPT, folded_base


def ahead(
    rule: StreakRule, state: StreakState, at: datetime, name: str, index: int | None
) -> StreakStep | None:
    """streaks._in_order for an event at `at` (in UTC) in zone `name`, after every moment of
    `state` (of the rule's period, with a moment kept), when the fast path applies; None when
    it does not. `index`: the event's period in `name`, when the caller knows it."""
    base, recent = state.base, state.recent
    if state.paid or state.walked_with != rule.freezes.walk_key:
        return None  # _appended walks these again
    through, period, here = base.through, rule.period, zone(name)
    if through is not None and at <= through:
        return None
    if index is None:
        index = period_index(at, here, period)
    for moment in base.folded:  # (_never_counts)
        if moment.zone != name or period_index(moment.at, here, period) == index:
            return None
    newest = recent[-1]
    if newest.zone != name:
        return None
    newest_index = state.__dict__.get(LATEST_PERIOD)  # (latest_period)
    if newest_index is None:
        newest_index = period_index(newest.at, here, period)
    # Walking back over the moments whose period may start after `earliest`: one of the
    # event's period means it never counts (_in_order); the latest of their period starts sets
    # the kept window (first_kept_index). A moment's period starts before START_SLACK after
    # it, and `recent` is ascending.
    start = period_start(index, here, period)
    earliest = reach = start - START_SLACK  # reach: START_SLACK before the latest start found
    latest = start
    for moment in reversed(recent):
        kept_at = moment.at
        if kept_at < earliest:
            break
        if moment.zone != name:
            return None
        kept_index = newest_index if moment is newest else period_index(kept_at, here, period)
        if kept_index == index:
            return StreakStep(state, False)
        if kept_at > reach:
            kept_start = period_start(kept_index, here, period)
            if kept_start > latest:
                latest, reach = kept_start, kept_start - START_SLACK
    bound, first_kept, size = latest - KEPT_WINDOW, 0, len(recent)
    while first_kept < size and recent[first_kept].at < bound:
        first_kept += 1
    if first_kept == size and at < bound:
        return None  # the new moment folded too (never seen)
    if first_kept < size + 1 - MAX_KEPT:
        first_kept = size + 1 - MAX_KEPT
    recent = (*recent, StreakMoment(at, name))
    return extended(rule, state, recent, first_kept, index, (here, newest_index))


def extended(
    rule: StreakRule,
    state: StreakState,
    recent: tuple[StreakMoment, ...],
    first_kept: int,
    index: int | None = None,
    one_zone: tuple[ZoneInfo, int] | None = None,
) -> StreakStep:
    """The step of streaks._appended for a state whose counts are where its walk ends under
    the rule's freezes (`walked_with`), with no run paid beyond its length: the walk goes on
    from those counts and takes the new moment (the last of `recent`) alone; only the moments
    before `first_kept` are walked, from the base, to fold them. `index`: the period of the new
    moment in its zone, when the caller knows it. `one_zone`: the zone of the new moment and
    the period there of the state's latest moment, when that moment and every one the base
    folded are of that zone (ahead's case)."""
    new = recent[-1]
    period = rule.period
    here = zone(new.zone) if one_zone is None else one_zone[0]
    if index is None:
        index = period_index(new.at, here, period)
    count, longest, freezes, last = (
        state.current_count,
        state.longest_count,
        state.freezes,
        state.last_update,
    )
    settled, spent, counted = count, 0, True  # settled: milestones the run it joins has paid
    if last is None:
        count, settled = 1, 0
    else:
        if one_zone is not None and last == recent[-2].at:
            counted_index = one_zone[1]
        else:
            counted_index = period_index(last, here, period)
        missed = index - counted_index - 1
        if missed < 0:
            counted = False  # the latest counted period, seen from here
        elif missed > freezes:
            count, settled = 1, 0
        else:
            freezes, spent, count = freezes - missed, missed, count + 1
    milestones: tuple[Milestone, ...] = ()
    if counted:
        policy = rule.freezes
        if policy.earn_every and count % policy.earn_every == 0 and freezes < policy.max:
            freezes += 1
        longest, last = (count if count > longest else longest), new.at
        for milestone in rule.milestones:
            if settled < milestone.count <= count:  # rarely: a tuple only then
                milestones = tuple(m for m in rule.milestones if settled < m.count <= count)
                break
    base = state.base
    if first_kept == 1 and one_zone is not None and recent[0].zone == new.zone:
        base = _folded_one(rule, base, recent[0], here)
    elif first_kept:
        base = folded_base(rule, base, recent[:first_kept])
    kept = recent[first_kept:]
    advanced = StreakState(count, longest, last, freezes, period, kept, base, (), state.walked_with)
    advanced.__dict__[LATEST_PERIOD] = index  # of the new moment, the latest kept (latest_period)
    return StreakStep(advanced, counted, milestones, spent)


def _folded_one(
    rule: StreakRule, base: StreakBase, moment: StreakMoment, here: ZoneInfo
) -> StreakBase:
    """folded_base(rule, base, (moment,)) for a base whose folded moments are all of the zone of
    `moment` (`here`; folded_zones keeps `moment` alone then): the fold of one moment, as a day
    streak makes at nearly every event that starts a day. It judges the moment as folded_base
    does: change both alike."""
    at, period = moment.at, rule.period
    count, freezes, last = base.count, base.freezes, base.last_counted
    if last is None:
        count, run_start = 1, at
    else:
        run_start = base.run_start or last
        missed = period_index(at, here, period) - period_index(last, here, period) - 1
        if missed < 0:
            return StreakBase(count, base.longest, freezes, run_start, last, at, (moment,))
        if missed > freezes:
            count, run_start = 1, at
        else:
            freezes, count = freezes - missed, count + 1
    policy = rule.freezes
    if policy.earn_every and count % policy.earn_every == 0 and freezes < policy.max:
        freezes += 1
    longest = count if count > base.longest else base.longest
    return StreakBase(count, longest, freezes, run_start, at, at, (moment,))
