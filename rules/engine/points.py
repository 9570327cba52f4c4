"""Points an event's own rule awards: fixed + per unit of a metadata value, times the user's
group multiplier, gated by conditions and capped by maxCompletions; then at most
`points.maxPerEvent` for one event and `maxPoints.amount` per user and period.

Arithmetic is decimal on the values the client sent (2 points per unit of 1.1 is 2.2, never
2.2000000000000002), so rounding lands on the point a person would compute by hand. Per-unit
points are rounded and capped by `max` first; the group multiplier then applies to the whole
and is rounded the same way. No single award exceeds MAX_AWARD, whatever the metadata says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from rules.engine.conditions import is_number
from rules.engine.definitions import EventRule, exact
from rules.engine.frozen import fast_init
from rules.errors import InvalidEvent

if TYPE_CHECKING:  # rules.engine.state imports rules.engine.challenges, which imports this module
    from rules.engine.state import PointsTally

_ROUNDING = {"floor": ROUND_FLOOR, "round": ROUND_HALF_UP, "ceil": ROUND_CEILING}

MAX_AWARD = 1_000_000_000
_ONE = Decimal(1)  # built once: the multiplier of no group, and what points round to
_ZERO, _DECIMAL_MAX_AWARD = Decimal(0), Decimal(MAX_AWARD)
CONDITIONS_NOT_MET = "conditions_not_met"
LIMIT_REACHED = "limit_reached"


@fast_init
@dataclass(frozen=True)
class Reward:
    points: int
    completed: bool  # conditions met and under the cap: the rule paid out (maybe 0 points)
    reason: str | None  # conditions_not_met or limit_reached when it did not


def check_metadata_schema(rule: EventRule, metadata: Mapping[str, Any]) -> None:
    """Raise InvalidEvent when a declared metadata field has another type (null = absent)."""
    problems: dict[str, list[str]] = {}
    for name, expected in rule.metadata_schema.items():
        value = metadata.get(name)
        if value is not None and _type_of(value) != expected:
            problems[f"metadata.{name}"] = [f"must be a {expected} for event {rule.event_id}"]
    if problems:
        raise InvalidEvent("metadata does not match the event's metadataSchema", problems)


def decide_reward(
    rule: EventRule,
    metadata: Mapping[str, Any],
    usergroup: str | None,
    completions_so_far: int,
    condition_met: bool | None = None,
) -> Reward:
    """The rule's reward for an event with `metadata`; `condition_met` is the rule's condition
    on it, when the caller has already evaluated it."""
    if not (rule.condition(metadata) if condition_met is None else condition_met):
        return Reward(points=0, completed=False, reason=CONDITIONS_NOT_MET)
    if rule.cap is not None and completions_so_far >= rule.cap.count:
        return Reward(points=0, completed=False, reason=LIMIT_REACHED)
    return Reward(points=rule_points(rule, metadata, usergroup), completed=True, reason=None)


def rule_points(rule: EventRule, metadata: Mapping[str, Any], usergroup: str | None) -> int:
    base = rule.fixed + per_unit_points(rule, metadata)
    whole = rule.whole_multipliers.get(usergroup, 1) if usergroup else 1
    if base.__class__ is int and whole is not None:
        # Whole points times a whole multiplier (as most are): what _to_points gives for
        # their decimal product, which is whole, in int arithmetic.
        points = base * whole
        points = 0 if points <= 0 else MAX_AWARD if points >= MAX_AWARD else points
    else:
        rounding = rule.per_unit.rounding if rule.per_unit else "floor"
        multiplier = rule.multipliers.get(usergroup, _ONE) if usergroup else _ONE
        points = _to_points(Decimal(base) * multiplier, rounding)
    return points if rule.max_per_event is None else min(points, rule.max_per_event)


def within_points_cap(
    rule: EventRule, reward: Reward, tally: PointsTally, period_start: datetime
) -> tuple[Reward, PointsTally]:
    """`reward` cut to what the rule's maxPoints leaves in the period starting at
    `period_start`, and the tally with it added. A reward cut to nothing is limit_reached;
    one in a period too old to know (see PointsTally) is cut to nothing."""
    if rule.max_points is None or not reward.completed or reward.points == 0:
        return reward, tally
    so_far = tally.within(period_start)
    left = 0 if so_far is None else max(0, rule.max_points.amount - so_far)
    if left == 0:
        return Reward(points=0, completed=False, reason=LIMIT_REACHED), tally
    points = min(reward.points, left)
    return replace(reward, points=points), tally.added(period_start, points)


def per_unit_points(rule: EventRule, metadata: Mapping[str, Any]) -> int:
    per_unit = rule.per_unit
    if per_unit is None:
        return 0
    value = metadata.get(per_unit.field)
    if not is_number(value) or value <= 0:
        return 0
    points = _to_points(exact(value) * per_unit.rate, per_unit.rounding)
    return points if per_unit.max is None else min(points, per_unit.max)


def _to_points(amount: Decimal, rounding: str) -> int:
    # Compared with decimals: a decimal compares with another faster than with an int.
    if amount <= _ZERO:
        return 0
    if amount >= _DECIMAL_MAX_AWARD:  # also keeps quantize within the decimal context's precision
        return MAX_AWARD
    return int(amount.quantize(_ONE, rounding=_ROUNDING[rounding]))


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    return "number"
