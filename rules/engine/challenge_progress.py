"""A user's challenges advanced by one event: the loop of rules.engine.evaluation over the
project's challenges.

Most events add to a challenge's progress and neither complete it, nor find it completed, nor
come from an earlier period than its latest: that step is taken here inline, with what the loop
reads of each rule in one tuple (ChallengeRule.plan). Every other step is
rules.engine.challenges.progress_of's, which decides each of them exactly as it decides this
one (tests/unit/rules/test_challenge_progress.py compares the two on random states).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from rules.engine.challenges import (
    COUNTED,
    NEW_STATE,
    ONE,
    UTC_ZONE,
    ZERO,
    ChallengeReport,
    ChallengeRule,
    ChallengeState,
    plain_number,
    progress_of,
)
from rules.engine.conditions import INT64_MAX, Predicate
from rules.engine.periods import period_index, zone

# Where a challenge state made here remembers its progress as reports show it (plain_number),
# as functools.cached_property remembers a value (not a field: equality, asdict() and replace()
# never see it). The next event of a count goal adds 1 to it instead of reading the decimal,
# when it is an int: a whole progress of int64 is that int exactly, and 1 more is whole and
# exact (at most 19 digits, within the 28 of the default decimal context) while in int64.
SHOWN_PROGRESS = "_shown_progress"


def advance_challenges(
    event: tuple[str, Mapping[str, Any], datetime],
    challenges: Sequence[ChallengeRule],
    before: Mapping[str, ChallengeState],
    timezone: str | None,
    verdicts: dict[Predicate, bool],
    rewarded: list[ChallengeReport],
) -> tuple[dict[str, ChallengeState], tuple[ChallengeReport, ...]]:
    """The challenges counting the `event` (eventId, metadata, aware timestamp) advanced from
    `before` for a user in `timezone`, their reports; those of progress_of also in `rewarded`."""
    event_id, metadata, timestamp = event
    states = dict(before)
    reports: list[ChallengeReport] = []
    user_zone = zone(timezone) if timezone else None
    where = user_zone or UTC_ZONE
    periods: dict[str, int | None] = {"none": None}  # the event's period, by kind of reset
    amounts: dict[object, Decimal] = {COUNTED: ONE}  # what the event adds to a goal (plan)
    for challenge in challenges:
        events, window, condition, goal, key, reset, challenge_id, target, shown = challenge.plan
        if event_id not in events or (window is not None and timestamp not in window):
            continue
        met = verdicts.get(condition)
        if met is None:
            met = verdicts[condition] = condition(metadata)
        if not met:
            continue
        amount = amounts.get(key)
        if amount is None:
            amount = amounts[key] = goal.contribution(metadata)
        event_period = periods.get(reset)
        if event_period is None and reset != "none":
            event_period = periods[reset] = period_index(timestamp, where, reset)
        current = states.get(challenge_id, NEW_STATE)  # NEW_STATE: progress_of's None
        progress, last_update = current.progress, current.last_update
        fast, shown_before = not current.completed, current.__dict__.get(SHOWN_PROGRESS)
        if event_period is not None and last_update is not None:
            last_period = period_index(last_update, where, reset)
            if event_period != last_period:  # an earlier period is progress_of's to report
                fast, progress, shown_before = event_period > last_period, ZERO, 0
        if fast:
            if last_update is None or timestamp > last_update:
                last_update = timestamp
            progress += amount
            if amount <= ZERO or progress < target:
                states[challenge_id] = new = ChallengeState(
                    progress, False, current.completions, last_update
                )
                if amount is ONE and shown_before.__class__ is int and shown_before < INT64_MAX:
                    shown_progress: int | float = shown_before + 1  # see SHOWN_PROGRESS
                else:
                    shown_progress = plain_number(progress)
                new.__dict__[SHOWN_PROGRESS] = shown_progress
                reports.append(ChallengeReport(challenge_id, shown_progress, shown, False, 0, None))
                continue
        states[challenge_id], report = progress_of(
            challenge, current, amount, timestamp, user_zone, event_period
        )
        reports.append(report)
        rewarded.append(report)
    return states, tuple(reports)
