"""Day partials: what one UTC day of one (project, eventId) contributes to every report.

A partial is recomputed whole from that day's events (a late event re-aggregates its day) and
reports merge partials (reports.analytics.merge), so a run costs in proportion to the days that
changed. Partials are plain BSON-clean documents: str-keyed dicts (keys are field names, which are
[A-Za-z0-9_]), lists, str, int, float, bool and None; categorical values are list items, never
keys. Every part is bounded, and the whole partial by its encoded size (reports.bounds): a
partial whose BSON passes DOCUMENT_BUDGET keeps fewer categorical and segment values (halving;
cut counts go to `otherCount`, `truncated` says so), then its users as a sketch. (Counts alone
did not bound it: 20 fields of 1,000 distinct 256-character CJK values are 15 MB of UTF-8.)

- users: sorted distinct ids up to 10,000, else a HyperLogLog sketch (reports.analytics.uniques);
- fields: the FIELD_LIMIT fields with the most non-null values; `droppedFields` counts the rest;
- categorical values: the CATEGORY_LIMIT most frequent (ties by value), the rest summed in
  `otherCount`, with `truncated` set when any was cut;
- segments: for the SEGMENT_FIELD_LIMIT categorical fields with the most values, the
  SEGMENT_VALUE_LIMIT most frequent values, with the numeric fields of their events.

Shape (`version` 1):
    {version, project, eventId, day, count, users: {count, ids, sketch},
     pointsAwarded, totalPointsAwarded, droppedFields,
     fields: {name: {types: {numeric, string, boolean, null}, missing,
                     numeric: {count, integer, sum, m2, min, max, sketch} | None,
                     categorical: {count, values: [{value, count}], otherCount, truncated} | None,
                     boolean: {trueCount, falseCount} | None}},
     segments: [{field, truncated, values: [{value, count,
                                             fields: {name: {count, integer, sum, m2,
                                                             min, max}}}]}]}
`missing` counts the day's events without the field or with null; numeric `m2` is the sum of
squared deviations from the day's mean (reports.moments); `sketch` is reports.sketch's document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from reports.analytics import aggregates
from reports.analytics.frames import DAY_KEYS, KINDS, EventFrames, read_events
from reports.analytics.uniques import day_users, registers_of
from reports.bounds import DOCUMENT_BUDGET, DocumentTooLarge, clamp_int, encoded_size
from reports.sketch import QuantileSketch

PARTIAL_VERSION = 1
FIELD_LIMIT = 20
CATEGORY_LIMIT = 1000
SEGMENT_FIELD_LIMIT = 5
SEGMENT_VALUE_LIMIT = 50

DayKey = tuple[str, str, str]  # project, eventId, day
FieldLookup = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]
FIELD_KEYS = [*DAY_KEYS, "field"]


def day_partials(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One partial per (project, eventId, UTC day) of `records`, sorted by those keys.

    Give it every event of each day it should (re)compute: a partial replaces the stored one."""
    return partials_of(read_events(records))


def partials_of(frames: EventFrames) -> list[dict[str, Any]]:
    events, values = frames.events, frames.values
    if events.empty:
        return []
    grouped = events.groupby(DAY_KEYS, sort=True)
    totals = grouped[["pointsAwarded", "totalPointsAwarded"]].sum()
    totals["count"] = grouped.size()
    totals["users"] = grouped["userId"].unique()
    days = {_day_key(row): row for row in aggregates.rows(totals.reset_index())}
    value_counts = aggregates.ranked_value_counts(values, FIELD_KEYS)
    fields, dropped = _fields(values, value_counts, {key: d["count"] for key, d in days.items()})
    segments = _segments(values, value_counts, fields)
    return [
        fit_partial(
            {
                "version": PARTIAL_VERSION,
                "project": key[0],
                "eventId": key[1],
                "day": key[2],
                "count": int(row["count"]),
                "users": day_users(str(u) for u in row["users"]),
                "pointsAwarded": int(row["pointsAwarded"]),
                "totalPointsAwarded": int(row["totalPointsAwarded"]),
                "droppedFields": dropped.get(key, 0),
                "fields": fields.get(key, {}),
                "segments": segments.get(key, []),
            }
        )
        for key, row in days.items()
    ]


