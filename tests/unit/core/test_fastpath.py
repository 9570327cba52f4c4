"""core.fastpath (through the in-memory store) answers exactly as plain mongomock does, but
for the two differences towards MongoDB its docstring names (each tested on its own here).

Random sequences of the operations it serves — find_one, find, update_one, insert_one and
insert_many — mixed with ones it leaves to mongomock, on documents with nested sub-documents,
arrays, datetimes (aware, with microseconds) and a TTL field, against a unique index and a TTL
index, at a fixed moment of Laurel's clock (which both stores' TTL sweeps read).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pytest
from bson.errors import InvalidDocument
from hypothesis import given, settings
from hypothesis import strategies as st
from pymongo import ASCENDING, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError

from core import clock, fastinserts
from core.inmemory import GuardedCollection, in_memory_database

NOW = datetime(2026, 5, 4, 12, 0, 0, 123456, tzinfo=UTC)
MOMENTS = st.sampled_from(
    [
        NOW - timedelta(days=1, microseconds=1),
        NOW - timedelta(seconds=1),
        NOW + timedelta(microseconds=999),
        NOW + timedelta(hours=3, microseconds=1500),
    ]
)
IDS = st.integers(min_value=0, max_value=4)
USERS = st.sampled_from(["a", "b"])
LEAVES = st.one_of(
    st.integers(min_value=-3, max_value=3),
    st.sampled_from([0.5, -1.25, True, False, None, "x", ""]),
    MOMENTS,
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["k", "m", "at"]), inner, max_size=3),
    ),
    max_leaves=6,
)


def _document(
    document_id: int | None, user: str | None, n: int, extra: Any, expires: datetime | None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "project": "p",
        "n": n,
        "extra": extra,
        "sub": {"m": extra},
        "log": [extra, {"k": n, "m": extra}, n],
    }
    if document_id is not None:
        document["_id"] = document_id
    if user is not None:
        document["userId"] = user
    if expires is not None:
        document["expiresAt"] = expires
    return document


DOCUMENTS = st.builds(
    _document,
    st.one_of(st.none(), IDS),
    st.one_of(st.none(), USERS),
    IDS,
    VALUES,
    st.one_of(st.none(), MOMENTS),
)
FILTERS = st.one_of(
    st.builds(lambda i: {"_id": i}, IDS),
    st.builds(lambda u: {"project": "p", "userId": u}, USERS),
    st.builds(lambda i, n: {"_id": i, "n": n}, IDS, IDS),
    st.builds(lambda u, n: {"project": "p", "userId": u, "n": {"$lte": n}}, USERS, IDS),
    st.builds(lambda n: {"n": n}, IDS),
    st.builds(lambda m: {"expiresAt": {"$gte": m}}, MOMENTS),
    st.just({}),
)
# Paths into sub-documents (`sub`), through what `extra` holds (a list, a scalar, a dict),
# into arrays (`log.1`), and below missing fields; never `n` or `first`, which the updates
# below `$inc` and `$min` as a number and a date.
SET_PATHS = st.sampled_from(
    ["extra", "sub", "sub.m", "sub.k.deep", "extra.k", "log.1.k", "log.k", "fresh.a.b", "top"]
)
OPERAND_PATHS = st.sampled_from(["top", "extra", "sub.m", "extra.k", "log", "log.0"])
PUSH_PATHS = st.sampled_from(["log", "extra", "n", "fresh", "sub.m"])
UPDATES = st.one_of(
    st.builds(lambda n, v: {"$set": {"n": n, "extra": v}}, IDS, VALUES),
    st.builds(lambda v: {"$set": {"sub.k": v}}, VALUES),
    st.builds(lambda u: {"$set": {"userId": u}}, USERS),
    st.builds(lambda v, m: {"$push": {"log": v}, "$min": {"first": m}}, VALUES, MOMENTS),
    st.builds(lambda m: {"$set": {"expiresAt": m}, "$inc": {"n": 1}}, MOMENTS),
    # An idempotency key completed: `$setOnInsert` only writes into an upsert's new document.
    st.builds(
        lambda m, p, v: {"$set": {"expiresAt": m}, "$setOnInsert": {p: v}},
        MOMENTS,
        SET_PATHS,
        VALUES,
    ),
    st.just({"$unset": {"userId": "", "first": ""}}),
    st.just({"$pull": {"log": None}}),
    # A finished pending record pulled by its id: the fast path's own $pull.
    st.builds(lambda v: {"$pull": {"log": {"k": v}}}, st.one_of(IDS, VALUES)),
    st.builds(lambda v: {"$pull": {"log": {"$in": [v, 1]}, "extra": {"m": v}}}, VALUES),
    st.builds(lambda n: {"$pull": {"log": {"k": {"$gte": n}}}}, IDS),
    st.builds(lambda n: {"$pull": {"log": {"$gte": n}}}, IDS),
    st.builds(lambda i: {"$set": {"_id": i}}, IDS),
    # Indexed fields changed by mongomock's own update, in place ($pull is not core.operators').
    st.builds(lambda u: {"$set": {"userId": u}, "$pull": {"log": None}}, USERS),
    st.builds(lambda m: {"$set": {"expiresAt": m}, "$pull": {"log": None}}, MOMENTS),
    # core.operators' own: nested and missing paths, arrays, values of every type.
    st.builds(lambda p, v: {"$set": {p: v}}, SET_PATHS, VALUES),
    st.builds(lambda p: {"$unset": {p: ""}}, SET_PATHS),
    st.builds(
        lambda o, p, v: {o: {p: v}},
        st.sampled_from(["$inc", "$min", "$max"]),
        OPERAND_PATHS,
        LEAVES,
    ),
    st.builds(lambda p, v: {"$push": {p: v}}, PUSH_PATHS, VALUES),
    st.builds(lambda p, v: {"$push": {p: {"$each": [v, 1]}}}, PUSH_PATHS, VALUES),
    st.builds(lambda v: {"$push": {"log": {"$each": [v], "$slice": -2}}}, VALUES),
    st.builds(
        # The request path's write: only its first operator can fail (on `top`), so that
        # plain mongomock, which keeps what it applied before an error, is left unchanged too.
        lambda v, w, m: {
            "$max": {"top": v},
            "$set": {"sub.a.b": w, "version": 2},
            "$inc": {"n": 1},
            "$push": {"log": {"$each": [w]}},
            "$min": {"first": m},
        },
        LEAVES,
        VALUES,
        MOMENTS,
    ),
)
OPERATIONS = st.one_of(
    st.tuples(st.just("insert_one"), DOCUMENTS),
    st.tuples(st.just("insert_many"), st.lists(DOCUMENTS, min_size=1, max_size=3), st.booleans()),
    st.tuples(st.just("update_one"), FILTERS, UPDATES, st.booleans()),
    st.tuples(st.just("update_many"), FILTERS, UPDATES),
    st.tuples(st.just("delete_one"), FILTERS),
    st.tuples(st.just("find_one"), FILTERS),
    st.tuples(st.just("find"), FILTERS),
    st.tuples(st.just("find_sorted"), FILTERS),
)


def _collections() -> tuple[Any, GuardedCollection]:
    plain = mongomock.MongoClient(tz_aware=True)["db"]["users"]
    guarded = in_memory_database("db")["users"]
    for collection in (plain, guarded):
        collection.create_indexes(
            [
                IndexModel([("project", ASCENDING), ("userId", ASCENDING)], unique=True),
                IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0),
            ]
        )
    return plain, guarded


def _run(collection: Any, operation: tuple[Any, ...]) -> Any:
    name, *arguments = operation
    try:
        if name == "insert_one":
            document = dict(arguments[0])
            result = collection.insert_one(document)
            return ("inserted", result.inserted_id, document)
        if name == "insert_many":
            documents = [dict(document) for document in arguments[0]]
            result = collection.insert_many(documents, ordered=arguments[1])
            return ("inserted", result.inserted_ids, documents)
        if name == "update_one":
            result = collection.update_one(arguments[0], arguments[1], upsert=arguments[2])
            return (result.matched_count, result.modified_count, result.upserted_id)
        if name == "update_many":
            result = collection.update_many(arguments[0], arguments[1])
            return (result.matched_count, result.modified_count)
        if name == "delete_one":
            return collection.delete_one(arguments[0]).deleted_count
        if name == "find_one":
            return collection.find_one(arguments[0])
        if name == "find_sorted":
            return list(collection.find(arguments[0]).sort("n", -1).skip(1).limit(2))
        return list(collection.find(arguments[0]))
    except DuplicateKeyError as error:
        return ("duplicate", str(error))
    except BulkWriteError as error:
        return ("bulk", error.details)
    except WriteError as error:
        return ("write error", str(error))
    except (TypeError, ValueError, AttributeError) as error:  # mongomock's, for type errors
        return ("error", type(error).__name__, str(error))


def _same(value: Any) -> Any:
    """Values with types spelled out (1 == 1.0 == True in Python, not in BSON), generated
    ObjectIds replaced (each store draws its own)."""
    if isinstance(value, dict):
        return {k: _same(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [type(value).__name__, *(_same(v) for v in value)]
    if isinstance(value, mongomock.ObjectId):
        return "generated id"
    if isinstance(value, datetime):
        return ("datetime", value.isoformat())
    if isinstance(value, str) and "ObjectId(" in value:
        return "message naming a generated id"
    return (type(value).__name__, value)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(OPERATIONS, max_size=25))
def test_the_fast_paths_answer_as_plain_mongomock(operations: list[tuple[Any, ...]]) -> None:
    with clock.using(clock.frozen(NOW)):
        plain, guarded = _collections()
        for operation in operations:
            expected = _same(_run(plain, operation))
            assert _same(_run(guarded, operation)) == expected, operation
        assert _same(list(guarded.find())) == _same(list(plain.find()))


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    st.lists(DOCUMENTS, min_size=1, max_size=3),
    st.lists(st.tuples(st.sampled_from([0, 1, 2]), UPDATES), min_size=1, max_size=12),
)
def test_updates_of_stored_documents_answer_as_plain_mongomock(
    documents: list[dict[str, Any]], updates: list[tuple[int, dict[str, Any]]]
) -> None:
    """Updates that find their document (core.operators' or mongomock's, in place)."""
    with clock.using(clock.frozen(NOW)):
        plain, guarded = _collections()
        for number, document in enumerate(documents):
            stored = {**document, "_id": number}
            stored.pop("expiresAt", None)  # kept until the end: the TTL sweep is tested above
            for collection in (plain, guarded):
                _run(collection, ("insert_one", stored))
        for document_id, update in updates:
            operation = ("update_one", {"_id": document_id}, update, False)
            expected = _same(_run(plain, operation))
            assert _same(_run(guarded, operation)) == expected, operation
            assert _same(guarded.find_one({"_id": document_id})) == _same(
                plain.find_one({"_id": document_id})
            ), operation


def test_the_request_paths_updates_are_applied_without_mongomock() -> None:
    """rules.stores.users' writes of an event are core.operators' shapes: mongomock's own
    update (and the deep copy that guards it) is not needed for them."""
    users = in_memory_database("native")["users"]
    users.insert_one({"_id": 1, "project": "p", "userId": "u", "version": 1, "pending": []})

    def refuse(*_arguments: Any) -> None:
        raise AssertionError("left to mongomock")

    users._collection._apply_update_document = refuse
    moment = NOW.replace(tzinfo=None, microsecond=0)
    writes = [
        {
            "$set": {"points": {"balance": 5}, "version": 2},
            "$push": {"pending": {"$each": [{"id": 7}]}},
            "$min": {"pendingSince": moment},
        },
        {"$set": {"points.balance": 6, "version": 3}},
        {"$set": {"pending": []}, "$unset": {"pendingSince": ""}},
    ]
    for write in writes:
        assert (
            users.update_one({"_id": 1, "project": "p", "userId": "u"}, write).modified_count == 1
        )
    assert users.find_one({"_id": 1}) == {
        "_id": 1,
        "project": "p",
        "userId": "u",
        "version": 3,
        "pending": [],
        "points": {"balance": 6},
    }


def test_a_completed_key_is_updated_without_mongomock() -> None:
    """rules.stores.idempotency's completion of a bound key: its `$setOnInsert` is skipped."""
    keys = in_memory_database("native")["idempotency_keys"]
    keys.insert_one({"_id": 1, "project": "p", "key": "k", "fingerprint": "f"})

    def refuse(*_arguments: Any) -> None:
        raise AssertionError("left to mongomock")

    keys._collection._apply_update_document = refuse
    moment = NOW.replace(tzinfo=None, microsecond=0)
    completed = keys.update_one(
        {"project": "p", "key": "k", "fingerprint": "f"},
        {"$set": {"outcome": {"balance": 5}}, "$setOnInsert": {"createdAt": moment}},
        upsert=True,
    )

    assert completed.modified_count == 1
    assert keys.find_one({"_id": 1}) == {
        "_id": 1,
        "project": "p",
        "key": "k",
        "fingerprint": "f",
        "outcome": {"balance": 5},
    }


