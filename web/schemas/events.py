"""POST /event: the request (docs/api.md#post-event) and the response data."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from rules.engine.challenges import ChallengeReport
from rules.engine.evaluation import Outcome, StreakReport
from rules.engine.levels import LevelChange
from web.errors import ErrorSchema
from web.openapi import EPOCH_MS_RANGE, ISO_INSTANT
from web.schemas.batch_results import BatchResults, outcome_body
from web.schemas.fields import (
    INT64,
    MAX_METADATA_FIELDS,
    MAX_METADATA_STRING,
    EpochMillis,
    IdempotencyKeyField,
    Identifier,
    IsoMillis,
    Metadata,
    ResponseSchema,
    Timestamp,
    UserId,
)


class EventSchema(Schema):
    event_id = Identifier(
        data_key="eventId",
        required=True,
        metadata={
            "description": "Event type, as defined under /admin/events",
            "example": "daily_login",
        },
    )
    user_id = UserId(
        data_key="userId",
        required=True,
        metadata={
            "description": "Your identifier of the user (1-128 printable characters); a new one "
            "creates the user",
            "example": "user123",
        },
    )
    metadata = Metadata(
        load_default=dict,
        allow_none=True,
        metadata={
            "description": "Up to 10 flat fields: string (<= 256 chars), number, boolean or null. "
            "Field names are 1-64 characters of A-Z a-z 0-9 _. `usergroup` (a non-empty string) "
            "and `timezone` (an IANA name) also update the user.",
            "type": "object",
            "maxProperties": MAX_METADATA_FIELDS,
            "additionalProperties": {
                "nullable": True,
                "anyOf": [
                    {"type": "string", "maxLength": MAX_METADATA_STRING},
                    {"type": "integer", "minimum": INT64.start, "maximum": INT64.stop - 1},
                    {"type": "number"},
                    {"type": "boolean"},
                ],
            },
            "example": {"platform": "ios", "sessionLength": 183},
        },
    )
    timestamp = Timestamp(
        load_default=None,
        metadata={
            "description": "When it happened: ISO-8601 with offset, or epoch milliseconds. At most "
            "5 minutes ahead; older than 7 days needs the events:import scope. "
            "Defaults to now.",
            "anyOf": [
                {"type": "string", "format": "date-time", "pattern": f"^{ISO_INSTANT}$"},
                {"type": "integer", **EPOCH_MS_RANGE},
            ],
        },
    )
    idempotency_key = IdempotencyKeyField(
        data_key="idempotencyKey",
        load_default=None,
        metadata={
            "description": "Makes retries safe: a repeat with the same key (per project, kept "
            "24 h) returns the first response with `Idempotent-Replayed: true`; the same key "
            "with another request is 422. The `Idempotency-Key` header does the same.",
            "example": "order-4711-completed",
        },
    )


class StreakResultSchema(ResponseSchema):
    streak_id = fields.String(data_key="streakId")
    current_count = fields.Integer(data_key="currentCount")
    longest_count = fields.Integer(data_key="longestCount")
    last_update = IsoMillis(
        data_key="lastUpdate",
        metadata={"type": "string", "format": "date-time", "example": "2023-04-07T12:34:56.789Z"},
    )
    milestone_reached = fields.Boolean(data_key="milestoneReached")
    points_awarded = fields.Integer(data_key="pointsAwarded")
    freezes_used = fields.Integer(data_key="freezesUsed")


class ChallengeResultSchema(ResponseSchema):
    challenge_id = fields.String(data_key="challengeId")
    progress = fields.Raw(metadata={"type": "number", "description": "Towards the target"})
    target = fields.Raw(metadata={"type": "number"})
    completed = fields.Boolean()
    points_awarded = fields.Integer(data_key="pointsAwarded")
    badge = fields.String(allow_none=True)


class LevelResultSchema(ResponseSchema):
    level = fields.Integer(metadata={"description": "0 below the first level"})
    name = fields.String(allow_none=True)
    level_up = fields.Boolean(data_key="levelUp")


class EventResultSchema(ResponseSchema):
    event_id = fields.String(data_key="eventId")
    user_id = fields.String(data_key="userId")
    points_awarded = fields.Integer(
        data_key="pointsAwarded", metadata={"description": "Points from the event's own rule"}
    )
    total_points_awarded = fields.Integer(
        data_key="totalPointsAwarded",
        metadata={"description": "pointsAwarded plus streak milestone and challenge rewards"},
    )
    balance = fields.Integer(metadata={"description": "The user's spendable points now"})
    timestamp = EpochMillis(metadata={"type": "integer", "description": "Event time, epoch ms"})
    rewarded = fields.Boolean(
        metadata={"description": "The rule paid out: conditions met and under maxCompletions"}
    )
    reason = fields.String(
        allow_none=True,
        metadata={"description": "Why the rule gave nothing: conditions_not_met or limit_reached"},
    )
    streaks = fields.List(
        fields.Nested(StreakResultSchema),
        metadata={"description": "Every streak this event counts for"},
    )
    challenges = fields.List(fields.Nested(ChallengeResultSchema))
    level = fields.Nested(LevelResultSchema, allow_none=True)
    badges = fields.List(fields.String(), metadata={"description": "Badges newly earned"})

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """What marshmallow dumps, written out for an Outcome: every POST /event answers one,
        and marshmallow's walk of these four schemas field by field cost as much as the rest
        of the response. Anything else (a list, a schema narrowed with only/exclude) takes
        marshmallow's own way; tests/unit/web/test_event_result_dump.py holds the two equal."""
        if many or self.many or self.only is not None or self.exclude or not _plain(obj):
            return super().dump(obj, many=many)
        return outcome_body(obj)


def _plain(obj: Any) -> bool:
    """An Outcome made of the engine's own reports (what outcome_body reads by attribute)."""
    return (
        type(obj) is Outcome
        and all(type(streak) is StreakReport for streak in obj.streaks or ())
        and all(type(challenge) is ChallengeReport for challenge in obj.challenges or ())
        and (obj.level is None or type(obj.level) is LevelChange)
    )


MAX_BATCH_EVENTS = 100


class BatchRequestSchema(Schema):
    events = fields.List(
        # Any item, null included, is judged on its own: a bad one fails only itself.
        fields.Raw(allow_none=True, metadata={"$ref": "#/components/schemas/Event"}),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH_EVENTS),
        metadata={"description": "1-100 events, each shaped like a POST /event body"},
    )


class BatchItemResultSchema(ResponseSchema):
    OPTIONAL = frozenset({"data", "error", "replayed"})

    index = fields.Integer(metadata={"description": "Position of the item in the request"})
    status = fields.Integer(metadata={"description": "What POST /event would have answered"})
    data = fields.Nested(EventResultSchema, metadata={"description": "When status is 200"})
    error = fields.Nested(ErrorSchema, metadata={"description": "When status is not 200"})
    replayed = fields.Boolean(
        metadata={"description": "Present and true when the item's idempotency key replayed"}
    )


class BatchResultSchema(ResponseSchema):
    results = BatchResults(fields.Nested(BatchItemResultSchema))
