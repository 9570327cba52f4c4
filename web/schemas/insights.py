"""Insights (docs/api.md#insights): query arguments and answers of breakdowns, funnels and
retention, and the funnel definitions of the admin API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from reports.windows import WINDOWS
from rules.engine.funnels import (
    DEFAULT_WINDOW_SECONDS,
    MAX_STEPS,
    MAX_WINDOW_SECONDS,
    MIN_STEPS,
    MIN_WINDOW_SECONDS,
)
from web.schemas.analytics import DEFAULT_WINDOW, INSTANT, EventTotalsQuerySchema
from web.schemas.definitions import METADATA_FIELD
from web.schemas.fields import (
    Condition,
    EditableSchema,
    Identifier,
    IsoMillis,
    ResponseSchema,
    printable,
)

APPROXIMATE = {
    "description": "The figures of this answer that are not exact (e.g. p50, p90); [] when all are",
    "example": ["p50", "p90"],
}
JSON_VALUE = {
    "description": "The metadata value, with its JSON type (string, number, boolean); null "
    "for events without the field",
    "nullable": True,
    "example": "ios",
}


def _metadata_field(description: str, **kwargs: Any) -> fields.String:
    return fields.String(validate=METADATA_FIELD, metadata={"description": description}, **kwargs)


class BreakdownQuerySchema(Schema):
    by = _metadata_field("The metadata field whose values make the items", required=True)
    field = _metadata_field("A numeric metadata field to describe per item", load_default=None)
    window = fields.String(
        load_default=DEFAULT_WINDOW,
        validate=validate.OneOf(WINDOWS),
        metadata={"description": "7d, 30d (default) or all, ending today (UTC)"},
    )
    limit = fields.Integer(
        load_default=20, validate=validate.Range(1, 100), metadata={"description": "1-100"}
    )


class StatsSchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "Events holding a number"})
    mean = fields.Float(required=True, allow_none=True)
    min = fields.Raw(required=True, allow_none=True, metadata={"type": "number"})
    max = fields.Raw(required=True, allow_none=True, metadata={"type": "number"})
    p50 = fields.Float(required=True, allow_none=True)
    p90 = fields.Float(required=True, allow_none=True)


class BreakdownItemSchema(Schema):
    value = fields.Raw(required=True, allow_none=True, metadata=JSON_VALUE)
    count = fields.Integer(required=True, metadata={"description": "Events with this value"})
    uniqueUsers = fields.Integer(required=True)
    stats = fields.Nested(
        StatsSchema,
        required=True,
        allow_none=True,
        metadata={"description": "Of `field` over these events; null without `field`"},
    )


class BreakdownSchema(Schema):
    eventId = fields.String(required=True)
    by = fields.String(required=True)
    field = fields.String(required=True, allow_none=True)
    window = fields.String(required=True, metadata={"example": "30d"})
    first = fields.String(required=True, attribute="from", data_key="from")
    last = fields.String(required=True, attribute="to", data_key="to")
    items = fields.List(
        fields.Nested(BreakdownItemSchema),
        required=True,
        metadata={"description": "Most events first, ties by value"},
    )
    otherCount = fields.Integer(
        required=True, metadata={"description": "Events whose value is not among the items"}
    )
    approximate = fields.List(fields.String(), required=True, metadata=APPROXIMATE)


class FunnelQuerySchema(EventTotalsQuerySchema):
    by = _metadata_field("Segment by this metadata field of the entering event", load_default=None)


class FunnelStepResultSchema(Schema):
    eventId = fields.String(required=True)
    users = fields.Integer(required=True)
    conversion = fields.Float(required=True, metadata={"description": "users / users of step 1"})
    stepConversion = fields.Float(
        required=True, metadata={"description": "users / users of the previous step"}
    )
    medianSecondsFromPrevious = fields.Float(required=True, allow_none=True)


class FunnelSegmentSchema(Schema):
    value = fields.Raw(required=True, allow_none=True, metadata=JSON_VALUE)
    steps = fields.List(fields.Nested(FunnelStepResultSchema), required=True)


class FunnelResultSchema(Schema):
    funnelId = fields.String(required=True)
    first = fields.String(required=True, attribute="from", data_key="from")
    last = fields.String(required=True, attribute="to", data_key="to")
    steps = fields.List(fields.Nested(FunnelStepResultSchema), required=True)
    segments = fields.List(
        fields.Nested(FunnelSegmentSchema),
        required=True,
        metadata={"description": "With `by`: most entering users first; else []"},
    )


class RetentionQuerySchema(EventTotalsQuerySchema):
    period = fields.String(
        load_default="day",
        validate=validate.OneOf(("day", "week")),
        metadata={"description": "day (UTC) or week (ISO, from Monday); default day"},
    )
    periods = fields.Integer(
        load_default=8, validate=validate.Range(1, 52), metadata={"description": "1-52"}
    )
    cohortEvent = Identifier(
        load_default=None, metadata={"description": "Cohorts by the first event of this eventId"}
    )
    returnEvent = Identifier(
        load_default=None, metadata={"description": "Count returns by this eventId only"}
    )
    split = Identifier(
        load_default=None,
        metadata={"description": "Compare users who did this eventId in their first period"},
    )


class RetainedSchema(Schema):
    users = fields.Integer(required=True)
    retained = fields.List(
        fields.Integer(allow_none=True),
        required=True,
        metadata={"description": "periods + 1 entries; null: the period has not begun"},
    )


class CohortSchema(RetainedSchema):
    start = fields.String(required=True, metadata={"example": "2026-11-02"})
    with_ = fields.Nested(RetainedSchema, data_key="with", attribute="with")
    without = fields.Nested(RetainedSchema)


class RetentionSchema(Schema):
    period = fields.String(required=True)
    first = fields.String(required=True, attribute="from", data_key="from")
    last = fields.String(required=True, attribute="to", data_key="to")
    cohorts = fields.List(fields.Nested(CohortSchema), required=True)
    approximate = fields.List(fields.String(), required=True, metadata=APPROXIMATE)


class RunFailureSchema(Schema):
    eventId = fields.String(required=True)
    day = fields.String(required=True, allow_none=True, metadata={"example": "2026-11-26"})
    stage = fields.String(required=True, metadata={"example": "saving the partial"})
    error = fields.String(required=True)


class RunSummarySchema(Schema):
    runId = fields.String(required=True)
    full = fields.Boolean(required=True)
    startedAt = IsoMillis(required=True, metadata=INSTANT)
    newEvents = fields.Integer()
    events = fields.Integer()
    daysTouched = fields.Integer()
    partialsWritten = fields.Integer()
    partialsDeleted = fields.Integer()
    reportsBuilt = fields.Integer()
    seconds = fields.Float()
    failureCount = fields.Integer(
        metadata={"description": "Days (or eventIds' reports) the run could not aggregate"}
    )
    failures = fields.List(
        fields.Nested(RunFailureSchema),
        metadata={"description": "The first 20 failures; logged, skipped, the run went on"},
    )


class RunStatusSchema(Schema):
    watermark = IsoMillis(
        required=True,
        allow_none=True,
        metadata={**INSTANT, "description": "Events received before this are in the reports"},
    )
    lastRun = fields.Nested(RunSummarySchema, required=True, allow_none=True)


class FunnelStepSchema(Schema):
    eventId = Identifier(required=True)
    conditions = Condition(
        metadata={
            "type": "object",
            "description": "Optional: the step's events must meet these (as in rules)",
            "example": {"all": [{"field": "platform", "op": "eq", "value": "ios"}]},
        }
    )


class FunnelDefinitionSchema(EditableSchema):
    funnelId = Identifier(metadata={"description": "Optional on PUT; must match the path"})
    name = fields.String(load_default="", validate=[validate.Length(max=200), printable])
    steps = fields.List(
        fields.Nested(FunnelStepSchema),
        required=True,
        validate=validate.Length(MIN_STEPS, MAX_STEPS),
        metadata={"example": [{"eventId": "daily_login"}, {"eventId": "purchase_completed"}]},
    )
    windowSeconds = fields.Integer(
        strict=True,
        load_default=DEFAULT_WINDOW_SECONDS,
        validate=validate.Range(MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS),
        metadata={"description": "Steps count within this many seconds of entering"},
    )
    active = fields.Boolean(load_default=True)
    createdAt = IsoMillis(dump_only=True, metadata={"type": "string", "format": "date-time"})
    updatedAt = IsoMillis(dump_only=True, metadata={"type": "string", "format": "date-time"})


class FunnelDefinitionListSchema(ResponseSchema):
    items = fields.List(fields.Nested(FunnelDefinitionSchema))