def test_a_read_hands_out_a_copy() -> None:
    collection = in_memory_database("db")["users"]
    collection.insert_one({"_id": 1, "nested": {"items": [1, {"a": 2}]}, "at": NOW})
    found = collection.find_one({"_id": 1})
    found["nested"]["items"][1]["a"] = 99
    found["nested"]["items"].append(3)

    again = collection.find_one({"_id": 1})
    assert again == {
        "_id": 1,
        "nested": {"items": [1, {"a": 2}]},
        "at": NOW.replace(microsecond=123000),  # milliseconds, as stored by a server
    }
    assert again["at"].tzinfo is not None


def test_an_inserted_document_is_stored_as_a_copy() -> None:
    collection = in_memory_database("db")["users"]
    document = {"_id": 1, "items": [1]}
    collection.insert_one(document)
    document["items"].append(2)
    assert collection.find_one({"_id": 1})["items"] == [1]


def test_an_update_that_fails_half_way_changes_nothing_as_on_a_server() -> None:
    """mongomock keeps the `$set` applied before the failing `$inc`; mongod applies both or
    neither."""
    collection = in_memory_database("db")["users"]
    collection.insert_one({"_id": 1, "n": 1, "word": "x"})

    with pytest.raises(TypeError):  # mongomock's error here; mongod answers a WriteError
        collection.update_one({"_id": 1}, {"$set": {"n": 2}, "$inc": {"word": 1}})

    assert collection.find_one({"_id": 1}) == {"_id": 1, "n": 1, "word": "x"}

    collection.insert_one({"_id": 2, "sub": {"n": 1, "deep": {"m": 1}}, "word": "x"})
    with pytest.raises(TypeError):
        collection.update_one(
            {"_id": 2}, {"$set": {"sub.n": 2, "sub.deep.m": 2}, "$inc": {"word": 1}}
        )
    assert collection.find_one({"_id": 2}) == {
        "_id": 2,
        "sub": {"n": 1, "deep": {"m": 1}},
        "word": "x",
    }


