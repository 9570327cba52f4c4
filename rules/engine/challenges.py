"""Challenges (docs/api.md#rules-admin-api): progress towards a goal, paid once reached.

A challenge counts the events it lists that meet its conditions and fall inside its window
[start, end): a count goal adds 1 per event, a sum goal the event's `field` in exact decimals.
The event that reaches the target completes it, once; a repeatable one restarts from 0, and
`reset` restarts it each period in the user's timezone (rules.engine.periods).
Why: docs/decisions/0006-challenge-completion-and-resets.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from rules.engine.challenge_validation import challenge_errors, window_bound
from rules.engine.conditions import (
    INT64_MAX,
    INT64_MIN,
    Predicate,
    always,
    compile_condition,
    is_number,
)
from rules.engine.definitions import exact
from rules.engine.frozen import fast_init
from rules.engine.periods import Span, period_index, zone
from rules.errors import InvalidDefinition

ZERO, ONE = Decimal(0), Decimal(1)
UTC_ZONE = zone("UTC")  # where a user of no known timezone is


@dataclass(frozen=True)
class Goal:
    type: str  # count | sum
    target: Decimal
    field: str | None = None  # the metadata field a sum goal adds up

    def contribution(self, metadata: Mapping[str, Any]) -> Decimal:
        if self.type == "count":
            return ONE
        value = metadata.get(self.field or "")
        if not is_number(value) or value <= 0:
            return ZERO
        return exact(value)

    @cached_property
    def target_number(self) -> int | float:
        """The target as reports show it (plain_number), worked out once per definition."""
        return plain_number(self.target)


@dataclass(frozen=True)
class ChallengeReward:
    points: int = 0
    badge: str | None = None


# What the evaluation loop (rules.engine.challenge_progress) reads of a ChallengeRule, in this
# order: the events it counts (none when inactive), its window (None when unbounded), its
# condition, its goal, the key of what an event adds to the goal (the field of a sum goal,
# COUNTED for a count goal: the loop works each out once per event), its reset, its
# challengeId, its goal's target and the target as reports show it. A plain tuple: a
# NamedTuple unpacks at three times the cost.
ChallengePlan = tuple[
    frozenset[str], Span | None, Predicate, Goal, object, str, str, Decimal, int | float
]
COUNTED = object()  # what a count goal adds to: 1 whatever the metadata (Goal.contribution)


@dataclass(frozen=True)
class ChallengeRule:
    challenge_id: str
    events: frozenset[str]
    goal: Goal
    name: str = ""
    condition: Predicate = always
    window: Span = Span(None, None)
    reset: str = "none"  # none | day | week | month
    reward: ChallengeReward = ChallengeReward()
    repeatable: bool = False
    active: bool = True

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ChallengeRule:
        """Compile a stored challenge; raise InvalidDefinition with every bad field's path."""
        errors = challenge_errors(doc)
        if errors:
            raise InvalidDefinition("invalid challenge", errors)
        goal = doc["goal"]
        window = doc.get("window") or {}
        reward = doc.get("reward") or {}
        conditions = doc.get("conditions")
        return cls(
            challenge_id=doc["challengeId"],
            events=frozenset(doc["events"]),
            goal=Goal(type=goal["type"], target=exact(goal["target"]), field=goal.get("field")),
            name=doc.get("name", ""),
            condition=always if conditions is None else compile_condition(conditions),
            window=Span(window_bound(window.get("start")), window_bound(window.get("end"))),
            reset=doc.get("reset", "none"),
            reward=ChallengeReward(points=reward.get("points", 0), badge=reward.get("badge")),
            repeatable=doc.get("repeatable", False),
            active=doc.get("active", True),
        )

    @cached_property
    def plan(self) -> ChallengePlan:
        """What the evaluation loop reads of the rule, in one tuple: unpacked in one step,
        cheaper than a dozen attribute reads per challenge and event. Not a field: equality,
        asdict() and replace() never see it."""
        window, goal = self.window, self.goal
        return (
            self.events if self.active else frozenset(),
            None if window.start is None and window.end is None else window,
            self.condition,
            goal,
            COUNTED if goal.type == "count" else goal.field,
            self.reset,
            self.challenge_id,
            goal.target,
            goal.target_number,
        )

    def selects(self, event_id: str, metadata: Mapping[str, Any], timestamp: datetime) -> bool:
        """Whether the event counts for this challenge at all (and so gets a report)."""
        return (
            self.active
            and event_id in self.events
            and timestamp in self.window
            and self.condition(metadata)
        )


@fast_init
@dataclass(frozen=True)
class ChallengeState:
    progress: Decimal = Decimal(0)  # towards the target, in the current period
    completed: bool = False  # non-repeatable: done (until the next period, with a reset)
    completions: int = 0  # in all, over every period
    last_update: datetime | None = None  # the latest event counted: `progress` is of its period


NEW_STATE = ChallengeState()  # a user's, before the challenge counted an event of theirs


@fast_init
@dataclass(frozen=True)
class ChallengeReport:
    """One entry of the response's `challenges` (docs/api.md#post-event); numbers are
    BSON/JSON-clean."""

    challenge_id: str
    progress: int | float
    target: int | float
    completed: bool  # this event completed it
    points_awarded: int
    badge: str | None


