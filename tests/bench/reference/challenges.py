# Frozen copy of rules/engine/challenges.py as of main 9948adc (before the engine's speed work): the
# reference engine of tests/bench/engine.py and tests/unit/rules/test_engine_equivalence.py.
# Do not edit: it is what the new engine is measured against and must agree with.
"""Challenges (docs/api.md#rules-admin-api): progress towards a goal, paid once reached.

A challenge counts the events it lists that meet its conditions and fall inside its window
[start, end). A count goal adds 1 per event; a sum goal adds the event's metadata value of
`field`, in exact decimals (0.1 + 0.2 reaches 0.3), and a missing, non-numeric or non-positive
value adds nothing.

Decisions the design leaves open:

- Completion: the event whose contribution brings progress to the target completes the
  challenge and is paid the reward. One event completes a challenge at most once, however far
  it overshoots. A non-repeatable challenge then stays completed (its progress kept as it was,
  overshoot included) and pays nothing more. A repeatable one starts again from 0: the
  overshoot is not carried over, so every completion takes a full target of fresh events.
  An event that adds nothing completes nothing, even when a lowered target is already met;
  a challenge made repeatable after a user completed it starts again from 0 for them.
- Reset: with `reset` day, week or month, progress and the completed flag restart with each
  period, in the user's timezone when known, else UTC (as caps do; a challenge has no
  timezone of its own). As for streaks and caps (rules.engine.periods), the state remembers the
  instant of the latest event that counted, not a period index, and re-reads it in the user's
  current zone: a timezone change never opens the next period early or splits one in two.
- Out of order: an event from a period before that latest event's does not count; the state
  is left as it is. Within one period, and always without reset, order does not matter.
- Reports: every active challenge the event is listed for, meets the conditions of and falls
  inside the window of gets a report, even when the event changed nothing (a completed
  non-repeatable challenge, a late event), so the response shows where the user stands; others
  get none. A completing event reports the progress it reached (e.g. 5 of 5), also for a
  repeatable challenge whose stored progress is back at 0.
- Storage: progress is exact in memory (Decimal) and stored BSON-clean: an int when whole
  (count goals always are), else its decimal string ("0.3"), which reads back exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rules.errors import InvalidDefinition
from tests.bench.reference.conditions import (
    INT64_MAX,
    INT64_MIN,
    METADATA_KEY,
    Predicate,
    always,
    compile_condition,
    is_number,
)
from tests.bench.reference.definitions import exact
from tests.bench.reference.periods import PERIODS, Span, period_index, zone
from tests.bench.reference.points import MAX_AWARD

GOAL_TYPES = ("count", "sum")
RESETS = ("none", *PERIODS)
IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_NAME = 200
MAX_EVENTS = 50
MAX_TARGET = 10**12
GOAL_KEYS = frozenset({"type", "field", "target"})
WINDOW_KEYS = frozenset({"start", "end"})
REWARD_KEYS = frozenset({"points", "badge"})


@dataclass(frozen=True)
class Goal:
    type: str  # count | sum
    target: Decimal
    field: str | None = None  # the metadata field a sum goal adds up

    def contribution(self, metadata: Mapping[str, Any]) -> Decimal:
        if self.type == "count":
            return Decimal(1)
        value = metadata.get(self.field or "")
        if not is_number(value) or value <= 0:
            return Decimal(0)
        return exact(value)


@dataclass(frozen=True)
class ChallengeReward:
    points: int = 0
    badge: str | None = None


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
            window=Span(_moment(window.get("start")), _moment(window.get("end"))),
            reset=doc.get("reset", "none"),
            reward=ChallengeReward(points=reward.get("points", 0), badge=reward.get("badge")),
            repeatable=doc.get("repeatable", False),
            active=doc.get("active", True),
        )

    def selects(self, event_id: str, metadata: Mapping[str, Any], timestamp: datetime) -> bool:
        """Whether the event counts for this challenge at all (and so gets a report)."""
        return (
            self.active
            and event_id in self.events
            and timestamp in self.window
            and self.condition(metadata)
        )


@dataclass(frozen=True)
class ChallengeState:
    progress: Decimal = Decimal(0)  # towards the target, in the current period
    completed: bool = False  # non-repeatable: done (until the next period, with a reset)
    completions: int = 0  # in all, over every period
    last_update: datetime | None = None  # the latest event counted: `progress` is of its period


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
    current = state or ChallengeState()
    if rule.reset != "none" and current.last_update is not None:
        where = user_zone or zone("UTC")
        event_period = period_index(timestamp, where, rule.reset)
        last_period = period_index(current.last_update, where, rule.reset)
        if event_period < last_period:
            return _unchanged(rule, current)
        if event_period > last_period:
            current = replace(current, progress=Decimal(0), completed=False)
    if current.completed:
        if not rule.repeatable:
            return _unchanged(rule, current)
        # Made repeatable since this user completed it: they start again from 0.
        current = replace(current, progress=Decimal(0), completed=False)

    amount = rule.goal.contribution(metadata)
    last_update = timestamp if current.last_update is None else max(current.last_update, timestamp)
    progress = current.progress + amount
    if amount <= 0 or progress < rule.goal.target:
        advanced = replace(current, progress=progress, last_update=last_update)
        return ChallengeStep(state=advanced, report=_report(rule, progress, completed=False))

    finished = ChallengeState(
        progress=Decimal(0) if rule.repeatable else progress,
        completed=not rule.repeatable,
        completions=current.completions + 1,
        last_update=last_update,
    )
    return ChallengeStep(state=finished, report=_report(rule, progress, completed=True))


def _unchanged(rule: ChallengeRule, state: ChallengeState) -> ChallengeStep:
    return ChallengeStep(state=state, report=_report(rule, state.progress, completed=False))


def _report(rule: ChallengeRule, progress: Decimal, completed: bool) -> ChallengeReport:
    return ChallengeReport(
        challenge_id=rule.challenge_id,
        progress=plain_number(progress),
        target=plain_number(rule.goal.target),
        completed=completed,
        points_awarded=rule.reward.points if completed else 0,
        badge=rule.reward.badge if completed else None,
    )


def plain_number(amount: Decimal) -> int | float:
    """Whole amounts as int (5, not 5.0), others as the float JSON would carry anyway."""
    if amount == amount.to_integral_value() and INT64_MIN <= amount <= INT64_MAX:
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


# --- validation --------------------------------------------------------------------------


def challenge_errors(doc: Any) -> dict[str, list[str]]:
    """Every problem of a challenge document, by field path (`goal.target`,
    `conditions.all[0].op`); empty when it is valid. Unknown top-level keys are ignored: a
    stored document also carries `project`, `createdAt` and `updatedAt`."""
    if not isinstance(doc, Mapping):
        return {"body": ["must be an object"]}
    errors: dict[str, list[str]] = {}

    def fail(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    if not _is_identifier(doc.get("challengeId")):
        fail("challengeId", "must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    name = doc.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME or not name.isprintable():
        fail("name", f"must be at most {MAX_NAME} printable characters")
    _check_events(doc.get("events"), fail)
    if doc.get("conditions") is not None:
        try:
            compile_condition(doc["conditions"])
        except InvalidDefinition as error:
            for path, messages in error.details.items():
                errors[f"conditions.{path}" if path else "conditions"] = list(messages)
    _check_goal(doc.get("goal"), fail)
    _check_window(doc.get("window"), fail)
    if doc.get("reset", "none") not in RESETS:
        fail("reset", f"must be one of: {', '.join(RESETS)}")
    _check_reward(doc.get("reward"), fail)
    for flag in ("repeatable", "active"):
        if flag in doc and not isinstance(doc[flag], bool):
            fail(flag, "must be true or false")
    return errors


Fail = Callable[[str, str], None]


def _is_identifier(value: Any) -> bool:
    return isinstance(value, str) and IDENTIFIER.fullmatch(value) is not None


def _unknown_keys(node: Mapping[str, Any], allowed: frozenset[str], path: str, fail: Fail) -> None:
    for key in sorted(set(node) - allowed, key=str):
        fail(f"{path}.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _check_events(events: Any, fail: Fail) -> None:
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        fail("events", f"must be a list of 1-{MAX_EVENTS} eventIds")
        return
    for index, event_id in enumerate(events):
        if not _is_identifier(event_id):
            fail(f"events[{index}]", "must be an eventId: 1-64 characters of A-Z a-z 0-9 _ . : -")


def _check_goal(goal: Any, fail: Fail) -> None:
    if not isinstance(goal, Mapping):
        fail("goal", 'must be {"type": "count", "target": N} or {"type": "sum", "field", "target"}')
        return
    _unknown_keys(goal, GOAL_KEYS, "goal", fail)
    kind, target = goal.get("type"), goal.get("target")
    if kind not in GOAL_TYPES:
        fail("goal.type", f"must be one of: {', '.join(GOAL_TYPES)}")
        return
    if kind == "count":
        if "field" in goal:
            fail("goal.field", "only a sum goal adds up a field")
        if isinstance(target, bool) or not isinstance(target, int) or target < 1:
            fail("goal.target", "must be a whole number of events, at least 1")
        elif target > MAX_TARGET:
            fail("goal.target", f"must be at most {MAX_TARGET}")
        return
    field = goal.get("field")
    if not isinstance(field, str) or not METADATA_KEY.fullmatch(field):
        fail("goal.field", "must be a metadata field name of 1-64 [A-Za-z0-9_]")
    if not is_number(target) or target <= 0:
        fail("goal.target", "must be a positive number")
    elif target > MAX_TARGET:
        fail("goal.target", f"must be at most {MAX_TARGET}")


def _check_window(window: Any, fail: Fail) -> None:
    if window is None:
        return
    if not isinstance(window, Mapping) or not WINDOW_KEYS & set(window):
        fail("window", "must be an object with start, end or both")
        return
    _unknown_keys(window, WINDOW_KEYS, "window", fail)
    bounds: dict[str, datetime] = {}
    for key in ("start", "end"):
        if window.get(key) is None:
            continue
        moment = _moment(window[key])
        if moment is None:
            fail(f"window.{key}", "must be a date-time with a UTC offset, e.g. 2024-04-07T00:00Z")
        else:
            bounds[key] = moment
    if "start" in bounds and "end" in bounds and bounds["start"] >= bounds["end"]:
        fail("window.end", "must be after window.start")


def _moment(value: Any) -> datetime | None:
    """A window bound: a datetime (naive ones are UTC, as MongoDB hands them back without
    tz_aware) or an ISO-8601 string with an offset, so the admin API may pass its JSON."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
        if value.tzinfo is None:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:30+01:00 is before the first representable instant
        return None


def _check_reward(reward: Any, fail: Fail) -> None:
    if reward is None:
        return
    if not isinstance(reward, Mapping):
        fail("reward", 'must be an object {"points", "badge"}')
        return
    _unknown_keys(reward, REWARD_KEYS, "reward", fail)
    points = reward.get("points", 0)
    if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= MAX_AWARD:
        fail("reward.points", f"must be a whole number of points, 0-{MAX_AWARD}")
    badge = reward.get("badge")
    if badge is not None and not _is_identifier(badge):
        fail("reward.badge", "must be 1-64 characters of A-Z a-z 0-9 _ . : -")
