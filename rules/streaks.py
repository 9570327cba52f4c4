"""Streak arithmetic on period indexes (see rules.periods).

A streak counts at most once per period. The next period adds one; the same period changes
nothing; a gap resets the count to 1 unless the user holds enough freezes to cover every missed
period, in which case they are spent and the count goes on. Freezes are earned every
`earnEvery` counted periods, up to `max`.

An event older than the streak's last counted period leaves the streak as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from rules.definitions import Milestone, StreakRule
from rules.periods import period_index
from rules.state import StreakState


@dataclass(frozen=True)
class StreakStep:
    """What one event did to one streak."""

    state: StreakState
    counted: bool
    milestone: Milestone | None = None
    freezes_used: int = 0


def advance_at(
    rule: StreakRule, state: StreakState | None, moment: datetime, zone: ZoneInfo
) -> StreakStep:
    """Count an event at `moment` for a user whose timezone is now `zone`.

    The last counted moment is re-read in `zone` first, so a timezone change (travel) neither
    starts a new period early (east: it is already tomorrow here, but the last count was made
    today, seen from here) nor breaks the streak (the day after the last counted one, seen
    from here, is the next period).
    """
    if state is not None and state.period == rule.period and state.last_update is not None:
        state = replace(state, last_period=period_index(state.last_update, zone, rule.period))
    return advance(rule, state, period_index(moment, zone, rule.period), moment)


def start(rule: StreakRule) -> StreakState:
    return StreakState(period=rule.period, freezes=rule.freezes.initial)


def advance(
    rule: StreakRule, state: StreakState | None, period: int, moment: datetime
) -> StreakStep:
    """Count `moment`, which falls in the period with index `period`."""
    if state is None:
        state = start(rule)
    elif state.period != rule.period:
        # The definition switched between day/week/month: old indexes mean nothing now.
        state = replace(start(rule), longest_count=state.longest_count, freezes=state.freezes)

    last = state.last_period
    if last is not None and period <= last:
        return StreakStep(state=state, counted=False)

    missed = 0 if last is None else period - last - 1
    freezes, freezes_used, count = state.freezes, 0, state.current_count + 1
    if missed and missed <= freezes:
        freezes, freezes_used = freezes - missed, missed
    elif missed:
        count = 1
    earn_every = rule.freezes.earn_every
    if earn_every and count % earn_every == 0 and freezes < rule.freezes.max:
        freezes += 1

    advanced = StreakState(
        current_count=count,
        longest_count=max(state.longest_count, count),
        last_period=period,
        period=rule.period,
        last_update=moment,
        freezes=freezes,
    )
    return StreakStep(
        state=advanced, counted=True, milestone=rule.milestone_at(count), freezes_used=freezes_used
    )
