"""One metadata field over a window: its day documents (reports.analytics.partials) merged into the
report of docs/architecture.md#analytics-and-insights.

`type` is numeric, categorical (strings), boolean, `mixed` when values of more than one of those
kinds were seen, or `empty` when the field only ever held null. Every field report has `count`
(non-null values), `missing` (events without the field or with null) and the `types` tally; a
mixed field also carries one sub-report per kind it holds (`numeric`, `categorical`,
`boolean`), each with its own count and missing.

- numeric: min, max, mean, std (sample, ddof = 1, None below two values; reports.moments),
  p50/p90/p99 from the quantile sketch (within alpha |x| of the value x at rank
  max(1, ceil(q n)), alpha = 1 %; reports.sketch), clamped to [min, max], and exact for a field
  of integers below 50 in magnitude; and `histogram` {edges, counts}.
- categorical: distinct, top (TOP_VALUES by count, then value), otherCount = count - top, and
  `truncated` when some day cut its values at reports.analytics.partials.CATEGORY_LIMIT: distinct
  and the top counts are then lower bounds (otherCount absorbs the difference, so totals stay
  exact).
- boolean: trueCount, falseCount.

Histogram: HISTOGRAM_BINS equal bins from min to max (numpy.histogram's convention: each bin
holds [left, right), the last one [left, right]); for a field of integers, bins of a whole
width with edges at half-integers, so no integer sits on an edge. The counts are derived from
the sketch: each value is counted in the bin of its sketch estimate, so a value within
alpha |value| of an edge may be counted in the adjacent bin (never so for integers below 50 in
magnitude, whose estimates are exact). The counts add up to `count`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from reports.analytics.frames import BOOLEAN, NUMERIC, STRING
from reports.moments import Moments, merge_moments
from reports.sketch import QuantileSketch

TOP_VALUES = 20
HISTOGRAM_BINS = 20
QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
_TYPES = {NUMERIC: "numeric", STRING: "categorical", BOOLEAN: "boolean"}


def field_report(days: Sequence[Mapping[str, Any]], events: int) -> dict[str, Any]:
    """The report of one field from its day documents; `events` counts the window's events."""
    types = Counter[str]()
    for day in days:
        types.update(day["types"])
    parts: dict[str, dict[str, Any]] = {}
    if types[NUMERIC]:
        parts[NUMERIC] = numeric_report([d["numeric"] for d in days if d["numeric"]], events)
    if types[STRING]:
        parts[STRING] = categorical_report(
            [d["categorical"] for d in days if d["categorical"]], events
        )
    if types[BOOLEAN]:
        parts[BOOLEAN] = boolean_report([d["boolean"] for d in days if d["boolean"]], events)
    count = sum(part["count"] for part in parts.values())
    common = {"count": count, "missing": events - count, "types": dict(sorted(types.items()))}
    if not parts:
        return {"type": "empty", **common}
    if len(parts) == 1:
        (part,) = parts.values()
        return {**part, **common}
    return {"type": "mixed", **common, **{_TYPES[kind]: part for kind, part in parts.items()}}


def numeric_report(days: Sequence[Mapping[str, Any]], events: int) -> dict[str, Any]:
    moments = merge_moments(Moments(d["count"], d["sum"], d["m2"]) for d in days)
    sketch = QuantileSketch()
    for day in days:
        sketch = sketch.merge(QuantileSketch.from_document(day["sketch"]))
    integer, alpha = all(d["integer"] for d in days), sketch.alpha
    as_number = int if integer else float
    low, high = as_number(min(d["min"] for d in days)), as_number(max(d["max"] for d in days))
    quantiles = {
        name: None if (v := sketch.quantile(q)) is None else sharpen(v, low, high, integer, alpha)
        for name, q in QUANTILES.items()
    }
    return {
        "type": "numeric",
        "count": moments.count,
        "missing": events - moments.count,
        "min": low,
        "max": high,
        "mean": moments.mean,
        "std": moments.std,
        **quantiles,
        "histogram": histogram(sketch, low, high, integer),
    }


def categorical_report(days: Sequence[Mapping[str, Any]], events: int) -> dict[str, Any]:
    counts = Counter[str]()
    for day in days:
        counts.update({item["value"]: item["count"] for item in day["values"]})
    count = sum(d["count"] for d in days)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_VALUES]
    return {
        "type": "categorical",
        "count": count,
        "missing": events - count,
        "distinct": len(counts),
        "top": [{"value": value, "count": n} for value, n in top],
        "otherCount": count - sum(n for _, n in top),
        "truncated": any(d["truncated"] for d in days),
    }


def boolean_report(days: Sequence[Mapping[str, Any]], events: int) -> dict[str, Any]:
    true, false = sum(d["trueCount"] for d in days), sum(d["falseCount"] for d in days)
    return {
        "type": "boolean",
        "count": true + false,
        "missing": events - true - false,
        "trueCount": true,
        "falseCount": false,
    }


def histogram_edges(low: float, high: float, integer: bool) -> list[float]:
    if low == high:
        return [float(low), float(high)]
    if integer:
        values = int(high) - int(low) + 1
        width = math.ceil(values / HISTOGRAM_BINS)
        bins = math.ceil(values / width)
        return [low - 0.5 + i * width for i in range(bins + 1)]
    edges: list[float] = np.linspace(low, high, HISTOGRAM_BINS + 1).tolist()
    return edges


def histogram(sketch: QuantileSketch, low: float, high: float, integer: bool) -> dict[str, Any]:
    edges = histogram_edges(low, high, integer)
    counts = [0] * (len(edges) - 1)
    for value, count in sketch.buckets():
        bin_index = bisect_right(edges, sharpen(value, low, high, integer, sketch.alpha)) - 1
        counts[min(max(bin_index, 0), len(counts) - 1)] += count
    return {"edges": edges, "counts": counts}


def sharpen(value: float, low: float, high: float, integer: bool, alpha: float) -> float:
    """A sketch answer made sharper: clamped to [min, max], which only moves it towards the
    value it stands for, and, for a field of integers, the integer itself when exactly one
    integer n has |value - n| <= alpha |n| (always so below 50 in magnitude for alpha = 1 %)."""
    if not low < value < high:
        return low if value <= low else high  # a value of the sample, exactly
    exact = _only_integer_near(value, alpha) if integer else None
    return float(value) if exact is None else exact


def _only_integer_near(value: float, alpha: float) -> int | None:
    slack = alpha * (1 + 1e-9)  # the sketch's own floating-point rounding
    magnitude = abs(value)
    first, last = math.ceil(magnitude / (1 + slack)), math.floor(magnitude / (1 - slack))
    if first != last:
        return None
    return first if value >= 0 else -first
