"""Breakdowns (docs/api.md#insights): one metadata field's values over a window, with their count,
unique users and the figures of a numeric field, merged from the window's insight days
(reports.insights.days): one document per day, never an event.

What is exact and what is not (`approximate` names the figures that are not):
- the window's event count, and so `count` of every item and `otherCount`, unless some day
  could not list all of its values for `by` (more than reports.insights.days.VALUE_LIMIT values, or
  cut to fit its size budget, or `by` was among a day's dropped fields): items' counts are
  then lower bounds and `otherCount` absorbs the rest ("count", "otherCount"), and their users
  and figures cover the days that listed them ("uniqueUsers", "stats");
- `uniqueUsers`: the union of the days' user hashes (reports.insights.hashes), exact unless a day
  had to drop them ("uniqueUsers");
- stats: count, min, max exact; mean to float rounding; p50 and p90 from the merged quantile
  sketches (within 1 % of the value at their rank, reports.sketch): always listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reports.analytics.fields import sharpen
from reports.insights.days import merge_packed, value_order
from reports.insights.hashes import Hashes, from_binary, union
from reports.moments import Moments, merge_moments

STAT_QUANTILES = {"p50": 0.5, "p90": 0.9}


@dataclass
class _Item:
    value: Any
    count: int = 0
    users: list[Hashes] = field(default_factory=list)
    users_missing: bool = False
    numbers: list[Mapping[str, Any]] = field(default_factory=list)
    sketches_missing: bool = False

    def add(self, entry: Mapping[str, Any], numeric_field: str | None) -> None:
        """Count one day's entry of this value: its events, users and numbers."""
        self.count += entry["count"]
        if entry["users"] is None:
            self.users_missing = True
        else:
            self.users.append(from_binary(entry["users"]))
        if numeric_field is not None and numeric_field in entry["numbers"]:
            numbers = entry["numbers"][numeric_field]
            self.numbers.append(numbers)
            self.sketches_missing = self.sketches_missing or numbers["sketch"] is None


def breakdown(
    days: Sequence[Mapping[str, Any]], by: str, numeric_field: str | None, limit: int
) -> dict[str, Any]:
    """{items, otherCount, approximate} of `by` over the insight days of one eventId (one per
    day of the window; days without events have none)."""
    items: dict[tuple[int, Any], _Item] = {}
    total = 0
    incomplete_days = 0  # days whose values of `by` are not all listed
    for day in days:
        total += day["count"]
        listing = day["fields"].get(by)
        if listing is None:
            if day["droppedFields"]:  # `by` may be one of them: the day cannot tell
                incomplete_days += 1
                continue
            # No event of the day holds `by`: all of them are its null item.
            entries = [
                {
                    "value": None,
                    "count": day["count"],
                    "users": day["users"],
                    "numbers": day["numbers"],
                }
            ]
        else:
            entries = listing["values"]
            incomplete_days += bool(listing["truncated"])
        for entry in entries:
            item = items.setdefault(value_order(entry["value"]), _Item(entry["value"]))
            item.add(entry, numeric_field)
    ranked = sorted(items.values(), key=lambda i: (-i.count, value_order(i.value)))[:limit]
    return {
        "items": [
            {
                "value": item.value,
                "count": item.count,
                "uniqueUsers": len(union(item.users)),
                "stats": None if numeric_field is None else numeric_stats(item.numbers),
            }
            for item in ranked
        ],
        "otherCount": total - sum(item.count for item in ranked),
        "approximate": _approximate(incomplete_days > 0, ranked, numeric_field),
    }


def _approximate(incomplete: bool, ranked: Sequence[_Item], numeric_field: str | None) -> list[str]:
    """The figures of a breakdown that are not exact (module docstring): `incomplete` when some
    day could not list all of its values of `by`."""
    approximate = []
    if incomplete:
        approximate += ["count", "otherCount"]
    if incomplete or any(item.users_missing for item in ranked):
        approximate.append("uniqueUsers")
    if numeric_field is not None:
        if incomplete:
            approximate.append("stats")
        approximate += list(STAT_QUANTILES)
    return approximate


def numeric_stats(days: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """{count, mean, min, max, p50, p90} over the numeric documents of the item's days."""
    moments = merge_moments(Moments(d["count"], d["sum"], d["m2"]) for d in days)
    if not moments.count:
        return {"count": 0, "mean": None, "min": None, "max": None, "p50": None, "p90": None}
    integer = all(d["integer"] for d in days)
    as_number = int if integer else float
    low = as_number(min(d["min"] for d in days))
    high = as_number(max(d["max"] for d in days))
    sketch = merge_packed(d["sketch"] for d in days if d["sketch"] is not None)
    quantiles: dict[str, Any] = {}
    for name, q in STAT_QUANTILES.items():
        estimate = sketch.quantile(q)
        quantiles[name] = (
            None if estimate is None else sharpen(estimate, low, high, integer, sketch.alpha)
        )
    return {"count": moments.count, "mean": moments.mean, "min": low, "max": high, **quantiles}
