"""Compiled definitions: the stored event and streak documents (docs/api.md#rules-admin-api) turned
into immutable values the engine evaluates. Documents arrive validated by the admin API; compiling
checks the condition trees once more so a hand-edited document cannot smuggle in a bad one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from rules.engine.conditions import Predicate, always, compile_condition
from rules.errors import InvalidDefinition

ROUNDINGS = ("floor", "round", "ceil")
METADATA_TYPES = ("number", "string", "boolean")


def exact(number: float | int) -> Decimal:
    """The decimal a client meant: 129.99 is 129.99, not 129.990000000000009094947."""
    return Decimal(str(number))


@dataclass(frozen=True)
class PerUnit:
    field: str
    rate: Decimal
    rounding: str = "floor"
    max: int | None = None


@dataclass(frozen=True)
class Cap:
    count: int
    period: str  # day | week | month | lifetime


@dataclass(frozen=True)
class PointsCap:
    """At most `amount` points from one event rule per user and period (in the user's
    timezone, UTC when unknown)."""

    amount: int
    period: str  # day | week | month | lifetime


@dataclass(frozen=True)
class EventRule:
    event_id: str
    name: str = ""
    active: bool = True
    fixed: int = 0
    per_unit: PerUnit | None = None
    condition: Predicate = always
    cap: Cap | None = None
    multipliers: Mapping[str, Decimal] = field(default_factory=dict)
    metadata_schema: Mapping[str, str] = field(default_factory=dict)
    max_per_event: int | None = None  # points, after the group multiplier
    max_points: PointsCap | None = None

    @cached_property
    def whole_multipliers(self) -> dict[str, int | None]:
        """Each group's multiplier as an int when it is whole, else None (rules.engine.points
        multiplies whole points by it in int arithmetic). Not a field: equality, asdict() and
        replace() never see it."""
        return {
            group: int(multiplier)
            if multiplier.is_finite() and multiplier == multiplier.to_integral_value()
            else None
            for group, multiplier in self.multipliers.items()
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> EventRule:
        points = doc.get("points") or {}
        per_unit = points.get("perUnit")
        cap = doc.get("maxCompletions")
        max_points = doc.get("maxPoints")
        return cls(
            event_id=doc["eventId"],
            name=doc.get("name", ""),
            active=doc.get("active", True),
            fixed=points.get("fixed", 0),
            per_unit=PerUnit(
                field=per_unit["field"],
                rate=exact(per_unit["rate"]),
                rounding=per_unit.get("rounding", "floor"),
                max=per_unit.get("max"),
            )
            if per_unit
            else None,
            condition=_condition(doc),
            cap=Cap(count=cap["count"], period=cap["period"]) if cap else None,
            multipliers={
                group: exact(reward["multiplier"])
                for group, reward in (doc.get("groupRewards") or {}).items()
            },
            metadata_schema=dict(doc.get("metadataSchema") or {}),
            max_per_event=points.get("maxPerEvent"),
            max_points=PointsCap(amount=max_points["amount"], period=max_points["period"])
            if max_points
            else None,
        )


@dataclass(frozen=True)
class Milestone:
    count: int
    points: int = 0
    badge: str | None = None


@dataclass(frozen=True)
class FreezePolicy:
    initial: int = 0
    max: int = 0
    earn_every: int | None = None

    @cached_property
    def walk_key(self) -> tuple[int, int | None]:
        """What of the policy a streak's walk depends on (the initial freezes are its base's)."""
        return self.max, self.earn_every


@dataclass(frozen=True)
class StreakRule:
    streak_id: str
    events: frozenset[str]
    period: str = "day"
    timezone: str = "UTC"
    name: str = ""
    active: bool = True
    condition: Predicate = always
    milestones: tuple[Milestone, ...] = ()
    freezes: FreezePolicy = FreezePolicy()

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> StreakRule:
        freezes = doc.get("freezes") or {}
        return cls(
            streak_id=doc["streakId"],
            events=frozenset(doc["events"]),
            period=doc.get("period", "day"),
            timezone=doc.get("timezone", "UTC"),
            name=doc.get("name", ""),
            active=doc.get("active", True),
            condition=_condition(doc),
            milestones=tuple(
                sorted(
                    (
                        Milestone(count=m["count"], points=m.get("points", 0), badge=m.get("badge"))
                        for m in doc.get("milestones") or ()
                    ),
                    key=lambda milestone: milestone.count,
                )
            ),
            freezes=FreezePolicy(
                initial=freezes.get("initial", 0),
                max=freezes.get("max", 0),
                earn_every=freezes.get("earnEvery"),
            ),
        )

    @cached_property
    def plan(self) -> tuple[frozenset[str], Predicate, str, str, str, tuple[str, str]]:
        """What the evaluation loop reads of the rule, in one tuple (unpacked in one step,
        cheaper than an attribute read each): the events it counts (none when inactive), its
        condition, streakId, timezone and kind of period, and those two as one key. Not a
        field: equality, asdict() and replace() never see it."""
        events = self.events if self.active else frozenset()
        zone_and_period = (self.timezone, self.period)
        return events, self.condition, self.streak_id, self.timezone, self.period, zone_and_period

    def milestone_at(self, count: int) -> Milestone | None:
        return next((m for m in self.milestones if m.count == count), None)


def _condition(doc: Mapping[str, Any]) -> Predicate:
    tree = doc.get("conditions")
    if tree is None:
        return always
    try:
        return compile_condition(tree)
    except InvalidDefinition as error:
        raise InvalidDefinition(
            error.message,
            {
                f"conditions.{path}" if path else "conditions": messages
                for path, messages in error.details.items()
            },
        ) from None
