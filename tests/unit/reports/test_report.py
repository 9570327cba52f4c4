"""The window report against an independent computation on the raw values (numpy, pandas,
collections), for random and skewed data."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pytest

from reports.analytics.merge import event_summaries, window_report
from reports.analytics.partials import day_partials
from reports.sketch import ALPHA
from tests.unit.reports.factories import PROJECT, assert_bson_clean, day_of, record

DAYS = 5
PLATFORMS = ["ios", "android", "web", "tv", "watch"]
QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}


DATASETS = [
    "uniform",
    "lognormal",
    "heavy-ties",
    "signs-and-zeros",
    "large-offset",
    "small-integers",
]


def skewed(name: str, n: int) -> list[Any]:
    rng = np.random.default_rng(DATASETS.index(name))
    if name == "uniform":
        return rng.uniform(-1000, 1000, n).tolist()
    if name == "lognormal":
        return rng.lognormal(3, 2, n).tolist()
    if name == "heavy-ties":
        return rng.choice([0, 1, 1, 1, 1, 2, 5, 100, -7], n).tolist()
    if name == "signs-and-zeros":
        parts = [np.zeros(n // 4), rng.normal(0, 30, n // 2), -rng.pareto(1.2, n - 3 * (n // 4))]
        return rng.permutation(np.concatenate(parts)).tolist()
    if name == "large-offset":
        return (1e9 + rng.normal(0, 1, n)).tolist()
    if name == "small-integers":
        return rng.integers(-49, 50, n).tolist()
    raise AssertionError(name)


def events_of(values: list[Any]) -> list[dict[str, Any]]:
    """One event per value over DAYS days, with missing and null values, a skewed platform,
    a boolean and points."""
    rng = np.random.default_rng(len(values))
    records = []
    for i, value in enumerate(values):
        metadata: dict[str, Any] = {}
        roll = rng.random()
        if roll >= 0.1:
            metadata["value"] = value
        elif roll >= 0.05:
            metadata["value"] = None
        if rng.random() < 0.9:
            metadata["platform"] = PLATFORMS[min(int(rng.exponential(1.2)), 4)]
        if rng.random() < 0.5:
            metadata["tier"] = rng.choice(["gold", "silver"]).item()
        metadata["gift"] = bool(rng.random() < 0.3)
        records.append(
            record(
                user=f"u{rng.integers(0, 300)}",
                day=i % DAYS,
                seconds=int(rng.integers(0, 86_400)),
                metadata=metadata,
                points=int(rng.integers(0, 20)),
            )
        )
    return records


def raw_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": [r["timestamp"].date().isoformat() for r in records],
            "user": [r["userId"] for r in records],
            "points": [r["outcome"]["pointsAwarded"] for r in records],
            "value": [r["metadata"].get("value") for r in records],
            "platform": [r["metadata"].get("platform") for r in records],
            "gift": [r["metadata"]["gift"] for r in records],
        }
    )


def true_quantile(values: np.ndarray, q: float) -> float:
    ordered = np.sort(values)
    return float(ordered[max(1, math.ceil(Fraction(str(q)) * len(ordered))) - 1])


def report_of(records: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    return window_report(PROJECT, "purchase", day_partials(records), **kwargs)


@pytest.fixture(scope="module", params=DATASETS)
def case(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    records = events_of(skewed(request.param, 3000))
    return request.param, records, report_of(records)


def test_report_is_bson_clean(case: tuple[str, list[dict[str, Any]], dict[str, Any]]) -> None:
    assert_bson_clean(case[2])


def test_numeric_summary_matches_numpy(case: tuple[str, list[Any], dict[str, Any]]) -> None:
    name, records, report = case
    values = np.array(
        [r["metadata"]["value"] for r in records if r["metadata"].get("value") is not None]
    )
    field = report["fields"]["value"]
    assert field["type"] == "numeric"
    assert field["count"] == len(values)
    assert field["missing"] == len(records) - len(values)
    assert (field["min"], field["max"]) == (values.min(), values.max())
    assert math.isclose(field["mean"], float(np.mean(values)), rel_tol=1e-12)
    scale = float(np.max(np.abs(values)))
    assert math.isclose(
        field["std"], float(np.std(values, ddof=1)), rel_tol=1e-9, abs_tol=1e-12 * scale
    )


def test_quantiles_are_within_the_sketch_bound(case: tuple[str, list[Any], dict[str, Any]]) -> None:
    name, records, report = case
    values = np.array(
        [r["metadata"]["value"] for r in records if r["metadata"].get("value") is not None]
    )
    field = report["fields"]["value"]
    for key, q in QUANTILES.items():
        truth = true_quantile(values, q)
        assert abs(field[key] - truth) <= ALPHA * abs(truth) * (1 + 1e-9), (key, field[key], truth)
        if name in ("small-integers", "heavy-ties"):
            assert field[key] == truth and type(field[key]) is int


def test_histogram_counts_add_up_and_err_only_near_edges(
    case: tuple[str, list[Any], dict[str, Any]],
) -> None:
    name, records, report = case
    values = np.array(
        [r["metadata"]["value"] for r in records if r["metadata"].get("value") is not None]
    )
    histogram = report["fields"]["value"]["histogram"]
    edges, counts = np.array(histogram["edges"]), np.array(histogram["counts"])
    assert counts.sum() == len(values)
    assert len(edges) == len(counts) + 1 and np.all(np.diff(edges) > 0)
    assert edges[0] <= values.min() and edges[-1] >= values.max()
    truth, _ = np.histogram(values, bins=edges)
    if name in ("small-integers", "heavy-ties"):
        assert counts.tolist() == truth.tolist()
        return
    for i in range(len(counts)):
        near = np.abs(values[:, None] - edges[None, i : i + 2]) <= ALPHA * np.abs(values[:, None])
        assert abs(counts[i] - truth[i]) <= int(near.any(axis=1).sum()), i


def test_categorical_and_boolean_counts_are_exact(
    case: tuple[str, list[Any], dict[str, Any]],
) -> None:
    _, records, report = case
    raw = raw_frame(records)
    platforms = Counter(r["metadata"]["platform"] for r in records if "platform" in r["metadata"])
    platform = report["fields"]["platform"]
    assert platform["type"] == "categorical" and platform["truncated"] is False
    assert platform["count"] == sum(platforms.values())
    assert platform["missing"] == len(records) - sum(platforms.values())
    assert platform["distinct"] == len(platforms)
    expected = sorted(platforms.items(), key=lambda item: (-item[1], item[0]))
    assert platform["top"] == [{"value": v, "count": n} for v, n in expected]
    assert platform["otherCount"] == 0
    gift = report["fields"]["gift"]
    assert gift["type"] == "boolean"
    assert (gift["trueCount"], gift["falseCount"]) == (
        int(raw["gift"].sum()),
        int((~raw["gift"]).sum()),
    )


def test_totals_and_trend_match_pandas(case: tuple[str, list[Any], dict[str, Any]]) -> None:
    _, records, report = case
    raw = raw_frame(records)
    assert report["count"] == len(raw)
    assert (report["uniqueUsers"], report["uniqueUsersExact"]) == (raw["user"].nunique(), True)
    assert report["pointsAwarded"] == int(raw["points"].sum())
    assert (report["from"], report["to"]) == (day_of(0), day_of(DAYS - 1))
    by_day = raw.groupby("day")
    means = (
        raw.dropna(subset=["value"])
        .groupby("day")["value"]
        .agg(lambda s: np.mean(s.to_numpy(float)))
    )
    assert [t["day"] for t in report["trend"]] == sorted(by_day.groups)
    for entry in report["trend"]:
        day = entry["day"]
        assert entry["count"] == by_day.size()[day]
        assert entry["uniqueUsers"] == by_day["user"].nunique()[day]
        assert entry["pointsAwarded"] == by_day["points"].sum()[day]
        assert math.isclose(entry["means"]["value"], means[day], rel_tol=1e-12)


def test_segments_match_a_pandas_groupby(case: tuple[str, list[Any], dict[str, Any]]) -> None:
    _, records, report = case
    raw = raw_frame(records).dropna(subset=["platform"])
    segments = report["segments"]
    assert segments["field"] == "platform"  # more non-missing values than tier
    assert [s["value"] for s in segments["values"]] == [
        t["value"] for t in report["fields"]["platform"]["top"]
    ]
    for segment in segments["values"]:
        rows = raw[raw["platform"] == segment["value"]]
        numbers = rows["value"].dropna().to_numpy(float)
        assert segment["count"] == len(rows) and segment["complete"] is True
        stats = segment["fields"]["value"]
        assert stats["count"] == len(numbers)
        assert (stats["min"], stats["max"]) == (numbers.min(), numbers.max())
        assert math.isclose(stats["mean"], float(numbers.mean()), rel_tol=1e-12)


def test_event_summaries_match_pandas() -> None:
    records = events_of(skewed("uniform", 400))
    records += [record(user=f"x{i % 7}", event_id="login", points=1) for i in range(30)]
    summaries = event_summaries(day_partials(records))
    raw = pd.DataFrame(
        {
            "eventId": [r["eventId"] for r in records],
            "user": [r["userId"] for r in records],
            "points": [r["outcome"]["pointsAwarded"] for r in records],
        }
    )
    grouped = raw.groupby("eventId")
    assert summaries == [
        {
            "eventId": event_id,
            "count": int(grouped.size()[event_id]),
            "uniqueUsers": int(grouped["user"].nunique()[event_id]),
            "uniqueUsersExact": True,
            "pointsAwarded": int(grouped["points"].sum()[event_id]),
            "totalPointsAwarded": int(grouped["points"].sum()[event_id]),
        }
        for event_id in ("login", "purchase")
    ]
