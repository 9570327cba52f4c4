"""core.rangeindex (through core.pointindex) answers range queries exactly as plain mongomock
does, on random sequences of writes and reads, irregular values included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import mongomock
from hypothesis import given, settings
from hypothesis import strategies as st
from pymongo import ASCENDING, DESCENDING, IndexModel

from core import pointindex, rangeindex
from core.inmemory import in_memory_database

T0 = datetime(2027, 1, 1, tzinfo=UTC)
PROJECTS = st.sampled_from(["p1", "p2"])
EVENTS = st.sampled_from(["a", "b", "c"])
# Moments in several offsets (one instant, two spellings), plus values a range must not
# confuse with a moment: missing (None here), a number, a string, an array.
MOMENTS = st.builds(
    lambda minutes, hours: (T0 + timedelta(minutes=minutes)).astimezone(
        timezone(timedelta(hours=hours))
    ),
    st.integers(0, 50),
    st.sampled_from([0, -5, 9]),
)
TIMES = st.one_of(
    MOMENTS, MOMENTS, st.none(), st.just(3), st.just("x"), st.lists(MOMENTS, max_size=2)
)
NUMBERS = st.one_of(st.integers(0, 5), st.sampled_from([1.0, 2.5, True]), st.none())


def _document(project: str, event_id: Any, moment: Any, n: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"project": project}
    for name, value in (("eventId", event_id), ("timestamp", moment), ("n", n)):
        if value is not None:
            document[name] = value
    return document


DOCUMENTS = st.builds(_document, PROJECTS, st.one_of(EVENTS, st.none()), TIMES, NUMBERS)


def _range(low: datetime, span: int, inclusive: bool) -> dict[str, Any]:
    high = low + timedelta(minutes=span)
    return {"$gte" if inclusive else "$gt": low, "$lte" if inclusive else "$lt": high}


RANGES = st.builds(_range, MOMENTS, st.integers(0, 30), st.booleans())
FILTERS = st.one_of(
    st.builds(
        lambda p, e, r: {"project": p, "eventId": e, "timestamp": r}, PROJECTS, EVENTS, RANGES
    ),
    st.builds(
        lambda p, es, r: {"project": p, "eventId": {"$in": es}, "timestamp": r},
        PROJECTS,
        st.lists(EVENTS, min_size=1, max_size=3),
        RANGES,
    ),
    st.builds(lambda p, m: {"project": p, "timestamp": {"$gte": m}}, PROJECTS, MOMENTS),
    st.builds(lambda p, m: {"project": p, "timestamp": {"$lt": m}}, PROJECTS, MOMENTS),
    st.builds(lambda p, e: {"project": p, "eventId": e}, PROJECTS, EVENTS),
    st.builds(lambda p, n: {"project": p, "n": {"$gte": n}}, PROJECTS, st.integers(0, 5)),
    st.builds(lambda p, n: {"project": p, "n": n}, PROJECTS, NUMBERS),
    st.builds(
        lambda p, clauses: {"project": p, "$or": clauses},
        PROJECTS,
        st.lists(
            st.builds(lambda e, r: {"project": "p1", "eventId": e, "timestamp": r}, EVENTS, RANGES),
            min_size=1,
            max_size=3,
        ),
    ),
)
UPDATES = st.one_of(
    st.builds(lambda m: {"$set": {"timestamp": m}}, TIMES.filter(lambda t: t is not None)),
    st.builds(lambda e: {"$set": {"eventId": e}}, EVENTS),
    st.builds(lambda n: {"$set": {"n": n}}, st.integers(0, 5)),
    st.just({"$unset": {"timestamp": ""}}),
)
OPERATIONS = st.one_of(
    st.tuples(st.just("insert_many"), st.lists(DOCUMENTS, min_size=1, max_size=5)),
    st.tuples(st.just("update_many"), FILTERS, UPDATES),
    st.tuples(st.just("delete_many"), FILTERS),
    st.tuples(st.just("find"), FILTERS),
    st.tuples(st.just("find"), FILTERS),
)


def _collection(indexed: bool) -> Any:
    collection = mongomock.MongoClient(tz_aware=True)["db"]["events"]
    collection.create_indexes(
        [
            IndexModel(
                [("project", ASCENDING), ("eventId", ASCENDING), ("timestamp", ASCENDING)],
                name="project_event_timestamp",
            ),
            IndexModel([("project", ASCENDING), ("n", DESCENDING)], name="project_n"),
        ]
    )
    if indexed:
        pointindex.attach(collection)
    return collection


def _run(collection: Any, operation: tuple[Any, ...], ids: list[int]) -> Any:
    name, argument, *rest = operation
    if name == "insert_many":
        documents = []
        for document in argument:
            ids.append(len(ids))
            documents.append({"_id": ids[-1], **document})
        return collection.insert_many(documents).inserted_ids
    if name == "update_many":
        result = collection.update_many(argument, rest[0])
        return (result.matched_count, result.modified_count)
    if name == "delete_many":
        return collection.delete_many(argument).deleted_count
    return [d["_id"] for d in collection.find(argument)]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(OPERATIONS, max_size=25))
def test_range_lookups_answer_as_plain_mongomock(operations: list[tuple[Any, ...]]) -> None:
    plain, indexed = _collection(False), _collection(True)
    plain_ids: list[int] = []
    indexed_ids: list[int] = []
    for operation in operations:
        expected = _run(plain, operation, plain_ids)
        assert _run(indexed, operation, indexed_ids) == expected, operation
    assert list(indexed.find()) == list(plain.find())


IDS = st.integers(0, 6)  # a small pool: documents deleted and stored again under their _id
REUSED = st.one_of(
    st.tuples(st.just("insert_one"), IDS, DOCUMENTS),
    st.tuples(st.just("delete_one"), IDS),
    st.tuples(st.just("set_time"), IDS, MOMENTS),
    st.tuples(st.just("find"), FILTERS),
)


def _run_reused(collection: Any, operation: tuple[Any, ...]) -> Any:
    name, argument, *rest = operation
    if name == "insert_one":
        if collection.find_one({"_id": argument}) is not None:
            return "taken"
        return collection.insert_one({"_id": argument, **rest[0]}).inserted_id
    if name == "delete_one":
        return collection.delete_one({"_id": argument}).deleted_count
    if name == "set_time":
        return collection.update_one(
            {"_id": argument}, {"$set": {"timestamp": rest[0]}}
        ).matched_count
    return sorted(d["_id"] for d in collection.find(argument))


@settings(max_examples=300)
@given(st.lists(REUSED, max_size=40))
def test_ids_stored_again_and_merges_after_every_write_answer_as_plain_mongomock(
    operations: list[tuple[Any, ...]],
) -> None:
    """With merges and rebuilds after a couple of writes (MERGE_AFTER lowered), documents
    deleted and stored again under their _id, and indexed fields changed in place."""
    original = rangeindex.MERGE_AFTER
    rangeindex.MERGE_AFTER = 1
    try:
        plain, indexed = _collection(False), _collection(True)
        for operation in operations:
            expected = _run_reused(plain, operation)
            assert _run_reused(indexed, operation) == expected, operation
    finally:
        rangeindex.MERGE_AFTER = original


def test_a_document_stored_again_after_a_merge_while_it_was_deleted_is_found(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(rangeindex, "MERGE_AFTER", 1)
    collection = _collection(True)
    query = {"project": "p", "eventId": "a", "timestamp": {"$gte": T0}}

    def stored(_id: str) -> None:
        collection.insert_one({"_id": _id, "project": "p", "eventId": "a", "timestamp": T0})

    others = [{"_id": i, "project": "p", "eventId": "b", "timestamp": T0} for i in range(10)]
    collection.insert_many(others)  # so that the query reads a few entries, not a scan
    stored("first")
    assert len(list(collection.find(query))) == 1  # the index is built
    stored("x")
    assert len(list(collection.find(query))) == 2  # x waits beside the entries (fresh)
    collection.delete_one({"_id": "x"})
    stored("y")
    assert len(list(collection.find(query))) == 2  # the fresh ones merged while x is away
    stored("x")  # back, with the values it had

    assert sorted(d["_id"] for d in collection.find(query)) == ["first", "x", "y"]


def test_entries_stay_bounded_when_indexed_fields_keep_changing(monkeypatch: Any) -> None:
    """Stale entries (of moved documents) are dropped by a rebuild, so the entries do not grow
    with the writes and a range still narrows (MERGE_AFTER lowered so that merges happen)."""
    monkeypatch.setattr(rangeindex, "MERGE_AFTER", 10)
    collection = _collection(True)
    collection.insert_many(
        [{"_id": i, "project": "p", "eventId": "a", "timestamp": T0} for i in range(100)]
    )
    for round_ in range(1, 60):
        moved = T0 + timedelta(minutes=round_)
        for i in range(100):
            collection.update_one({"_id": i}, {"$set": {"timestamp": moved}})
            if i % 20 == 0:  # lookups between the writes, as a running server makes them
                query = {"project": "p", "eventId": "a", "timestamp": {"$gte": moved}}
                assert len(list(collection.find(query))) == i + 1
    (index,) = [r for r in pointindex.attach(collection)._ranges if r.built]
    assert len(index.entries) + len(index.fresh) <= 2 * 100 + 100


def test_a_range_reads_only_its_candidates_and_new_documents() -> None:
    collection = _collection(True)
    collection.insert_many(
        [
            {
                "_id": i,
                "project": "p",
                "eventId": "a" if i % 2 else "b",
                "timestamp": T0 + timedelta(minutes=i),
            }
            for i in range(5000)
        ]
    )
    index = pointindex.attach(collection)
    index._refresh(collection._store)
    query = {
        "project": "p",
        "eventId": "a",
        "timestamp": {"$gte": T0, "$lt": T0 + timedelta(minutes=10)},
    }
    assert index._candidates(query) == {1, 3, 5, 7, 9}
    collection.insert_one({"_id": -1, "project": "p", "eventId": "a", "timestamp": T0})
    index._refresh(collection._store)
    assert index._candidates(query) == {-1, 1, 3, 5, 7, 9}
    assert [d["_id"] for d in collection.find(query)] == [1, 3, 5, 7, 9, -1]
    assert index._candidates({"n": 1}) is None


def test_the_events_queries_of_a_report_run_use_the_index() -> None:
    from rules.stores.indexes import ensure_indexes

    db = in_memory_database("ranges")
    ensure_indexes(db)
    db.events.insert_many(
        [
            {
                "project": "p",
                "eventId": "a",
                "userId": "u",
                "timestamp": T0,
                "receivedAt": T0 + timedelta(seconds=i),
            }
            for i in range(300)
        ]
    )
    index = pointindex.attach(db.events._collection)
    index._refresh(db.events._collection._store)
    assert (
        len(
            index._candidates({"project": "p", "receivedAt": {"$gte": T0 + timedelta(seconds=290)}})
        )
        == 10
    )
