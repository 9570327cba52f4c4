"""core.pointindex answers exactly as plain mongomock does, on random operation sequences."""

from __future__ import annotations

import re
from typing import Any

import mongomock
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from core import pointindex, pointmatch
from core.inmemory import in_memory_database

PROJECTS = st.sampled_from(["p1", "p2"])
# Values a unique field may hold, irregular ones included: missing (None here), arrays, mixed
# numbers and a bool, which equality treats the way MongoDB does.
USER_IDS = st.one_of(
    st.sampled_from(["a", "b", "c", "d"]),
    st.sampled_from([1, 1.0, 2, True]),
    st.none(),
    st.lists(st.sampled_from(["a", "b"]), max_size=2),
)
IDS = st.integers(min_value=0, max_value=5)
FIELD_FILTERS = st.one_of(
    st.builds(lambda i: {"_id": i}, IDS),
    st.builds(lambda p, u: {"project": p, "userId": u}, PROJECTS, USER_IDS),
    st.builds(lambda p, u, n: {"project": p, "userId": u, "n": n}, PROJECTS, USER_IDS, IDS),
    st.builds(lambda i, n: {"_id": i, "n": {"$gte": n}}, IDS, IDS),
    st.builds(lambda n: {"n": n}, IDS),
    st.builds(lambda p: {"project": p}, PROJECTS),
    st.builds(lambda u: {"$and": [{"project": "p1"}, {"userId": u}]}, USER_IDS),
    # A batch's users, and documents by a list of ids.
    st.builds(
        lambda p, u: {"project": p, "userId": {"$in": u}}, PROJECTS, st.lists(USER_IDS, max_size=3)
    ),
    st.builds(
        lambda p, u: {"project": {"$in": p}, "userId": {"$in": u}},
        st.lists(PROJECTS, max_size=2),
        st.lists(USER_IDS, max_size=3),
    ),
    st.builds(lambda i: {"_id": {"$in": i}}, st.lists(IDS, max_size=3)),
)


def _document(document_id: int | None, project: str, user_id: Any, n: int) -> dict[str, Any]:
    document: dict[str, Any] = {"project": project, "n": n}
    if document_id is not None:
        document["_id"] = document_id
    if user_id is not None:
        document["userId"] = user_id
    return document


DOCUMENTS = st.builds(_document, st.one_of(st.none(), IDS), PROJECTS, USER_IDS, IDS)
UPDATES = st.one_of(
    st.builds(lambda n: {"$set": {"n": n}}, IDS),
    st.builds(lambda u: {"$set": {"userId": u}}, USER_IDS),
    st.builds(lambda p: {"$set": {"project": p}, "$inc": {"n": 1}}, PROJECTS),
    st.just({"$unset": {"userId": ""}}),
)
OPERATIONS = st.one_of(
    st.tuples(st.just("insert_one"), DOCUMENTS),
    st.tuples(st.just("update_one"), FIELD_FILTERS, UPDATES, st.booleans()),
    st.tuples(st.just("update_many"), FIELD_FILTERS, UPDATES),
    st.tuples(st.just("replace_one"), FIELD_FILTERS, DOCUMENTS),
    st.tuples(st.just("find_one_and_update"), FIELD_FILTERS, UPDATES, st.booleans()),
    st.tuples(st.just("delete_one"), FIELD_FILTERS),
    st.tuples(st.just("find_one"), FIELD_FILTERS),
    st.tuples(st.just("find"), FIELD_FILTERS),
)


def _run(collection: Any, operation: tuple[Any, ...]) -> Any:
    name, *arguments = operation
    try:
        if name == "insert_one":
            document = dict(arguments[0])
            document.pop("_id", None) if "_id" not in arguments[0] else None
            return ("inserted", collection.insert_one(document).inserted_id is not None)
        if name == "update_one":
            result = collection.update_one(arguments[0], arguments[1], upsert=arguments[2])
            return (result.matched_count, result.modified_count, result.upserted_id)
        if name == "update_many":
            result = collection.update_many(arguments[0], arguments[1])
            return (result.matched_count, result.modified_count)
        if name == "replace_one":
            replacement = {k: v for k, v in arguments[1].items() if k != "_id"}
            result = collection.replace_one(arguments[0], replacement)
            return (result.matched_count, result.modified_count)
        if name == "find_one_and_update":
            return collection.find_one_and_update(
                arguments[0],
                arguments[1],
                upsert=arguments[2],
                return_document=ReturnDocument.AFTER,
            )
        if name == "delete_one":
            return collection.delete_one(arguments[0]).deleted_count
        if name == "find_one":
            return collection.find_one(arguments[0])
        return list(collection.find(arguments[0]))
    except DuplicateKeyError:
        return "duplicate"
    except mongomock.WriteError as error:
        return ("write error", str(error))


