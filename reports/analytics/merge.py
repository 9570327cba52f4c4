"""Reports from day partials (reports.analytics.partials): the metadata report of one eventId over a
window, and the per-eventId totals of GET /analytics/events
(docs/architecture.md#analytics-and-insights).

Merging is exact where the partials are: counts, sums, min, max, mean and std of a window equal
those of all its events at once (to float rounding); quantiles carry the sketch's bound; unique
users are exact while every day kept its ids (`uniqueUsersExact`); categorical counts are exact
unless a day cut them (`truncated`). Reports are BSON-clean, like the partials.

Report:
    {project, eventId, from, to, count, uniqueUsers, uniqueUsersExact, pointsAwarded,
     totalPointsAwarded, fieldsTruncated, fields: {name: field report (reports.analytics.fields)},
     trend: [{day, count, uniqueUsers, pointsAwarded, totalPointsAwarded,
              means: {numeric field: mean or None}}],
     segments: {field, values: [...]} (reports.analytics.segments)}
`fieldsTruncated` is set when some day dropped fields over reports.analytics.partials.FIELD_LIMIT
(such a field's missing count then includes that day's events), or when the window held more than
REPORT_FIELD_LIMIT fields: the report keeps those with the most values (ties by name). The
trend's `means` cover the TREND_MEAN_FIELDS numeric fields with the most values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reports.analytics.fields import field_report
from reports.analytics.segments import numeric_fields, segment_report
from reports.analytics.uniques import count_users

# Bounds that keep the report of a long window (all) storable whatever the field names:
# dynamic names (a new one a day) would otherwise add a field report, and a mean to every
# day of the trend, each day, until the report passes MongoDB's 16 MiB.
REPORT_FIELD_LIMIT = 100
TREND_MEAN_FIELDS = 20


class PartialMismatch(ValueError):
    """Partials that cannot be merged: another project or eventId, or one day twice."""


def window_report(
    project: str,
    event_id: str,
    partials: Iterable[Mapping[str, Any]],
    days: Sequence[str] | None = None,
    segment_field: str | None = None,
) -> dict[str, Any]:
    """The metadata report of `event_id` over `days` ('YYYY-MM-DD', e.g. from
    reports.windows.window_days), from its day partials; partials of other days are ignored.
    Without `days`, the window is the days of the partials. The trend has one entry per day of
    the window, zeros where no partial exists."""
    chosen = _one_per_day(partials, days)
    for partial in chosen:
        if (partial["project"], partial["eventId"]) != (project, event_id):
            raise PartialMismatch(f"a partial of {partial['project']}/{partial['eventId']}")
    window = sorted(days) if days is not None else [p["day"] for p in chosen]
    count = sum(p["count"] for p in chosen)
    unique_users, exact = count_users(p["users"] for p in chosen)
    by_field: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for partial in chosen:
        for name, doc in partial["fields"].items():
            by_field[name].append(doc)
    busiest = sorted(by_field, key=lambda name: (-_values(by_field[name]), name))
    kept = sorted(busiest[:REPORT_FIELD_LIMIT])
    fields = {name: field_report(by_field[name], count) for name in kept}
    measured = [n for n in busiest if n in set(numeric_fields(fields))][:TREND_MEAN_FIELDS]
    return {
        "project": project,
        "eventId": event_id,
        "from": window[0] if window else None,
        "to": window[-1] if window else None,
        "count": count,
        "uniqueUsers": unique_users,
        "uniqueUsersExact": exact,
        "pointsAwarded": sum(p["pointsAwarded"] for p in chosen),
        "totalPointsAwarded": sum(p["totalPointsAwarded"] for p in chosen),
        "fieldsTruncated": len(by_field) > len(kept) or any(p["droppedFields"] for p in chosen),
        "fields": fields,
        "trend": _trend(chosen, window, sorted(measured)),
        "segments": segment_report(chosen, fields, segment_field),
    }


def _values(days: Iterable[Mapping[str, Any]]) -> int:
    """The non-null values a field held over the window."""
    return sum(n for day in days for kind, n in day["types"].items() if kind != "null")


def event_summaries(
    partials: Iterable[Mapping[str, Any]], days: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """[{eventId, count, uniqueUsers, uniqueUsersExact, pointsAwarded, totalPointsAwarded}] by
    eventId, over the partials of one project (of `days` only, when given)."""
    by_event: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for partial in partials:
        by_event[partial["eventId"]].append(partial)
    summaries = []
    for event_id, group in sorted(by_event.items()):
        chosen = _one_per_day(group, days)
        if not chosen:
            continue
        unique_users, exact = count_users(p["users"] for p in chosen)
        summaries.append(
            {
                "eventId": event_id,
                "count": sum(p["count"] for p in chosen),
                "uniqueUsers": unique_users,
                "uniqueUsersExact": exact,
                "pointsAwarded": sum(p["pointsAwarded"] for p in chosen),
                "totalPointsAwarded": sum(p["totalPointsAwarded"] for p in chosen),
            }
        )
    return summaries


def _one_per_day(
    partials: Iterable[Mapping[str, Any]], days: Sequence[str] | None
) -> list[Mapping[str, Any]]:
    wanted = set(days) if days is not None else None
    chosen: dict[str, Mapping[str, Any]] = {}
    for partial in partials:
        day = partial["day"]
        if wanted is not None and day not in wanted:
            continue
        if day in chosen:
            raise PartialMismatch(f"two partials for {partial['eventId']} on {day}")
        chosen[day] = partial
    return [chosen[day] for day in sorted(chosen)]


def _trend(
    partials: Sequence[Mapping[str, Any]], window: Sequence[str], measured: Sequence[str]
) -> list[dict[str, Any]]:
    by_day = {p["day"]: p for p in partials}
    trend = []
    for day in window:
        partial = by_day.get(day)
        fields = partial["fields"] if partial else {}
        means = {}
        for name in measured:
            numeric = fields[name]["numeric"] if name in fields else None
            means[name] = numeric["sum"] / numeric["count"] if numeric else None
        trend.append(
            {
                "day": day,
                "count": partial["count"] if partial else 0,
                "uniqueUsers": partial["users"]["count"] if partial else 0,
                "pointsAwarded": partial["pointsAwarded"] if partial else 0,
                "totalPointsAwarded": partial["totalPointsAwarded"] if partial else 0,
                "means": means,
            }
        )
    return trend