def fit_partial(partial: dict[str, Any]) -> dict[str, Any]:
    """`partial` cut until its BSON fits DOCUMENT_BUDGET (see the module docstring)."""
    if encoded_size(partial) <= DOCUMENT_BUDGET:
        return partial
    listings = [f["categorical"] for f in partial["fields"].values() if f["categorical"]]
    keep = max([len(c["values"]) for c in listings] + [SEGMENT_VALUE_LIMIT])
    while keep > 1 and encoded_size(partial) > DOCUMENT_BUDGET:
        keep //= 2
        for categorical in listings:
            cut = categorical["values"][keep:]
            if cut:
                categorical["values"] = categorical["values"][:keep]
                categorical["otherCount"] += sum(item["count"] for item in cut)
                categorical["truncated"] = True
        for segment in partial["segments"]:
            if len(segment["values"]) > keep:
                segment["values"] = segment["values"][:keep]
                segment["truncated"] = True
    users = partial["users"]
    if encoded_size(partial) > DOCUMENT_BUDGET and users["ids"] is not None:
        partial["users"] = {**users, "ids": None, "sketch": bytes(registers_of(users["ids"])).hex()}
    if encoded_size(partial) > DOCUMENT_BUDGET:
        raise DocumentTooLarge(f"the partial of {partial['eventId']} on {partial['day']}")
    return partial


def _day_key(row: Mapping[str, Any]) -> DayKey:
    return (row["project"], row["eventId"], row["day"])


