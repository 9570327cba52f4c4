"""What makes a challenge document valid (rules.engine.challenges compiles only valid ones):
every problem by field path, so that the admin API reports them all at once. Pure: the
document in, the errors out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from rules.engine.conditions import METADATA_KEY, compile_condition, is_number
from rules.engine.periods import PERIODS
from rules.engine.points import MAX_AWARD
from rules.errors import InvalidDefinition

GOAL_TYPES = ("count", "sum")
RESETS = ("none", *PERIODS)
IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_NAME = 200
MAX_EVENTS = 50
MAX_TARGET = 10**12
GOAL_KEYS = frozenset({"type", "field", "target"})
WINDOW_KEYS = frozenset({"start", "end"})
REWARD_KEYS = frozenset({"points", "badge"})


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
        moment = window_bound(window[key])
        if moment is None:
            fail(f"window.{key}", "must be a date-time with a UTC offset, e.g. 2024-04-07T00:00Z")
        else:
            bounds[key] = moment
    if "start" in bounds and "end" in bounds and bounds["start"] >= bounds["end"]:
        fail("window.end", "must be after window.start")


def window_bound(value: Any) -> datetime | None:
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