def test_an_expired_document_does_not_block_an_insert_of_its_id() -> None:
    plain, guarded = _collections()
    with clock.using(clock.frozen(NOW)):
        for collection in (plain, guarded):
            collection.insert_one({"_id": 1, "project": "p", "expiresAt": NOW + timedelta(1)})
    with clock.using(clock.frozen(NOW + timedelta(days=2))):
        for collection in (plain, guarded):
            collection.insert_one({"_id": 1, "project": "p", "n": 2})
            assert collection.find_one({"_id": 1}) == {"_id": 1, "project": "p", "n": 2}


def test_an_update_onto_a_taken_unique_key_is_refused_and_undone() -> None:
    plain, guarded = _collections()
    for collection in (plain, guarded):
        collection.insert_one({"_id": 1, "project": "p", "userId": "a"})
        collection.insert_one({"_id": 2, "project": "p", "userId": "b", "n": 1})
        with pytest.raises(DuplicateKeyError):
            collection.update_one({"_id": 2}, {"$set": {"userId": "a"}, "$inc": {"n": 1}})
    assert list(guarded.find()) == list(plain.find())
    assert guarded.find_one({"_id": 2}) == {"_id": 2, "project": "p", "userId": "b", "n": 1}


def test_pull_removes_what_its_condition_matched_as_mongodb_does() -> None:
    """Not mongomock's first-equal removal: true is no number to `$gte`, and stays."""
    users = in_memory_database("pull").users
    users.insert_one({"_id": 1, "log": [True, 1, 1.0]})
    users.update_one({"_id": 1}, {"$pull": {"log": {"$gte": 1}}})

    (kept,) = users.find_one({"_id": 1})["log"]
    assert kept is True


