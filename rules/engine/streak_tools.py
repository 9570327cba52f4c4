"""Support tools on one user's streak (docs/api.md#users-support-and-leaderboards): restore a count,
grant freezes. Pure.

Both first *settle* the streak — fold every kept moment into its `base` — since a count set
alone would be undone by the walk at the user's next event (rules.engine.streaks); events
dated at or before the settled point no longer change the streak.
Why: docs/decisions/0005-streak-tools-settle-the-streak.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rules.engine.definitions import StreakRule
from rules.engine.periods import period_index, period_start
from rules.engine.state import PaidRun, StreakState
from rules.engine.streaks import for_rule

MAX_RESTORE = 100_000
MAX_GRANT = 365
ONE_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Counts:
    """What support sees of a streak, before and after a tool."""

    current_count: int
    longest_count: int
    freezes: int
    last_update: datetime | None

    @classmethod
    def of(cls, state: StreakState | None) -> Counts:
        if state is None:
            return cls(0, 0, 0, None)
        return cls(state.current_count, state.longest_count, state.freezes, state.last_update)


def restore(
    rule: StreakRule, state: StreakState | None, count: int, now: datetime, zone: ZoneInfo
) -> StreakState:
    """The streak set to `count`, alive at `now` in `zone`."""
    if not 1 <= count <= MAX_RESTORE:
        raise ValueError(f"count must be 1-{MAX_RESTORE}")
    current = for_rule(rule, state)
    latest = current.last_update
    this_period = period_index(now, zone, rule.period)
    if latest is None or period_index(latest, zone, rule.period) < this_period - 1:
        latest = period_start(this_period, zone, rule.period) - ONE_MS
    settled = max(count, current.current_count, *(run.through for run in current.paid))
    return _settled(
        current,
        count=count,
        longest=max(current.longest_count, count),
        freezes=current.freezes,
        last_counted=latest,
        settled=settled,
    )


def grant_freezes(rule: StreakRule, state: StreakState | None, count: int) -> StreakState:
    """The streak with `count` more freezes, its counts unchanged."""
    if not 1 <= count <= MAX_GRANT:
        raise ValueError(f"count must be 1-{MAX_GRANT}")
    current = for_rule(rule, state)
    return _settled(
        current,
        count=current.current_count,
        longest=current.longest_count,
        freezes=current.freezes + count,
        last_counted=current.last_update,
        settled=max(current.current_count, *(run.through for run in current.paid), 0),
    )


def _settled(
    state: StreakState,
    *,
    count: int,
    longest: int,
    freezes: int,
    last_counted: datetime | None,
    settled: int,
) -> StreakState:
    """Everything `state` keeps folded into a base that stands at these counts.

    The run is identified by its last counted moment (as for states stored before moments
    were kept), and a PaidRun records milestones settled beyond its count."""
    seen = [moment.at for moment in state.recent]
    seen += [moment for moment in (state.base.through, last_counted) if moment is not None]
    through = max(seen) if seen else None
    paid = (PaidRun(last_counted, settled),) if last_counted and settled > count else ()
    # replace(), not new values: whatever else a state carries is kept as it is.
    return replace(
        state,
        current_count=count,
        longest_count=longest,
        last_update=last_counted,
        freezes=freezes,
        recent=(),
        base=replace(
            state.base,
            count=count,
            longest=longest,
            freezes=freezes,
            run_start=last_counted,
            last_counted=last_counted,
            through=through,
            folded=(),
        ),
        paid=paid,
    )
