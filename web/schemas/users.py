"""Users and support (docs/api.md#users-support-and-leaderboards): profile, history, adjustments,
streak tools, erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from rules.engine.streak_tools import MAX_GRANT, MAX_RESTORE
from rules.usecases.history import DEFAULT_LIMIT, KINDS, MAX_LIMIT, Position
from web.openapi import INSTANT_PATTERN
from web.schemas.events import EventResultSchema
from web.schemas.fields import (
    EpochMillis,
    IdempotencyKeyField,
    Identifier,
    IsoMillis,
    ResponseSchema,
    Timestamp,
    printable,
)

MAX_ADJUSTMENT = 1_000_000_000
MAX_REASON = 200
INSTANT = {"type": "string", "format": "date-time", "example": "2023-04-07T12:34:56.789Z"}
IDEMPOTENCY_KEY_DOC = (
    "Makes retries safe: a repeat with the same key (per project, kept 24 h) returns the first "
    "response with `Idempotent-Replayed: true`; the same key with another request is 422. The "
    "`Idempotency-Key` header does the same."
)


# --- GET /users/{userId} -------------------------------------------------------------------


class UserPointsSchema(ResponseSchema):
    balance = fields.Integer(metadata={"description": "Spendable points"})
    lifetime = fields.Integer(
        metadata={"description": "Points earned through rules in all (adjustments excluded)"}
    )


class UserLevelSchema(ResponseSchema):
    level = fields.Integer(metadata={"description": "0 below the first level"})
    name = fields.String(allow_none=True)


class StreakStateSchema(ResponseSchema):
    streakId = fields.String()
    currentCount = fields.Integer()
    longestCount = fields.Integer()
    freezes = fields.Integer(metadata={"description": "Freezes held, each covers a missed period"})
    lastUpdate = IsoMillis(allow_none=True, metadata=INSTANT)


class ChallengeStateSchema(ResponseSchema):
    challengeId = fields.String()
    progress = fields.Raw(metadata={"type": "number", "description": "In the current period"})
    target = fields.Raw(
        allow_none=True, metadata={"type": "number", "description": "None once deactivated"}
    )
    completed = fields.Boolean()
    completions = fields.Integer(metadata={"description": "In all, over every period"})
    lastUpdate = IsoMillis(allow_none=True, metadata=INSTANT)


class ProfileSchema(ResponseSchema):
    userId = fields.String()
    points = fields.Nested(UserPointsSchema)
    level = fields.Nested(
        UserLevelSchema,
        allow_none=True,
        metadata={"description": "By lifetime points; null when the project defines no levels"},
    )
    usergroup = fields.String(allow_none=True)
    timezone = fields.String(allow_none=True)
    streaks = fields.List(fields.Nested(StreakStateSchema))
    challenges = fields.List(fields.Nested(ChallengeStateSchema))
    badges = fields.List(fields.String())
    firstSeen = IsoMillis(allow_none=True, metadata=INSTANT)
    lastSeen = IsoMillis(allow_none=True, metadata=INSTANT)
    eventCount = fields.Integer()


# --- GET /users/{userId}/history -----------------------------------------------------------


class QueryInstant(Timestamp):
    """A query string's instant: epoch milliseconds (digits) or ISO-8601 with an offset."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class Cursor(fields.String):
    def _deserialize(  # type: ignore[override]  # loads the text as the Position it encodes
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> Position:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        try:
            return Position.from_token(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class HistoryQuerySchema(Schema):
    type = fields.String(
        load_default=None,
        validate=validate.OneOf(KINDS),
        metadata={"description": "Only events or only points entries; both, merged, without it"},
    )
    eventId = Identifier(
        load_default=None,
        metadata={"description": "Only this event type (and the points it awarded)"},
    )
    since = QueryInstant(
        data_key="from",
        load_default=None,
        metadata={
            "description": "Inclusive; epoch ms or ISO-8601 with an offset",
            "type": "string",
            "pattern": INSTANT_PATTERN,
        },
    )
    until = QueryInstant(
        data_key="to",
        load_default=None,
        metadata={
            "description": "Inclusive; epoch ms or ISO-8601 with an offset",
            "type": "string",
            "pattern": INSTANT_PATTERN,
        },
    )
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT), metadata={"example": 20}
    )
    cursor = Cursor(
        load_default=None,
        metadata={"description": "The previous page's nextCursor; omit for the newest items"},
    )

    @validates_schema
    def range_is_ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["since"] and data["until"] and data["since"] > data["until"]:
            raise ValidationError("must not be before `from`", "to")