def _fields(
    values: pd.DataFrame, value_counts: pd.DataFrame, event_counts: Mapping[DayKey, int]
) -> tuple[dict[DayKey, dict[str, dict[str, Any]]], dict[DayKey, int]]:
    """The field documents of each day, limited to FIELD_LIMIT, and how many were dropped."""
    fields: dict[DayKey, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in aggregates.rows(aggregates.type_tally(values, FIELD_KEYS)):
        doc = fields[_day_key(row)].setdefault(row["field"], _empty_field())
        doc["types"][row["kind"]] = int(row["size"])
    dropped: dict[DayKey, int] = {}
    for key, docs in fields.items():
        for doc in docs.values():
            present = sum(n for kind, n in doc["types"].items() if kind != "null")
            doc["missing"] = int(event_counts[key]) - present
        if len(docs) > FIELD_LIMIT:
            ranked = sorted(docs, key=lambda name: (docs[name]["missing"], name))
            fields[key] = {name: docs[name] for name in sorted(ranked[:FIELD_LIMIT])}
            dropped[key] = len(docs) - FIELD_LIMIT
        else:
            fields[key] = dict(sorted(docs.items()))

    def field_doc(row: Mapping[str, Any]) -> dict[str, Any] | None:
        return fields.get(_day_key(row), {}).get(row["field"])

    _add_numeric(values, field_doc)
    _add_categorical(value_counts, field_doc)
    _add_boolean(values, field_doc)
    return dict(fields), dropped


def _empty_field() -> dict[str, Any]:
    return {
        "types": dict.fromkeys(KINDS, 0),
        "missing": 0,
        "numeric": None,
        "categorical": None,
        "boolean": None,
    }


def _add_numeric(values: pd.DataFrame, field_doc: FieldLookup) -> None:
    buckets: dict[tuple[str, ...], dict[int, dict[int, int]]] = defaultdict(
        lambda: {-1: {}, 0: {}, 1: {}}
    )
    for row in aggregates.rows(aggregates.sketch_buckets(values, FIELD_KEYS)):
        group = (row["project"], row["eventId"], row["day"], row["field"])
        buckets[group][row["sign"]][row["bucket"]] = row["size"]
    for row in aggregates.rows(aggregates.numeric_stats(values, FIELD_KEYS)):
        if (doc := field_doc(row)) is None:
            continue
        signs = buckets[(row["project"], row["eventId"], row["day"], row["field"])]
        sketch = QuantileSketch.from_buckets(sum(signs[0].values()), signs[1], signs[-1])
        doc["numeric"] = {**numeric_document(row), "sketch": sketch.to_document()}


def numeric_document(row: Mapping[str, Any]) -> dict[str, Any]:
    """{count, integer, sum, m2, min, max} of a numeric_stats row; min and max are ints when
    every value was an int (exact below 2^53, where float64 stops holding every integer, and
    clamped to int64 beyond: 2^63 - 1 comes back from float64 as 2^63, which BSON cannot hold)."""
    as_number = clamp_int if row["integer"] else float
    return {
        "count": int(row["count"]),
        "integer": bool(row["integer"]),
        "sum": float(row["sum"]),
        "m2": float(row["m2"]),
        "min": as_number(row["min"]),
        "max": as_number(row["max"]),
    }


def _add_boolean(values: pd.DataFrame, field_doc: FieldLookup) -> None:
    for row in aggregates.rows(aggregates.boolean_counts(values, FIELD_KEYS)):
        if (doc := field_doc(row)) is not None:
            doc["boolean"] = {"trueCount": row["trueCount"], "falseCount": row["falseCount"]}


def _add_categorical(value_counts: pd.DataFrame, field_doc: FieldLookup) -> None:
    for row in aggregates.rows(value_counts):
        if (doc := field_doc(row)) is None:
            continue
        if doc["categorical"] is None:
            doc["categorical"] = {"count": 0, "values": [], "otherCount": 0, "truncated": False}
        categorical = doc["categorical"]
        categorical["count"] += row["count"]
        if row["rank"] < CATEGORY_LIMIT:
            categorical["values"].append({"value": row["text"], "count": row["count"]})
        else:
            categorical["otherCount"] += row["count"]
            categorical["truncated"] = True


def _segments(
    values: pd.DataFrame,
    value_counts: pd.DataFrame,
    fields: Mapping[DayKey, Mapping[str, Mapping[str, Any]]],
) -> dict[DayKey, list[dict[str, Any]]]:
    """Per day, the segment documents of its SEGMENT_FIELD_LIMIT busiest categorical fields."""
    chosen: set[tuple[str, ...]] = set()
    for key, docs in fields.items():
        counted = [(-d["categorical"]["count"], n) for n, d in docs.items() if d["categorical"]]
        chosen.update((*key, name) for _, name in sorted(counted)[:SEGMENT_FIELD_LIMIT])
    groups = list(value_counts[FIELD_KEYS].itertuples(index=False, name=None))
    counts = value_counts[pd.Series([g in chosen for g in groups], dtype=bool).to_numpy()]
    over = counts["rank"] >= SEGMENT_VALUE_LIMIT
    truncated = set(counts.loc[over, FIELD_KEYS].itertuples(index=False, name=None))
    top = counts[~over].rename(columns={"field": "segment"})

    segments: dict[tuple[str, ...], dict[str, Any]] = {}
    entries: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in aggregates.rows(top):
        segment = (row["project"], row["eventId"], row["day"], row["segment"])
        if segment not in segments:
            segments[segment] = {
                "field": row["segment"],
                "truncated": segment in truncated,
                "values": [],
            }
        entry = {"value": row["text"], "count": row["count"], "fields": {}}
        segments[segment]["values"].append(entry)
        entries[(*segment, row["text"])] = entry
    for row in aggregates.rows(aggregates.segment_stats(values, DAY_KEYS, top)):
        key = (row["project"], row["eventId"], row["day"])
        if row["field"] in fields.get(key, {}):
            entry = entries[(*key, row["segment"], row["text"])]
            entry["fields"][row["field"]] = numeric_document(row)
    by_day: dict[DayKey, list[dict[str, Any]]] = defaultdict(list)
    for project, event_id, day, name in sorted(segments):
        by_day[(project, event_id, day)].append(segments[(project, event_id, day, name)])
    return dict(by_day)
