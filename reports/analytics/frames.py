"""Event records, as rules/stores/eventlog.py stores them, into two pandas frames.

`events` has one row per event; `values` one row per metadata field of an event, in long form,
so every per-field statistic is a groupby. Records are read in one pass, so a MongoDB cursor
(with EVENT_PROJECTION, batch by batch) is never held in memory as documents.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reports.windows import day_key
from rules.engine.conditions import METADATA_KEY

# What to ask MongoDB for: the rest of an event record is not read.
EVENT_PROJECTION: dict[str, int] = {
    "_id": 1,  # the funnels' tie-break (reports.insights.timelines)
    "project": 1,
    "eventId": 1,
    "userId": 1,
    "timestamp": 1,
    "metadata": 1,
    "outcome.pointsAwarded": 1,
    "outcome.totalPointsAwarded": 1,
}
DAY_KEYS = ["project", "eventId", "day"]

NUMERIC, STRING, BOOLEAN, NULL = "numeric", "string", "boolean", "null"
KINDS = (NUMERIC, STRING, BOOLEAN, NULL)


@dataclass(frozen=True)
class EventFrames:
    # project, eventId, day, userId, pointsAwarded, totalPointsAwarded
    events: pd.DataFrame
    # row (of events), project, eventId, day, field, kind, number, integer, text; `number` is the
    # value of a numeric field (1.0 / 0.0 for a boolean), `text` that of a string one.
    values: pd.DataFrame


def value_kind(value: Any) -> str:
    """numeric, string, boolean or null. Values the API never accepts (non-finite numbers,
    objects, arrays) count as null, i.e. missing."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return NUMERIC
    if isinstance(value, float):
        return NUMERIC if math.isfinite(value) else NULL
    if isinstance(value, str):
        return STRING
    return NULL


def read_events(records: Iterable[Mapping[str, Any]]) -> EventFrames:
    """Frames of `records`. Metadata fields whose names the API would refuse (not 1-64 of
    [A-Za-z0-9_]) are skipped: they could not be BSON keys of a partial."""
    event_columns: dict[str, list[Any]] = {
        "project": [],
        "eventId": [],
        "day": [],
        "userId": [],
        "pointsAwarded": [],
        "totalPointsAwarded": [],
    }
    value_columns: dict[str, list[Any]] = {
        "row": [],
        "field": [],
        "kind": [],
        "number": [],
        "integer": [],
        "text": [],
    }
    for row, record in enumerate(records):
        outcome = record.get("outcome") or {}
        event_columns["project"].append(str(record["project"]))
        event_columns["eventId"].append(str(record["eventId"]))
        event_columns["day"].append(day_key(record["timestamp"]))
        event_columns["userId"].append(str(record["userId"]))
        event_columns["pointsAwarded"].append(int(outcome.get("pointsAwarded") or 0))
        event_columns["totalPointsAwarded"].append(int(outcome.get("totalPointsAwarded") or 0))
        for name, value in (record.get("metadata") or {}).items():
            if not isinstance(name, str) or not METADATA_KEY.fullmatch(name):
                continue
            kind = value_kind(value)
            value_columns["row"].append(row)
            value_columns["field"].append(name)
            value_columns["kind"].append(kind)
            value_columns["number"].append(float(value) if kind in (NUMERIC, BOOLEAN) else math.nan)
            value_columns["integer"].append(kind == NUMERIC and isinstance(value, int))
            value_columns["text"].append(value if kind == STRING else None)
    events = pd.DataFrame(
        {
            "project": pd.Series(event_columns["project"], dtype="str"),
            "eventId": pd.Series(event_columns["eventId"], dtype="str"),
            "day": pd.Series(event_columns["day"], dtype="str"),
            "userId": pd.Series(event_columns["userId"], dtype="str"),
            "pointsAwarded": pd.Series(event_columns["pointsAwarded"], dtype="int64"),
            "totalPointsAwarded": pd.Series(event_columns["totalPointsAwarded"], dtype="int64"),
        }
    )
    values = pd.DataFrame(
        {
            "row": pd.Series(value_columns["row"], dtype="int64"),
            "field": pd.Series(value_columns["field"], dtype="str"),
            "kind": pd.Series(value_columns["kind"], dtype="str"),
            "number": pd.Series(value_columns["number"], dtype="float64"),
            "integer": pd.Series(value_columns["integer"], dtype="bool"),
            "text": pd.Series(value_columns["text"], dtype="str"),
        }
    )
    keys = events[DAY_KEYS].iloc[values["row"].to_numpy()].reset_index(drop=True)
    return EventFrames(events, pd.concat([keys, values], axis=1))
