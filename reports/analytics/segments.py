"""Segments over a window: the numeric fields broken down by the top values of one categorical
field (docs/architecture.md#analytics-and-insights), merged from the day partials' `segments`
(reports.analytics.partials).

The field is the caller's choice, by default the one with the most string values (ties by
name). Its SEGMENT_VALUES most frequent values each get {value, count, complete, fields}, where
`fields` gives every numeric field's {count, mean, min, max} over the events with that value.
`complete` is false when some day's partial could not say what those events held (the value
fell outside a day's bounded segment lists), so the stats then cover only part of the window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reports.moments import Moments, merge_moments

SEGMENT_VALUES = 10


def categorical_part(field: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if field["type"] == "categorical":
        return field
    if field["type"] == "mixed":
        part: Mapping[str, Any] | None = field.get("categorical")
        return part
    return None


def numeric_fields(fields: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The fields that held numbers in the window (numeric, or mixed with numbers)."""
    return [
        name
        for name, field in fields.items()
        if field["type"] == "numeric" or (field["type"] == "mixed" and "numeric" in field)
    ]


def default_segment_field(fields: Mapping[str, Mapping[str, Any]]) -> str | None:
    counted = [
        (-part["count"], name)
        for name, field in fields.items()
        if (part := categorical_part(field)) is not None
    ]
    return min(counted)[1] if counted else None


def segment_report(
    partials: Sequence[Mapping[str, Any]],
    fields: Mapping[str, Mapping[str, Any]],
    segment_field: str | None = None,
) -> dict[str, Any]:
    """{field, values: [...]}; field is None (and values empty) when no field holds strings."""
    name = segment_field if segment_field is not None else default_segment_field(fields)
    part = categorical_part(fields[name]) if name is not None and name in fields else None
    if name is None or part is None:
        return {"field": name, "values": []}
    measured = numeric_fields(fields)
    values = []
    for top in part["top"][:SEGMENT_VALUES]:
        stats: dict[str, list[Mapping[str, Any]]] = {field: [] for field in measured}
        complete = True
        for partial in partials:
            entry = _segment_entry(partial, name, top["value"])
            complete = complete and entry is not None
            for field, doc in (entry or {}).items():
                if field in stats:
                    stats[field].append(doc)
        values.append(
            {
                "value": top["value"],
                "count": top["count"],
                "complete": complete,
                "fields": {field: _numeric_summary(docs) for field, docs in stats.items()},
            }
        )
    return {"field": name, "values": values}


def _segment_entry(
    partial: Mapping[str, Any], name: str, value: str
) -> Mapping[str, Mapping[str, Any]] | None:
    """The day's numeric stats of the events where `name` is `value` ({} when the day had none
    of them), or None when the day's partial cannot tell."""
    field = partial["fields"].get(name)
    if field is None:  # no value of the field that day, unless it was one of the dropped ones
        return {} if partial["droppedFields"] == 0 else None
    categorical = field["categorical"]
    if categorical is None:
        return {}
    listed = any(item["value"] == value for item in categorical["values"])
    segment = next((s for s in partial["segments"] if s["field"] == name), None)
    if segment is not None:
        entry = next((e for e in segment["values"] if e["value"] == value), None)
        if entry is not None:
            fields: Mapping[str, Mapping[str, Any]] = entry["fields"]
            return fields
        if not segment["truncated"]:
            return {}
    return {} if not listed and not categorical["truncated"] else None


def _numeric_summary(docs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    moments = merge_moments(Moments(d["count"], d["sum"], d["m2"]) for d in docs)
    if not docs:
        return {"count": 0, "mean": None, "min": None, "max": None}
    as_number = int if all(d["integer"] for d in docs) else float
    return {
        "count": moments.count,
        "mean": moments.mean,
        "min": as_number(min(d["min"] for d in docs)),
        "max": as_number(max(d["max"] for d in docs)),
    }
