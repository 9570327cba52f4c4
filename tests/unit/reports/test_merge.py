"""Merging day partials: the same report as aggregating every event at once, late events that
touch only their day, and the flags that say when a bound was hit."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.analytics.merge import PartialMismatch, window_report
from reports.analytics.partials import (
    CATEGORY_LIMIT,
    FIELD_LIMIT,
    SEGMENT_VALUE_LIMIT,
    day_partials,
)
from reports.analytics.uniques import USER_ID_LIMIT
from reports.windows import window_days
from tests.unit.reports.factories import (
    DAY_0,
    PROJECT,
    assert_bson_clean,
    assert_close,
    day_of,
    record,
)

numbers = st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False))
anything = st.one_of(st.none(), numbers, st.sampled_from(["a", "b", "c.d", "$e"]), st.booleans())
metadata = st.fixed_dictionaries(
    {},
    optional={
        "n": st.one_of(st.none(), numbers),
        "s": st.sampled_from(["ios", "web", "tv"]),
        "b": st.booleans(),
        "m": anything,
    },
)
events = st.lists(
    st.builds(
        record,
        user=st.sampled_from([f"u{i}" for i in range(6)]),
        day=st.integers(0, 3),
        metadata=metadata,
        seconds=st.integers(0, 86_399),
        points=st.integers(0, 9),
    ),
    min_size=1,
    max_size=60,
)


def report(records: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    return window_report(PROJECT, "purchase", day_partials(records), **kwargs)


def on_one_day(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r | {"timestamp": DAY_0} for r in records]


def without_days(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in ("trend", "from", "to")}


@settings(max_examples=100)
@given(events)
def test_merging_day_partials_equals_aggregating_all_events_at_once(
    records: list[dict[str, Any]],
) -> None:
    merged = report(records)
    at_once = report(on_one_day(records))
    assert_close(without_days(merged), without_days(at_once), abs_tol=1e-9)
    assert_bson_clean(merged)
    assert merged["count"] == len(records)
    assert merged["uniqueUsers"] == len({r["userId"] for r in records})
    assert sum(t["count"] for t in merged["trend"]) == len(records)
    kinds = {
        type(r["metadata"]["m"]) if not isinstance(r["metadata"]["m"], float) else int
        for r in records
        if r["metadata"].get("m") is not None
    }
    if "m" in merged["fields"]:
        expected_type = {bool: "boolean", int: "numeric", str: "categorical"}
        field = merged["fields"]["m"]
        assert field["type"] == (
            "empty" if not kinds else "mixed" if len(kinds) > 1 else expected_type[kinds.pop()]
        )


@settings(max_examples=50)
@given(events, st.randoms(use_true_random=False))
def test_partials_do_not_depend_on_the_order_events_arrive_in(
    records: list[dict[str, Any]], shuffler: random.Random
) -> None:
    shuffled = list(records)
    shuffler.shuffle(shuffled)
    assert day_partials(shuffled) == day_partials(records)


def test_a_late_event_changes_only_its_days_partial() -> None:
    rng = random.Random(5)
    records = [
        record(
            user=f"u{rng.randrange(20)}",
            day=rng.randrange(4),
            metadata={"n": rng.lognormvariate(2, 1), "s": rng.choice("xyz")},
            points=rng.randrange(5),
        )
        for _ in range(200)
    ]
    before = {p["day"]: p for p in day_partials(records)}
    late = record(user="latecomer", day=1, metadata={"n": 1e4, "s": "late"}, points=50)

    redone = day_partials(
        [r for r in records + [late] if r["timestamp"].date().isoformat() == day_of(1)]
    )
    updated = dict(before) | {p["day"]: p for p in redone}
    full = {p["day"]: p for p in day_partials(records + [late])}

    assert updated == full
    assert [day for day in full if full[day] != before[day]] == [day_of(1)]
    assert window_report(PROJECT, "purchase", updated.values()) == window_report(
        PROJECT, "purchase", full.values()
    )
    assert full[day_of(1)]["count"] == before[day_of(1)]["count"] + 1


def test_a_field_with_numbers_one_day_and_strings_another_is_mixed() -> None:
    records = [record(day=0, metadata={"size": 3}), record(day=0, metadata={"size": 5})]
    records += [record(day=1, metadata={"size": "large"}), record(day=1, metadata={"size": None})]
    field = report(records)["fields"]["size"]
    assert field["type"] == "mixed"
    assert (field["count"], field["missing"]) == (3, 1)
    assert field["types"] == {"boolean": 0, "null": 1, "numeric": 2, "string": 1}
    assert (field["numeric"]["count"], field["numeric"]["missing"]) == (2, 2)
    assert (field["numeric"]["min"], field["numeric"]["mean"]) == (3, 4.0)
    assert field["categorical"]["top"] == [{"value": "large", "count": 1}]
    assert "boolean" not in field


def test_a_field_that_only_held_null_is_empty() -> None:
    field = report([record(metadata={"note": None}), record()])["fields"]["note"]
    assert field == {
        "type": "empty",
        "count": 0,
        "missing": 2,
        "types": {"boolean": 0, "null": 1, "numeric": 0, "string": 0},
    }


def test_categorical_over_the_bound_is_flagged_and_its_totals_stay_exact() -> None:
    records = []
    for day in (0, 1):
        records += [
            record(day=day, metadata={"c": f"d{day}-{i:04d}"}) for i in range(CATEGORY_LIMIT + 5)
        ]
        records += [record(day=day, metadata={"c": "common"}) for _ in range(3)]
    field = report(records)["fields"]["c"]
    truth = Counter(r["metadata"]["c"] for r in records)
    assert field["truncated"] is True
    assert field["count"] == sum(truth.values())
    assert field["distinct"] <= len(truth) and field["distinct"] == 2 * CATEGORY_LIMIT - 1
    assert field["top"][0] == {"value": "common", "count": 6}
    assert all(item["count"] <= truth[item["value"]] for item in field["top"])
    assert field["otherCount"] == field["count"] - sum(item["count"] for item in field["top"])


def test_top_values_are_cut_at_twenty_and_the_rest_is_other() -> None:
    records = [record(metadata={"c": f"v{i:02d}"}) for i in range(30) for _ in range(30 - i)]
    field = report(records)["fields"]["c"]
    assert [item["value"] for item in field["top"]] == [f"v{i:02d}" for i in range(20)]
    assert field["otherCount"] == sum(30 - i for i in range(20, 30))
    assert (field["distinct"], field["truncated"]) == (30, False)


def test_unique_users_become_an_estimate_when_a_day_kept_a_sketch() -> None:
    records = [record(day=0, user=f"u{i}") for i in range(USER_ID_LIMIT + 500)]
    records += [record(day=1, user=f"u{i}") for i in range(USER_ID_LIMIT, USER_ID_LIMIT + 2000)]
    merged = report(records)
    assert merged["uniqueUsersExact"] is False
    assert abs(merged["uniqueUsers"] - (USER_ID_LIMIT + 2000)) <= 0.03 * (USER_ID_LIMIT + 2000)
    assert [t["uniqueUsers"] for t in merged["trend"]] == [USER_ID_LIMIT + 500, 2000]


def test_segment_values_outside_a_days_segment_bound_are_marked_incomplete() -> None:
    records = []
    for i in range(SEGMENT_VALUE_LIMIT + 10):
        copies = 3 if i < SEGMENT_VALUE_LIMIT else 1
        records += [record(day=0, metadata={"p": f"v{i:02d}", "n": 1}) for _ in range(copies)]
    records += [record(day=1, metadata={"p": "v59", "n": 7}) for _ in range(100)]
    segments = report(records)["segments"]
    assert segments["field"] == "p"
    first, second = segments["values"][:2]
    assert (first["value"], first["count"], first["complete"]) == ("v59", 101, False)
    assert first["fields"]["n"] == {"count": 100, "mean": 7.0, "min": 7, "max": 7}  # day 1 only
    assert (second["value"], second["complete"]) == ("v00", True)
    assert second["fields"]["n"] == {"count": 3, "mean": 1.0, "min": 1, "max": 1}


def test_segment_field_can_be_chosen_and_a_field_without_strings_gives_no_segments() -> None:
    records = [
        record(metadata={"platform": "ios", "tier": "gold", "n": 2}),
        record(metadata={"platform": "web", "tier": "gold", "n": 4}),
        record(metadata={"platform": "web", "n": 9}),
    ]
    assert report(records)["segments"]["field"] == "platform"
    tier = report(records, segment_field="tier")["segments"]
    assert tier == {
        "field": "tier",
        "values": [
            {
                "value": "gold",
                "count": 2,
                "complete": True,
                "fields": {"n": {"count": 2, "mean": 3.0, "min": 2, "max": 4}},
            }
        ],
    }
    assert report(records, segment_field="n")["segments"] == {"field": "n", "values": []}
    assert report([record()])["segments"] == {"field": None, "values": []}


def test_a_window_keeps_its_days_and_fills_the_trend_with_zeros() -> None:
    records = [record(day=d, metadata={"n": d}, points=1) for d in range(10) if d != 8]
    today = DAY_0.replace(day=DAY_0.day + 9)
    days = window_days("7d", today)
    merged = report(records, days=days)
    assert (merged["from"], merged["to"]) == (day_of(3), day_of(9))
    assert merged["count"] == 6 and merged["pointsAwarded"] == 6
    assert [t["count"] for t in merged["trend"]] == [1, 1, 1, 1, 1, 0, 1]
    assert [t["means"]["n"] for t in merged["trend"]] == [3.0, 4.0, 5.0, 6.0, 7.0, None, 9.0]
    assert merged["fields"]["n"]["min"] == 3


def test_a_day_that_dropped_fields_is_flagged_in_the_report() -> None:
    records = [record(metadata={f"f{i:02d}": 1 for i in range(s, s + 10)}) for s in (0, 10, 20)]
    merged = report(records)
    assert merged["fieldsTruncated"] is True
    assert len(merged["fields"]) == FIELD_LIMIT


def test_partials_of_another_event_or_the_same_day_twice_are_refused() -> None:
    partials = day_partials([record(day=0), record(day=1, event_id="login")])
    with pytest.raises(PartialMismatch):
        window_report(PROJECT, "purchase", partials)
    twice = day_partials([record(day=0)]) * 2
    with pytest.raises(PartialMismatch):
        window_report(PROJECT, "purchase", twice)


def test_an_empty_window_reports_zeros() -> None:
    empty = window_report(PROJECT, "purchase", [], days=[day_of(0)])
    assert empty["count"] == 0 and empty["uniqueUsers"] == 0 and empty["uniqueUsersExact"]
    assert empty["fields"] == {}
    assert empty["trend"] == [
        {
            "day": day_of(0),
            "count": 0,
            "uniqueUsers": 0,
            "pointsAwarded": 0,
            "totalPointsAwarded": 0,
            "means": {},
        }
    ]
    assert_bson_clean(empty)
