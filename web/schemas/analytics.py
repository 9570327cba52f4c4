"""Analytics (docs/api.md#analytics): query arguments and the shapes of reports, runs and
exports."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from reports.windows import WINDOWS, day_key
from web.openapi import DAY_PATTERN
from web.schemas.fields import EPOCH, LATEST_TIMESTAMP, IsoMillis, ResponseSchema, Timestamp

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
DEFAULT_WINDOW = "30d"
INSTANT = {"type": "string", "format": "date-time", "example": "2026-11-26T00:05:00.000Z"}


class Day(Timestamp):
    """A UTC day from 1970 to 2199: `YYYY-MM-DD`, or the day of an instant (epoch ms, or
    ISO-8601 with an offset); loaded as 'YYYY-MM-DD'."""

    def _deserialize(  # type: ignore[override]  # a Timestamp that loads as its day's text
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> str:
        if isinstance(value, str) and DAY.fullmatch(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise ValidationError("is not a valid date") from None
            if not EPOCH.date() <= day < LATEST_TIMESTAMP.date():
                raise ValidationError("must lie between 1970 and 2200")
            return day.isoformat()
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        return day_key(super()._deserialize(value, attr, data, **kwargs))


class EventTotalsQuerySchema(Schema):
    first = Day(
        data_key="from",
        load_default=None,
        metadata={
            "type": "string",
            "description": "First UTC day, inclusive: YYYY-MM-DD, epoch ms or ISO-8601 "
            "(its day). Default: 29 days before `to`.",
            "example": "2026-11-01",
            "pattern": DAY_PATTERN,
        },
    )
    last = Day(
        data_key="to",
        load_default=None,
        metadata={
            "type": "string",
            "description": "Last UTC day, inclusive, like `from`. Default: today.",
            "pattern": DAY_PATTERN,
            "example": "2026-11-30",
        },
    )

    @validates_schema
    def range_is_ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["first"] and data["last"] and data["first"] > data["last"]:
            raise ValidationError("must not be before `from`", "to")


class EventTotalSchema(ResponseSchema):
    eventId = fields.String()
    count = fields.Integer(metadata={"description": "Events"})
    uniqueUsers = fields.Integer(metadata={"description": "Distinct users over the range"})
    uniqueUsersExact = fields.Boolean(
        metadata={"description": "False when busy days were counted with HyperLogLog (±1 %)"}
    )
    pointsAwarded = fields.Integer(metadata={"description": "By the events' own rules"})
    totalPointsAwarded = fields.Integer(metadata={"description": "With streak/challenge rewards"})


class EventTotalsSchema(ResponseSchema):
    first = fields.String(attribute="from", data_key="from", metadata={"example": "2026-11-01"})
    last = fields.String(attribute="to", data_key="to", metadata={"example": "2026-11-30"})
    items = fields.List(fields.Nested(EventTotalSchema))


class WindowQuerySchema(Schema):
    window = fields.String(
        load_default=DEFAULT_WINDOW,
        validate=validate.OneOf(WINDOWS),
        metadata={
            "description": "7d: today (UTC) and the 6 days before; 30d likewise; all: every day "
            "since the event's first. Default 30d."
        },
    )


class TrendDaySchema(ResponseSchema):
    day = fields.String(metadata={"example": "2026-11-26"})
    count = fields.Integer()
    uniqueUsers = fields.Integer()
    pointsAwarded = fields.Integer()
    totalPointsAwarded = fields.Integer()
    means = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        metadata={"description": "The day's mean of every numeric field (null: no value)"},
    )


class SegmentValueSchema(ResponseSchema):
    value = fields.String()
    count = fields.Integer()
    complete = fields.Boolean(
        metadata={"description": "False when some day's bounded lists could not tell"}
    )
    fields_ = fields.Dict(
        attribute="fields",
        data_key="fields",
        keys=fields.String(),
        values=fields.Raw(),
        metadata={"description": "Numeric field: {count, mean, min, max} over these events"},
    )


class SegmentsSchema(ResponseSchema):
    field = fields.String(
        allow_none=True, metadata={"description": "The categorical field segmented by"}
    )
    values = fields.List(fields.Nested(SegmentValueSchema))


class MetadataReportSchema(ResponseSchema):
    eventId = fields.String()
    window = fields.String(metadata={"example": "30d"})
    first = fields.String(attribute="from", data_key="from", allow_none=True)
    last = fields.String(attribute="to", data_key="to", allow_none=True)
    count = fields.Integer(metadata={"description": "Events in the window"})
    uniqueUsers = fields.Integer()
    uniqueUsersExact = fields.Boolean()
    pointsAwarded = fields.Integer()
    totalPointsAwarded = fields.Integer()
    fieldsTruncated = fields.Boolean(
        metadata={"description": "Some day held more than 20 fields; the rarest were dropped"}
    )
    fields_ = fields.Dict(
        attribute="fields",
        data_key="fields",
        keys=fields.String(),
        values=fields.Raw(),
        metadata={
            "description": "Per metadata field: type (numeric, categorical, boolean, mixed, "
            "empty), count, missing, types; numeric: min, max, mean, std, p50, p90, p99, "
            "histogram {edges, counts}; categorical: distinct, top [{value, count}] (20), "
            "otherCount, truncated; boolean: trueCount, falseCount; mixed: one of each kind"
        },
    )
    trend = fields.List(fields.Nested(TrendDaySchema), metadata={"description": "One per day"})
    segments = fields.Nested(SegmentsSchema)
    generatedAt = IsoMillis(metadata=INSTANT)


class RunAcceptedSchema(ResponseSchema):
    job = fields.String(metadata={"example": "report-run"})
    project = fields.String(metadata={"example": "demo"})
    status = fields.String(metadata={"example": "queued"})


class ExportSchema(ResponseSchema):
    name = fields.String(metadata={"example": "demo-20261126T000000Z.csv"})
    size = fields.Integer(metadata={"description": "Bytes"})
    createdAt = IsoMillis(attribute="created_at", metadata=INSTANT)


class ExportListSchema(ResponseSchema):
    items = fields.List(fields.Nested(ExportSchema), metadata={"description": "Newest first"})


class LevelPopulationSchema(ResponseSchema):
    level = fields.Integer(metadata={"description": "0: below the first level"})
    name = fields.String(allow_none=True)
    minPoints = fields.Integer()
    users = fields.Integer(metadata={"description": "Users whose lifetime points place them here"})


class PopulationSchema(ResponseSchema):
    users = fields.Integer(metadata={"description": "All of the project's users"})
    active = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "Users whose latest event lies in the last 7 / 30 days",
            "example": {"7d": 120, "30d": 410},
        },
    )
    levels = fields.List(fields.Nested(LevelPopulationSchema))