def _collection(indexed: bool) -> Any:
    collection = mongomock.MongoClient(tz_aware=True)["db"]["users"]
    collection.create_indexes(
        [IndexModel([("project", ASCENDING), ("userId", ASCENDING)], unique=True)]
    )
    if indexed:
        pointindex.attach(collection)
    return collection


def _without_generated_ids(result: Any) -> Any:
    """Upserts and inserts without an _id get a fresh ObjectId on each side."""
    if isinstance(result, dict):
        return {k: v for k, v in result.items() if not (k == "_id" and not isinstance(v, int))}
    if isinstance(result, list):
        return [_without_generated_ids(item) for item in result]
    if isinstance(result, tuple):
        return tuple(None if not isinstance(i, int | str) else i for i in result)
    return result


@settings(max_examples=300)
@given(st.lists(OPERATIONS, max_size=30))
def test_point_index_answers_as_plain_mongomock(operations: list[tuple[Any, ...]]) -> None:
    plain, indexed = _collection(False), _collection(True)
    for operation in operations:
        expected = _without_generated_ids(_run(plain, operation))
        assert _without_generated_ids(_run(indexed, operation)) == expected, operation
    assert _without_generated_ids(list(indexed.find())) == _without_generated_ids(
        list(plain.find())
    )


def test_lookups_by_key_read_only_their_candidates() -> None:
    """The point of the index: a lookup by _id or by a unique key tests one document, not the
    whole collection."""
    collection = _collection(True)
    collection.insert_many([{"_id": i, "project": "p", "userId": f"u{i}"} for i in range(2000)])
    index = pointindex.attach(collection)
    assert index._candidates({"project": "p", "userId": "u1500"}) == {1500}
    assert index._candidates({"_id": 7, "version": 3}) == {7}
    assert index._candidates({"n": 1}) is None
    assert index._candidates({"project": "p", "userId": {"$in": ["u3", "u9", "x"]}}) == {3, 9}
    assert index._candidates({"_id": {"$in": [4, 5]}}) == {4, 5}
    assert collection.find_one({"project": "p", "userId": "u1500"})["_id"] == 1500


@pytest.mark.parametrize("new_user_id", ["b", 1, True, 1.0, 2, ["a"]])
@pytest.mark.parametrize("embedded", [False, True])
def test_a_document_whose_key_changed_is_found_by_its_new_key_only(
    new_user_id: Any, embedded: bool
) -> None:
    """Reads and updates keep a document's entry when its key stays (core.fastpath's update
    and mongomock's own); a changed key moves it."""
    collection = in_memory_database("t")["users"] if embedded else _collection(True)
    if embedded:
        collection.create_index([("project", 1), ("userId", 1)], unique=True)
    collection.insert_many([{"_id": 1, "project": "p", "userId": 1}, {"_id": 2, "project": "p"}])
    assert collection.find_one({"project": "p", "userId": 1})["_id"] == 1
    collection.update_one({"_id": 1}, {"$set": {"n": 1}})  # the key stays
    assert collection.find_one({"project": "p", "userId": 1})["_id"] == 1

    collection.update_one({"_id": 1}, {"$set": {"userId": new_user_id}})

    found = collection.find_one({"project": "p", "userId": new_user_id})
    assert found is not None and found["_id"] == 1
    if new_user_id != 1:
        assert collection.find_one({"project": "p", "userId": 1}) is None


def test_a_drop_and_a_new_unique_index_rebuild_the_index() -> None:
    collection = _collection(True)
    collection.insert_one({"_id": 1, "project": "p", "userId": "u"})
    collection.drop()
    assert collection.find_one({"project": "p", "userId": "u"}) is None
    collection.insert_one({"_id": 2, "project": "p", "userId": "u", "email": "x"})
    collection.create_index("email", unique=True)
    with pytest.raises(DuplicateKeyError):
        collection.insert_one({"_id": 3, "project": "p", "userId": "v", "email": "x"})


def test_an_index_created_or_dropped_is_planned_for_at_the_next_lookup() -> None:
    """The definitions are re-read only when they change: each change must be seen, a drop
    and a creation under the same name included."""
    collection = _collection(True)
    collection.insert_one({"_id": 1, "project": "p", "userId": "u", "email": "x", "tag": "t"})
    index = pointindex.attach(collection)
    collection.create_index("email", unique=True, name="contact")
    assert collection.find_one({"email": "x"})["_id"] == 1
    assert index._candidates({"email": "x"}) == {1}

    collection.drop_index("contact")
    collection.create_index("tag", unique=True, name="contact")
    assert collection.find_one({"tag": "t"})["_id"] == 1
    assert index._candidates({"email": "x"}) is None
    assert index._candidates({"tag": "t"}) == {1}

    collection.drop_indexes()
    assert collection.find_one({"tag": "t"})["_id"] == 1
    assert index._candidates({"tag": "t"}) is None