class HistoryItemSchema(ResponseSchema):
    # Events carry eventId, receivedAt, metadata, outcome; points entries the rest.
    OPTIONAL = frozenset(
        {"eventId", "receivedAt", "metadata", "outcome", "delta", "reason", "source", "actor"}
    )

    type = fields.String(metadata={"description": "event or points"})
    id = fields.String(metadata={"description": "The event record's or ledger entry's id"})
    timestamp = EpochMillis(
        metadata={
            "type": "integer",
            "description": "Epoch ms: an event's time, or when a points entry was written",
        }
    )
    eventId = fields.String(
        allow_none=True, metadata={"description": "The event (points: the one that paid it)"}
    )
    receivedAt = EpochMillis(metadata={"type": "integer", "description": "Events: epoch ms"})
    metadata = fields.Dict(metadata={"description": "Events: the metadata sent"})
    outcome = fields.Nested(
        EventResultSchema, metadata={"description": "Events: what POST /event answered"}
    )
    delta = fields.Integer(metadata={"description": "Points: the change of the balance"})
    reason = fields.String(allow_none=True, metadata={"example": "event:daily_login"})
    source = fields.String(metadata={"description": "event, streak, challenge or adjustment"})
    actor = fields.String(
        allow_none=True, metadata={"description": "Adjustments: the token's sub that made it"}
    )


class HistoryPageSchema(ResponseSchema):
    items = fields.List(fields.Nested(HistoryItemSchema))
    nextCursor = fields.String(
        allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null last"}
    )


# --- POST /users/{userId}/adjustments ------------------------------------------------------


def _nonzero(value: int) -> None:
    if value == 0:
        raise ValidationError("must not be 0")


class AdjustmentSchema(Schema):
    delta = fields.Integer(
        strict=True,
        required=True,
        validate=[validate.Range(-MAX_ADJUSTMENT, MAX_ADJUSTMENT), _nonzero],
        metadata={
            "description": "Points to add (negative: to take away); not 0",
            "example": 50,
            "not": {"enum": [0]},
        },
    )
    reason = fields.String(
        required=True,
        validate=[validate.Length(1, MAX_REASON), printable],
        metadata={"description": "Why, for the history", "example": "Goodwill: order #4711 late"},
    )
    idempotencyKey = IdempotencyKeyField(
        load_default=None, metadata={"description": IDEMPOTENCY_KEY_DOC}
    )


class AdjustmentResultSchema(ResponseSchema):
    userId = fields.String()
    entryId = fields.String(metadata={"description": "The ledger entry written"})
    delta = fields.Integer()
    reason = fields.String()
    actor = fields.String(allow_none=True, metadata={"description": "The token's sub"})
    balance = fields.Integer(metadata={"description": "The user's balance after it"})
    lifetime = fields.Integer(metadata={"description": "Unchanged: adjustments are not earned"})
    createdAt = IsoMillis(metadata=INSTANT)


# --- POST /users/{userId}/streaks/{streakId}/restore and /freezes --------------------------


class RestoreSchema(Schema):
    count = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(1, MAX_RESTORE),
        metadata={"description": "The streak's count from now on", "example": 12},
    )
    idempotencyKey = IdempotencyKeyField(
        load_default=None, metadata={"description": IDEMPOTENCY_KEY_DOC}
    )


class FreezeGrantSchema(Schema):
    count = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(1, MAX_GRANT),
        metadata={"description": "Freezes to add", "example": 1},
    )
    idempotencyKey = IdempotencyKeyField(
        load_default=None, metadata={"description": IDEMPOTENCY_KEY_DOC}
    )


class StreakCountsSchema(ResponseSchema):
    currentCount = fields.Integer()
    longestCount = fields.Integer()
    freezes = fields.Integer()
    lastUpdate = IsoMillis(
        allow_none=True,
        metadata={**INSTANT, "description": "The latest counted moment the streak goes on from"},
    )


class StreakToolResultSchema(ResponseSchema):
    userId = fields.String()
    streakId = fields.String()
    currentCount = fields.Integer()
    longestCount = fields.Integer()
    freezes = fields.Integer()
    lastUpdate = IsoMillis(
        allow_none=True,
        metadata={**INSTANT, "description": "The latest counted moment the streak goes on from"},
    )
    previous = fields.Nested(StreakCountsSchema, metadata={"description": "Before the change"})
    actor = fields.String(allow_none=True, metadata={"description": "The token's sub"})
    at = IsoMillis(metadata=INSTANT)


# --- PUT /users/{userId}/usergroup -----------------------------------------------------------


class UsergroupSchema(Schema):
    usergroup = fields.String(
        required=True,
        allow_none=True,
        validate=[validate.Length(1, 64), printable],
        metadata={
            "description": "The user's usergroup (picks groupRewards multipliers); null clears it",
            "example": "subscriber",
        },
    )


class UsergroupResultSchema(ResponseSchema):
    userId = fields.String()
    usergroup = fields.String(allow_none=True)
    previous = fields.String(allow_none=True, metadata={"description": "Before the change"})
    actor = fields.String(allow_none=True, metadata={"description": "The token's sub"})
    at = IsoMillis(metadata=INSTANT)


# --- DELETE /users/{userId} ----------------------------------------------------------------


class ErasureSchema(ResponseSchema):
    userId = fields.String()
    erased = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "Documents removed per collection",
            "example": {"users": 1, "events": 42, "ledger": 40},
        },
    )
    leaderboardKeys = fields.Integer(metadata={"description": "Redis keys that held the user"})
