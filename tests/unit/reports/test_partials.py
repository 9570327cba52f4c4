"""Day partials: one per (project, eventId, UTC day), BSON-clean, bounded, and honest about
what they cut."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import bson
import numpy as np

from reports.analytics.frames import read_events, value_kind
from reports.analytics.partials import (
    CATEGORY_LIMIT,
    FIELD_LIMIT,
    SEGMENT_FIELD_LIMIT,
    SEGMENT_VALUE_LIMIT,
    day_partials,
)
from reports.analytics.uniques import USER_ID_LIMIT
from tests.unit.reports.factories import (
    PROJECT,
    assert_bson_clean,
    bson_problems,
    day_of,
    record,
)


def only(partials: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(partials) == 1
    return partials[0]


def test_bson_check_catches_what_mongo_or_json_would_not_store_as_is() -> None:
    assert bson_problems({"a": [1, 2.5, "x", True, None, datetime(2024, 1, 1, tzinfo=UTC)]}) == []
    assert bson_problems({"a": np.int64(3)}) == ["$.a: int64"]
    assert bson_problems({"a": [date(2024, 1, 1)]}) == ["$.a[0]: date"]
    assert bson_problems({"a": Decimal(1)}) == ["$.a: Decimal"]
    assert bson_problems({"a": (1,)}) == ["$.a: tuple"]
    assert bson_problems({"a": math.nan}) == ["$.a: nan"]
    assert bson_problems({"a.b": 1, "$c": 1, 3: 1}) == [
        "$: bad key 'a.b'",
        "$: bad key '$c'",
        "$: bad key 3",
    ]


def test_events_group_by_project_event_and_utc_day() -> None:
    records = [
        record(day=0, seconds=86_399),
        record(day=1, seconds=0),
        record(day=1, event_id="login"),
        record(day=1, project="other"),
    ]
    keys = [(p["project"], p["eventId"], p["day"]) for p in day_partials(records)]
    assert keys == [
        (PROJECT, "login", day_of(1)),
        (PROJECT, "purchase", day_of(0)),
        (PROJECT, "purchase", day_of(1)),
        ("other", "purchase", day_of(1)),
    ]


def test_a_partial_counts_events_users_and_points() -> None:
    records = [
        record(user="ann", points=10, total_points=15),
        record(user="bob", points=5),
        record(user="ann", points=0, total_points=20),
    ]
    partial = only(day_partials(records))
    assert partial["count"] == 3
    assert partial["users"] == {"count": 2, "ids": ["ann", "bob"], "sketch": None}
    assert (partial["pointsAwarded"], partial["totalPointsAwarded"]) == (15, 40)


def test_a_partial_of_every_kind_of_field_is_bson_clean() -> None:
    records = [
        record(user=f"u{i}", metadata=metadata, points=i)
        for i, metadata in enumerate(
            [
                {"value": 12, "platform": "ios", "gift": True, "odd": "a.b$c"},
                {"value": 2.5, "platform": "web", "gift": False, "odd": 7},
                {"value": None, "platform": "$where", "gift": None},
                {"value": -4, "platform": "a.b", "odd": False},
                {},
            ]
        )
    ]
    partial = only(day_partials(records))
    assert_bson_clean(partial)
    assert partial["fields"]["odd"]["types"] == {"numeric": 1, "string": 1, "boolean": 1, "null": 0}
    platforms = partial["fields"]["platform"]["categorical"]["values"]
    assert {"value": "a.b", "count": 1} in platforms and {
        "value": "$where",
        "count": 1,
    } in platforms


def test_numeric_field_keeps_count_missing_sum_spread_range_and_sketch() -> None:
    values = [3, 1.5, None, 0, -2]
    records = [record(metadata={"value": v}) for v in values] + [record(metadata={})]
    field = only(day_partials(records))["fields"]["value"]
    numbers = [1.5, 3.0, 0.0, -2.0]
    assert field["missing"] == 2  # the null and the event without the field
    assert field["types"] == {"numeric": 4, "string": 0, "boolean": 0, "null": 1}
    numeric = field["numeric"]
    assert numeric["count"] == 4 and numeric["integer"] is False
    assert numeric["sum"] == 2.5
    assert math.isclose(numeric["m2"], float(np.var(numbers) * 4))
    assert (numeric["min"], numeric["max"]) == (-2.0, 3.0)
    assert numeric["sketch"]["zero"] == 1
    assert sum(numeric["sketch"]["positive"]["counts"]) == 2
    assert field["categorical"] is None and field["boolean"] is None


def test_integer_field_keeps_integer_min_and_max() -> None:
    records = [record(metadata={"n": v}) for v in (5, 2, 9)]
    numeric = only(day_partials(records))["fields"]["n"]["numeric"]
    assert numeric["integer"] is True
    assert (numeric["min"], numeric["max"]) == (2, 9)
    assert type(numeric["min"]) is int


def test_boolean_field_counts_true_and_false() -> None:
    records = [record(metadata={"gift": g}) for g in (True, True, False, None)]
    field = only(day_partials(records))["fields"]["gift"]
    assert field["boolean"] == {"trueCount": 2, "falseCount": 1}
    assert field["numeric"] is None  # a bool is not a number here


def test_categorical_values_under_the_limit_are_exact() -> None:
    records = [record(metadata={"c": f"v{i % CATEGORY_LIMIT}"}) for i in range(CATEGORY_LIMIT + 3)]
    categorical = only(day_partials(records))["fields"]["c"]["categorical"]
    assert categorical["truncated"] is False and categorical["otherCount"] == 0
    assert len(categorical["values"]) == CATEGORY_LIMIT
    assert categorical["values"][:3] == [{"value": f"v{i}", "count": 2} for i in range(3)]
    assert categorical["count"] == CATEGORY_LIMIT + 3


def test_categorical_values_over_the_limit_keep_the_most_frequent_and_count_the_rest() -> None:
    frequent = [record(metadata={"c": "top"}) for _ in range(5)]
    rare = [record(metadata={"c": f"r{i:04d}"}) for i in range(CATEGORY_LIMIT + 10)]
    categorical = only(day_partials(frequent + rare))["fields"]["c"]["categorical"]
    assert categorical["truncated"] is True
    assert len(categorical["values"]) == CATEGORY_LIMIT
    assert categorical["values"][0] == {"value": "top", "count": 5}
    assert categorical["values"][-1] == {"value": f"r{CATEGORY_LIMIT - 2:04d}", "count": 1}
    assert categorical["otherCount"] == 11
    assert categorical["count"] == CATEGORY_LIMIT + 15


def test_fields_over_the_limit_keep_the_most_filled_and_say_how_many_were_dropped() -> None:
    records = [
        record(metadata={f"f{i:02d}": 1 for i in range(start, start + 10)})
        for start in (0, 10, 20, 0)
    ]
    partial = only(day_partials(records))
    assert partial["droppedFields"] == 30 - FIELD_LIMIT
    assert len(partial["fields"]) == FIELD_LIMIT
    assert {f"f{i:02d}" for i in range(10)} <= partial["fields"].keys()  # twice as filled


def test_users_over_the_bound_switch_to_a_sketch_with_an_exact_day_count() -> None:
    records = [record(user=f"user-{i}") for i in range(USER_ID_LIMIT + 1)]
    users = only(day_partials(records))["users"]
    assert users["count"] == USER_ID_LIMIT + 1 and users["ids"] is None
    assert isinstance(users["sketch"], str)


def test_segments_hold_numeric_stats_per_value_of_the_busiest_categorical_fields() -> None:
    records = [
        record(metadata={"platform": "ios", "value": 10, "len": 1.5}),
        record(metadata={"platform": "ios", "value": 20}),
        record(metadata={"platform": "web", "value": 5, "tier": "gold"}),
        record(metadata={"platform": None, "value": 99}),
    ]
    segments = only(day_partials(records))["segments"]
    assert [s["field"] for s in segments] == ["platform", "tier"]
    platform = segments[0]
    assert platform["truncated"] is False
    ios, web = platform["values"]
    assert (ios["value"], ios["count"], web["value"], web["count"]) == ("ios", 2, "web", 1)
    assert ios["fields"]["value"] == {
        "count": 2,
        "integer": True,
        "sum": 30.0,
        "m2": 50.0,
        "min": 10,
        "max": 20,
    }
    assert ios["fields"]["len"]["count"] == 1
    assert web["fields"] == {
        "value": {"count": 1, "integer": True, "sum": 5.0, "m2": 0.0, "min": 5, "max": 5}
    }


def test_segments_are_bounded_in_fields_and_values() -> None:
    records = [
        record(metadata={f"c{k}": f"v{i:03d}" for k in range(SEGMENT_FIELD_LIMIT + 1)} | {"n": i})
        for i in range(SEGMENT_VALUE_LIMIT + 5)
    ]
    records += [record(metadata={f"c{k}": "v000" for k in range(SEGMENT_FIELD_LIMIT)})]
    segments = only(day_partials(records))["segments"]
    assert [s["field"] for s in segments] == [f"c{k}" for k in range(SEGMENT_FIELD_LIMIT)]
    for segment in segments:
        assert segment["truncated"] is True
        assert len(segment["values"]) == SEGMENT_VALUE_LIMIT
        assert segment["values"][0]["value"] == "v000" and segment["values"][0]["count"] == 2


def test_a_worst_case_partial_stays_well_under_mongos_document_limit() -> None:
    long_text = "x" * 250
    records = []
    for i in range(USER_ID_LIMIT):
        names = range(0, 9) if i % 2 else range(9, 18)
        metadata: dict[str, Any] = {f"c{k:02d}": f"{long_text}{i:06d}" for k in names}
        metadata |= {"n18": i * 1.5} if i % 2 else {"n19": float(i)}
        records.append(record(user=f"{i:0128d}", metadata=metadata))
    partial = only(day_partials(records))
    assert all(
        f["categorical"] is None or f["categorical"]["truncated"]
        for f in partial["fields"].values()
    )
    size = len(bson.encode(partial))
    assert size < 12 * 2**20, size  # 16 MiB is MongoDB's limit


def test_naive_timestamps_are_utc_and_odd_values_count_as_missing() -> None:
    records = [
        record(metadata={"v": math.nan, "bad.key": 1, "w": [1, 2]}),
        record(metadata={"v": 2}) | {"timestamp": datetime(2024, 3, 1, 23, 0)},
        record(metadata={"v": 3}) | {"outcome": {}},
    ]
    partial = only(day_partials(records))
    assert partial["day"] == "2024-03-01"
    assert set(partial["fields"]) == {"v", "w"}
    assert partial["fields"]["v"]["types"] == {"numeric": 2, "string": 0, "boolean": 0, "null": 1}
    assert partial["fields"]["w"]["missing"] == 3
    assert partial["pointsAwarded"] == 0


def test_value_kind_tells_booleans_from_numbers() -> None:
    assert [value_kind(v) for v in (True, 1, 1.0, "1", None, math.inf, {})] == [
        "boolean",
        "numeric",
        "numeric",
        "string",
        "null",
        "null",
        "null",
    ]


def test_no_records_make_no_partials_and_empty_frames() -> None:
    assert day_partials([]) == []
    frames = read_events(iter([]))
    assert frames.events.empty and frames.values.empty


def test_records_are_read_from_a_one_pass_iterator() -> None:
    records = (record(day=i % 2, metadata={"v": i}) for i in range(6))
    partials = day_partials(records)
    assert [p["count"] for p in partials] == [3, 3]
    assert [p["fields"]["v"]["numeric"]["sum"] for p in partials] == [6.0, 9.0]