@fast_init
@dataclass(frozen=True)
class ChallengeStep:
    """What one event did to one challenge: `report` is None when the event does not count
    for it, and `state` is then the one passed in (None for a user who had none)."""

    state: ChallengeState | None
    report: ChallengeReport | None = None


def advance_challenge(
    rule: ChallengeRule,
    state: ChallengeState | None,
    event_id: str,
    metadata: Mapping[str, Any],
    timestamp: datetime,
    user_zone: ZoneInfo | None = None,
) -> ChallengeStep:
    """Count the event at the aware `timestamp` for a user in `user_zone` (None: UTC)."""
    if not rule.selects(event_id, metadata, timestamp):
        return ChallengeStep(state=state)
    amount = rule.goal.contribution(metadata)
    advanced, report = progress_of(rule, state, amount, timestamp, user_zone)
    return ChallengeStep(state=advanced, report=report)


def progress_of(
    rule: ChallengeRule,
    state: ChallengeState | None,
    amount: Decimal,
    timestamp: datetime,
    user_zone: ZoneInfo | None = None,
    event_period: int | None = None,
) -> tuple[ChallengeState, ChallengeReport]:
    """advance_challenge for an event the challenge selects, which adds `amount` to its goal
    (Goal.contribution): the next state and the report. `event_period`: the index of the
    event's period of the rule's reset in `user_zone`, when the caller knows it."""
    current = NEW_STATE if state is None else state
    progress, completed, last_update = current.progress, current.completed, current.last_update
    reset = rule.reset
    if reset != "none" and last_update is not None:
        where = user_zone or UTC_ZONE
        if event_period is None:
            event_period = period_index(timestamp, where, reset)
        last_period = period_index(last_update, where, reset)
        if event_period < last_period:
            return current, _report(rule, progress, False)
        if event_period > last_period:
            progress, completed = ZERO, False
    if completed:
        if not rule.repeatable:
            return current, _report(rule, progress, False)
        # Made repeatable since this user completed it: they start again from 0.
        progress = ZERO

    # max(), with the same choice between equal instants: the earlier argument.
    if last_update is None or timestamp > last_update:
        last_update = timestamp
    progress += amount
    if amount <= ZERO or progress < rule.goal.target:
        advanced = ChallengeState(progress, False, current.completions, last_update)
        # _report(rule, progress, False), built here: this is the common case.
        report = ChallengeReport(
            rule.challenge_id, plain_number(progress), rule.goal.target_number, False, 0, None
        )
        return advanced, report

    finished = ChallengeState(
        ZERO if rule.repeatable else progress,
        not rule.repeatable,
        current.completions + 1,
        last_update,
    )
    return finished, _report(rule, progress, True)


def _report(rule: ChallengeRule, progress: Decimal, completed: bool) -> ChallengeReport:
    reward = rule.reward
    return ChallengeReport(
        rule.challenge_id,
        plain_number(progress),
        rule.goal.target_number,
        completed,
        reward.points if completed else 0,
        reward.badge if completed else None,
    )


# The bounds as decimals: a decimal compares with another faster than with an int.
_DECIMAL_INT64_MIN, _DECIMAL_INT64_MAX = Decimal(INT64_MIN), Decimal(INT64_MAX)
# Amounts whose most significant digit is within this many places of the point are read as a
# ratio of ints: past it, the ratio (10 to the exponent) grows too large to be cheap.
_RATIO_PLACES = 30


def plain_number(amount: Decimal) -> int | float:
    """Whole amounts as int (5, not 5.0), others as the float JSON would carry anyway."""
    if amount.is_finite():
        # A finite amount that is not whole reads as a float that is not whole either (or as
        # an infinity, past the float range), and float() rounds correctly: the answer, in
        # less time than the ratio below (a sum goal's progress, at every event).
        number = float(amount)
        if not number.is_integer():
            return number
    # As the exact ratio of two ints, cheaper than to_integral_value() and float(): the ratio
    # is whole exactly when the amount is, and int / int rounds correctly, as float() does.
    if amount.is_finite() and -_RATIO_PLACES < amount.adjusted() < _RATIO_PLACES:
        numerator, denominator = amount.as_integer_ratio()
        if denominator != 1:
            return numerator / denominator
        if INT64_MIN <= numerator <= INT64_MAX:
            return numerator
    if amount == amount.to_integral_value() and _DECIMAL_INT64_MIN <= amount <= _DECIMAL_INT64_MAX:
        return int(amount)
    return float(amount)


# --- stored state ------------------------------------------------------------------------


def challenge_state_to_document(state: ChallengeState) -> dict[str, Any]:
    """The state as BSON-clean fields; the caller adds the challengeId."""
    progress = state.progress
    whole = progress == progress.to_integral_value() and INT64_MIN <= progress <= INT64_MAX
    return {
        "progress": int(progress) if whole else str(progress),
        "completed": state.completed,
        "completions": state.completions,
        "lastUpdate": state.last_update,
    }


def challenge_state_from_document(doc: Mapping[str, Any]) -> ChallengeState:
    progress = doc.get("progress", 0)
    return ChallengeState(
        # A float can only come from a hand-edited document: read it as the decimal it shows.
        progress=exact(progress) if isinstance(progress, float) else Decimal(progress),
        completed=doc.get("completed", False),
        completions=doc.get("completions", 0),
        last_update=doc.get("lastUpdate"),
    )
