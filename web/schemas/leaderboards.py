"""Leaderboards (docs/api.md#users-support-and-leaderboards): rankings of points earned in the
current period (UTC)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from rules.engine.scores import PERIODS
from web.schemas.fields import ResponseSchema

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
PERIOD_DOC = (
    "day, week (ISO, from Monday), month or all (time); the current one, in UTC. Defaults to all."
)


class LeaderboardQuerySchema(Schema):
    period = fields.String(
        load_default="all", validate=validate.OneOf(PERIODS), metadata={"description": PERIOD_DOC}
    )
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT), metadata={"example": 10}
    )


class RankQuerySchema(Schema):
    period = fields.String(
        load_default="all", validate=validate.OneOf(PERIODS), metadata={"description": PERIOD_DOC}
    )


class StandingSchema(ResponseSchema):
    rank = fields.Integer(metadata={"description": "1 for the first"})
    userId = fields.String(attribute="user_id")
    points = fields.Integer(metadata={"description": "Earned in the period"})


class LeaderboardSchema(ResponseSchema):
    period = fields.String()
    periodKey = fields.String(
        allow_none=True, metadata={"description": "2026-11-26, 2026-W48, 2026-11; null for all"}
    )
    items = fields.List(
        fields.Nested(StandingSchema),
        metadata={
            "description": "Most points first; equal points: who reached them first ranks higher"
        },
    )


class RankSchema(ResponseSchema):
    period = fields.String()
    periodKey = fields.String(allow_none=True)
    rank = fields.Integer(
        allow_none=True, metadata={"description": "null when the user earned nothing this period"}
    )
    points = fields.Integer(metadata={"description": "Earned in the period"})
