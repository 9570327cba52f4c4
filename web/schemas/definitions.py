"""Admin definitions (docs/api.md#rules-admin-api): events and streaks, in the shape they are
stored.

A definition fetched with GET can be edited and PUT back as is: the read-only fields it carries
(createdAt, updatedAt) are ignored on input, and its id must match the path.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from rules.engine.challenge_validation import GOAL_TYPES, RESETS
from rules.engine.conditions import METADATA_KEY
from rules.engine.definitions import METADATA_TYPES, ROUNDINGS
from rules.engine.levels import MAX_LEVEL, MAX_LEVELS, MAX_NAME
from rules.engine.periods import CAP_PERIODS, PERIODS
from rules.engine.state import MAX_CAP_COUNT
from web.openapi import ISO_INSTANT
from web.schemas.fields import (
    Condition,
    EditableSchema,
    FullMatch,
    Identifier,
    Instant,
    IsoMillis,
    ResponseSchema,
    StrictBoolean,
    StrictNumber,
    Timezone,
    printable,
)

MAX_POINTS = 1_000_000_000
INSTANT = f"^{ISO_INSTANT}$"  # ISO-8601 with an offset, 1970-2199
METADATA_FIELD = FullMatch(METADATA_KEY.pattern, error="must be 1-64 characters of A-Z a-z 0-9 _")


def _points(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(0, MAX_POINTS), **kwargs)


class PerUnitSchema(Schema):
    field = fields.String(
        required=True,
        validate=METADATA_FIELD,
        metadata={
            "description": "Numeric metadata field to pay per unit of",
            "example": "orderValue",
        },
    )
    rate = StrictNumber(
        required=True,
        allow_nan=False,
        validate=validate.Range(0, 1_000_000, min_inclusive=False),
        metadata={"description": "Points per unit", "example": 2},
    )
    rounding = fields.String(load_default="floor", validate=validate.OneOf(ROUNDINGS))
    max = _points(metadata={"description": "At most this many per-unit points"})


class PointsSchema(Schema):
    fixed = _points(load_default=0)
    perUnit = fields.Nested(PerUnitSchema)
    maxPerEvent = fields.Integer(
        strict=True,
        validate=validate.Range(1, MAX_POINTS),
        metadata={
            "description": "At most this many points from one event, group multiplier included"
        },
    )


class MaxPointsSchema(Schema):
    amount = fields.Integer(strict=True, required=True, validate=validate.Range(1, MAX_POINTS))
    period = fields.String(required=True, validate=validate.OneOf(CAP_PERIODS))


class MaxCompletionsSchema(Schema):
    count = fields.Integer(strict=True, required=True, validate=validate.Range(1, MAX_CAP_COUNT))
    period = fields.String(required=True, validate=validate.OneOf(CAP_PERIODS))


class GroupRewardSchema(Schema):
    multiplier = StrictNumber(required=True, allow_nan=False, validate=validate.Range(0, 1000))


class DefinitionSchema(EditableSchema):
    name = fields.String(load_default="", validate=[validate.Length(max=200), printable])
    active = StrictBoolean(load_default=True)
    conditions = Condition(
        metadata={
            "type": "object",
            "description": "all / any / not, or a leaf {field, op, value}",
            "example": {"all": [{"field": "orderValue", "op": "gte", "value": 20}]},
        }
    )
    createdAt = IsoMillis(dump_only=True, metadata={"type": "string", "format": "date-time"})
    updatedAt = IsoMillis(dump_only=True, metadata={"type": "string", "format": "date-time"})


class EventDefinitionSchema(DefinitionSchema):
    eventId = Identifier(metadata={"description": "Optional on PUT; must match the path"})
    points = fields.Nested(PointsSchema, load_default=lambda: {"fixed": 0})
    maxCompletions = fields.Nested(MaxCompletionsSchema)
    maxPoints = fields.Nested(
        MaxPointsSchema,
        metadata={
            "description": "At most `amount` points from this event per user and period "
            "(day, week, month in the user's timezone, or lifetime); events beyond it "
            "answer rewarded false, reason limit_reached",
            "example": {"amount": 500, "period": "day"},
        },
    )
    groupRewards = fields.Dict(
        # A usergroup becomes a field name of the stored definition: the metadata key rule
        # keeps "." (a path) and "$" (an operator) out of it.
        keys=fields.String(validate=METADATA_FIELD),
        values=fields.Nested(GroupRewardSchema),
        validate=validate.Length(max=50),
        metadata={
            "description": "Multipliers by the user's usergroup",
            "example": {"subscriber": {"multiplier": 2}},
        },
    )
    metadataSchema = fields.Dict(
        keys=fields.String(validate=METADATA_FIELD),
        values=fields.String(validate=validate.OneOf(METADATA_TYPES)),
        validate=validate.Length(max=10),
        metadata={
            "description": "Declared metadata types; events that break them get a 400",
            "example": {"orderValue": "number"},
        },
    )


class MilestoneSchema(Schema):
    count = fields.Integer(strict=True, required=True, validate=validate.Range(1, 100_000))
    points = _points(load_default=0)
    badge = Identifier()


class FreezesSchema(Schema):
    initial = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, 365))
    max = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, 365))
    earnEvery = fields.Integer(strict=True, validate=validate.Range(1, 100_000))

    @validates_schema
    def initial_within_max(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("initial", 0) > data.get("max", 0):
            raise ValidationError("must not exceed max", "initial")


class StreakDefinitionSchema(DefinitionSchema):
    streakId = Identifier(metadata={"description": "Optional on PUT; must match the path"})
    events = fields.List(
        Identifier(),
        required=True,
        validate=validate.Length(1, 50),
        metadata={"example": ["daily_login"]},
    )
    period = fields.String(load_default="day", validate=validate.OneOf(PERIODS))
    timezone = Timezone(
        load_default="UTC", metadata={"description": "Used when the user's own timezone is unknown"}
    )
    milestones = fields.List(
        fields.Nested(MilestoneSchema), validate=validate.Length(max=50), load_default=list
    )
    freezes = fields.Nested(FreezesSchema)

    @validates_schema
    def distinct_milestones(self, data: dict[str, Any], **_kwargs: Any) -> None:
        counts = [milestone["count"] for milestone in data.get("milestones", [])]
        if len(counts) != len(set(counts)):
            raise ValidationError("two milestones share a count", "milestones")


class GoalSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(GOAL_TYPES))
    field = fields.String(
        validate=METADATA_FIELD,
        metadata={"description": "For a sum goal: the numeric metadata field to add up"},
    )
    target = fields.Raw(
        required=True,
        metadata={
            "type": "number",
            "description": "Events to count (a whole number) or the total to reach",
            "example": 5,
        },
    )


class WindowSchema(Schema):
    start = Instant(metadata={"type": "string", "format": "date-time", "pattern": INSTANT})
    end = Instant(
        metadata={
            "type": "string",
            "format": "date-time",
            "pattern": INSTANT,
            "description": "Exclusive",
        }
    )


class ChallengeRewardSchema(Schema):
    points = _points(load_default=0)
    badge = Identifier(allow_none=True)


class ChallengeDefinitionSchema(DefinitionSchema):
    challengeId = Identifier(metadata={"description": "Optional on PUT; must match the path"})
    events = fields.List(
        Identifier(),
        required=True,
        validate=validate.Length(1, 50),
        metadata={"example": ["level_completed"]},
    )
    goal = fields.Nested(GoalSchema, required=True)
    window = fields.Nested(WindowSchema, metadata={"description": "Counts events in [start, end)"})
    reset = fields.String(
        load_default="none",
        validate=validate.OneOf(RESETS),
        metadata={"description": "Progress restarts each day, week or month (user's timezone)"},
    )
    reward = fields.Nested(ChallengeRewardSchema, load_default=lambda: {"points": 0})
    repeatable = StrictBoolean(load_default=False)


class LevelSchema(Schema):
    # rules.engine.levels validates the whole table (with every item's path); these document it.
    level = fields.Integer(
        strict=True,
        required=True,
        metadata={"example": 1, "minimum": 1, "maximum": MAX_LEVEL},
    )
    name = fields.String(
        required=True, metadata={"example": "Bronze", "minLength": 1, "maxLength": MAX_NAME}
    )
    minPoints = fields.Integer(strict=True, required=True, metadata={"example": 0, "minimum": 0})


class LevelTableSchema(EditableSchema):
    levels = fields.List(
        fields.Nested(LevelSchema),
        required=True,
        metadata={
            "description": "Levels follow lifetime points; minPoints rise with the level",
            "maxItems": MAX_LEVELS,
        },
    )
    updatedAt = IsoMillis(dump_only=True, metadata={"type": "string", "format": "date-time"})


class ChallengeDefinitionListSchema(ResponseSchema):
    items = fields.List(fields.Nested(ChallengeDefinitionSchema))


class EventDefinitionListSchema(ResponseSchema):
    items = fields.List(fields.Nested(EventDefinitionSchema))


class StreakDefinitionListSchema(ResponseSchema):
    items = fields.List(fields.Nested(StreakDefinitionSchema))