@pytest.mark.parametrize(
    "document",
    [
        {"a": 1, "b": {"c": {"d": [1, {"e": 2}]}}},
        {"$set": 1},
        {"a": {"$set": 1}},
        {"a\0": 1},
        {"a": {"b": {"c\0": 1}}},
        {"a": [{"b\0": 1}]},  # mongomock looks into sub-documents only, not into arrays
        {"a": 1, "$b": {"c\0": 1}},
    ],
)
def test_inserted_field_names_are_refused_as_mongomock_refuses_them(
    document: dict[str, Any],
) -> None:
    def outcome(validate: Any) -> Any:
        try:
            validate(document)
        except InvalidDocument as error:
            return str(error)
        return None

    expected = outcome(mongomock.collection._validate_data_fields)
    assert outcome(fastinserts._validate_fields) == expected


def test_one_document_inserted_twice_in_a_batch_answers_as_plain_mongomock() -> None:
    """The walk that checks a batch (core.storable) makes each stored form before the first
    insert gives the document its `_id`: the second insert still clashes on it."""
    plain, guarded = _collections()
    outcomes = []
    for collection in (plain, guarded):
        document = {"project": "p", "at": NOW}
        with pytest.raises(BulkWriteError) as refused:
            collection.insert_many([document, document], ordered=False)
        outcomes.append((_same(refused.value.details), _same(list(collection.find()))))
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][0]["nInserted"] == ("int", 1)


@pytest.mark.parametrize(
    "update",
    [{}, {"n": 1}, {"n": 1, "$set": {"n": 2}}],
)
def test_an_update_mongomock_refuses_is_refused_as_it_does(update: dict[Any, Any]) -> None:
    plain, guarded = _collections()
    outcomes = []
    for collection in (plain, guarded):
        collection.insert_one({"_id": 1, "n": 1})
        operation = ("update_one", {"_id": 1}, update, False)
        outcomes.append((_same(_run(collection, operation)), _same(list(collection.find()))))
    assert outcomes[0] == outcomes[1]
