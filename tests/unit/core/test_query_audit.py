"""The query-shape audit (issue 14, item 7): which index serves a shape, what the suite
records, and the failures it reports — each naming the shape that lacks an index."""

from __future__ import annotations

from typing import Any

import pytest

from core import query_audit
from core.inmemory import in_memory_database
from core.query_audit import Index, ShapeRecorder, serving_index, shape_of
from rules.stores.users import UserStore
from tests.query_audit import UNINDEXED, Unindexed, audit

PROJECT_USER = Index("project_user", (("project", 1), ("userId", 1)), unique=True)
HISTORY = Index("history", (("project", 1), ("userId", 1), ("at", -1), ("_id", -1)))
PENDING = Index(
    "project_pending", (("project", 1), ("since", 1)), partial_fields=frozenset({"since"})
)
STATUS_DUE = Index("status_due", (("status", 1), ("due", 1)))


def test_a_shape_keeps_fields_and_drops_values() -> None:
    shape = shape_of(
        "c",
        "find",
        {
            "project": "p",
            "userId": {"$in": ["a", "b"]},
            "at": {"$gte": 1, "$lte": 2},
            "$or": [{"lease": {"$exists": False}}, {"lease": {"$lte": 3}}],
        },
        [("at", -1)],
        "history",
    )

    assert shape.equality == ("project", "userId")
    assert shape.other == ("at", "lease")
    assert shape.sort == (("at", -1),)
    assert shape.hint == "history"
    assert shape == shape_of(
        "c",
        "find",
        {
            "project": "q",
            "userId": {"$in": []},
            "at": {"$gte": 5, "$lte": 9},
            "$or": [{"lease": 1}],
        },
        [("at", -1)],
        "history",
    )


@pytest.mark.parametrize(
    ("filter", "sort", "expected"),
    [
        ({"project": "p", "userId": "u"}, None, "history"),
        ({"project": "p", "userId": "u", "pending.id": 1}, None, None),  # pending.id unbound
        ({"project": "p", "userId": "u"}, [("at", -1), ("_id", -1)], "history"),
        ({"project": "p", "userId": "u"}, [("at", 1), ("_id", 1)], "history"),  # reversed
        ({"project": "p", "userId": "u"}, [("at", -1), ("_id", 1)], None),  # mixed: in memory
        ({"project": "p", "since": {"$exists": True}}, [("since", 1)], "project_pending"),
        ({"project": "p"}, [("since", 1)], None),  # the partial index lacks users without
        ({"status": "pending", "due": {"$lte": 1}}, [("due", 1)], "status_due"),
        ({"due": {"$lte": 1}}, None, None),  # not the leading key
        ({"userId": "u"}, None, None),  # not a prefix
        ({}, None, None),  # a collection scan
        ({"_id": {"$in": [1, 2]}}, None, "_id_"),
    ],
)
def test_an_index_serves_a_shape_through_its_prefix(
    filter: dict[str, Any], sort: Any, expected: str | None
) -> None:
    indexes = [
        Index("_id_", (("_id", 1),), unique=True),
        HISTORY,
        PENDING,
        STATUS_DUE,
    ]

    index = serving_index(shape_of("c", "find", filter, sort), indexes)

    assert (index.name if index else None) == expected


def test_a_unique_index_bound_by_equality_is_a_point_lookup() -> None:
    filter = {"project": "p", "userId": "u", "pending": {"$size": 1}, "pending.id": 1}

    assert serving_index(shape_of("c", "update_one", filter), [HISTORY, PROJECT_USER]) == (
        PROJECT_USER
    )


def test_a_hinted_shape_is_judged_on_the_hinted_index_only() -> None:
    shape = shape_of("c", "find", {"project": "p", "userId": "u"}, None, "status_due")

    assert serving_index(shape, [PROJECT_USER, STATUS_DUE]) is None


def test_the_code_s_queries_are_recorded_and_the_tests_own_are_not() -> None:
    db = in_memory_database("audit-test")
    with query_audit.recording() as recorder:
        UserStore(db).load("p", "u")
        db.users.find_one({"whatever": 1})  # a test reading the store

    (shape,) = recorder.shapes
    assert shape.describe() == "users.find_one {project, userId}"
    assert recorder.origins[shape].startswith("rules/stores/users.py:")


def record(*shapes: Any) -> ShapeRecorder:
    recorder = ShapeRecorder()
    for shape in shapes:
        recorder.shapes[shape] += 1
        recorder.origins[shape] = "rules/example.py:1 (f)"
    return recorder


def test_the_audit_fails_naming_a_shape_no_index_serves() -> None:
    shape = shape_of("ledger", "find", {"project": "p", "reason": "x"})

    result = audit(record(shape))

    assert result.failures == [
        "NO INDEX serves ledger.find {project, reason} (issued at rules/example.py:1 (f)): "
        "declare one whose prefix is the equality fields ['project', 'reason'] then the "
        "sort, or list the shape in tests/query_audit.py's UNINDEXED with the reason it "
        "may scan"
    ]
    assert "→  NONE" in result.table()


def test_an_allowed_shape_passes_with_its_reason_in_the_table() -> None:
    shape = shape_of("ledger", "find", {"project": "p", "reason": "x"})
    allowed = Unindexed("ledger", frozenset({"project", "reason"}), "support looks rarely")

    result = audit(record(shape), [allowed])

    assert result.failures == []
    assert "allowed: support looks rarely" in result.table()


def test_every_allowance_gives_a_reason() -> None:
    assert all(len(entry.reason) > 20 for entry in UNINDEXED)


def test_the_audit_fails_on_a_collection_not_placed_for_sharding() -> None:
    shape = shape_of("activity", "find_one", {"_id": 1})

    (failure,) = audit(record(shape)).failures

    assert failure.startswith("UNPLACED COLLECTION 'activity'")


def test_the_audit_fails_on_a_write_to_a_sharded_collection_without_its_key() -> None:
    by_id = shape_of("users", "update_one", {"_id": 1, "version": 2})
    upsert = shape_of("idempotency_keys", "update_one", {"project": "p"}, upsert=True)
    targeted = shape_of("users", "update_one", {"_id": 1, "project": "p", "userId": "u"})

    failures = audit(record(by_id, upsert, targeted)).failures

    assert [f.split(":")[0] for f in failures] == [
        "SHARD KEY missing from a write to sharded 'idempotency_keys' (shard key ['project', "
        "'key'])",
        "SHARD KEY missing from a write to sharded 'users' (shard key ['project', 'userId'])",
    ]


def test_a_distinct_walks_an_index_that_leads_with_its_field() -> None:
    project_first = Index("project_user", (("project", 1), ("userId", 1)))

    listed = shape_of("users", "distinct", {}, distinct="project")
    per_project = shape_of("users", "distinct", {"project": "p"}, distinct="userId")
    other = shape_of("users", "distinct", {}, distinct="userId")

    assert serving_index(listed, [project_first]) == project_first
    assert serving_index(per_project, [project_first]) == project_first
    assert serving_index(other, [project_first]) is None
    assert listed.describe() == "users.distinct('project') {}"