def test_the_embedded_store_uses_the_index() -> None:
    db = in_memory_database("t")
    db["users"].insert_one({"project": "p", "userId": "u"})
    assert db["users"].find_one({"project": "p", "userId": "u"})["userId"] == "u"
    assert "_laurel_point_index" in db["users"]._collection.__dict__


@pytest.mark.parametrize("user_id", [["a", "b"], None, {"x": 1}])
def test_documents_with_irregular_keys_are_still_found(user_id: Any) -> None:
    plain, indexed = _collection(False), _collection(True)
    for collection in (plain, indexed):
        collection.insert_one(_document(1, "p1", user_id, 0))
        collection.insert_one(_document(2, "p1", "c", 0))
    for query in ({"project": "p1", "userId": "a"}, {"project": "p1", "userId": None}):
        assert list(indexed.find(query)) == list(plain.find(query))
    assert indexed.find_one({"project": "p1", "userId": "a"}) == plain.find_one(
        {"project": "p1", "userId": "a"}
    )


# Values of every kind equality may meet: the same number as int, float and bool, ids, arrays
# holding a value, sub-documents, null.
MATCH_VALUES = st.sampled_from(
    [1, 1.0, True, 0, False, "1", "a", "", None, [1], ["a"], [None], [], {"k": 1}, {"k": "a"}]
    + [mongomock.ObjectId("0" * 24), mongomock.ObjectId("1" * 24)]
)
MATCH_FIELDS = st.sampled_from(["a", "b", "a.k", "a.0", "a..k", "a.k.j", "$comment"])
# What a filter may ask besides equalities: array sizes (the pending-record check).
SIZES = st.sampled_from([{"$size": 0}, {"$size": 1}, {"$size": 2}, {"$size": -1}])
SIZES |= st.sampled_from([{"$size": True}, {"$size": 1.0}, {"$size": 1, "$ne": None}])
# ... and memberships (a batch's users), of lists with values of every kind, a regular
# expression too.
SIZES |= st.builds(lambda values: {"$in": values}, st.lists(MATCH_VALUES, max_size=3))
SIZES |= st.sampled_from([{"$in": [re.compile("^a")]}, {"$in": ["x", re.compile("1")]}])
SIZES |= st.sampled_from([{"$in": ("a", 1)}, {"$in": [], "$ne": 1}])
# What a document may hold besides those values: arrays of sub-documents (`pending`).
SUB_DOCUMENTS = st.dictionaries(st.sampled_from(["k", "j"]), MATCH_VALUES, max_size=2)
ARRAYS = st.lists(SUB_DOCUMENTS | MATCH_VALUES, max_size=3)


@settings(max_examples=1500, deadline=None)
@given(
    st.dictionaries(MATCH_FIELDS, MATCH_VALUES | SIZES, max_size=3),
    st.dictionaries(st.sampled_from(["a", "b"]), MATCH_VALUES | ARRAYS | SUB_DOCUMENTS, max_size=2),
)
def test_a_point_querys_filter_matches_as_mongomock_decides(
    filter: dict[str, Any], document: dict[str, Any]
) -> None:
    assert pointmatch.matches(filter, document) == mongomock.filtering.filter_applies(
        filter, document
    )


PENDING_IDS = st.sampled_from([mongomock.ObjectId("0" * 24), mongomock.ObjectId("1" * 24), "x"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.dictionaries(st.just("id"), PENDING_IDS, max_size=1), max_size=4),
    PENDING_IDS,
    st.integers(0, 4),
)
def test_a_pending_record_check_matches_as_mongomock_decides(
    pending: list[dict[str, Any]], wanted: Any, size: int
) -> None:
    """rules.stores.users clears a record with {pending: {$size: n}, pending.id: id}: arrays of
    sub-documents, the one asked for anywhere in them."""
    document = {"_id": 1, "userId": "u", "pending": pending}
    for filter in (
        {"userId": "u", "pending": {"$size": size}, "pending.id": wanted},
        {"pending.id": wanted},
        {"pending": {"$size": size}},
    ):
        assert pointmatch.matches(filter, document) == mongomock.filtering.filter_applies(
            filter, document
        )
