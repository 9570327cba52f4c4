"""core.docsizes: the bound of what an update can add holds, and a store that trusts the bounds
it keeps refuses exactly what a store that encodes every updated document refuses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import bson
import pytest
from bson.errors import BSONError
from hypothesis import given, settings
from hypothesis import strategies as st
from pymongo import ASCENDING, IndexModel
from pymongo.errors import PyMongoError, WriteError

from core import clock, docsizes, fastpath, operators, storable
from core.inmemory import in_memory_database
from tests.unit.core.test_fastpath import DOCUMENTS, IDS, NOW, UPDATES, VALUES, _same

TEXTS = st.integers(min_value=0, max_value=120).map(lambda n: "é" * (n // 3) + "x" * n)
SIZED = st.one_of(VALUES, TEXTS, st.lists(TEXTS, max_size=3))
PATHS = st.sampled_from(["extra", "top", "sub.m", "sub.k.deep", "fresh.a.b", "n"])
# Paths creating sub-documents, and arrays, each costing more than its name in the update.
FRESH = st.sampled_from(["a.b.c", "d.e.f.g", "h.i", "j.k.l.m.n", "o", "p.q"])
ARRAYS = st.sampled_from(["log", "r", "s", "t"])
# The request path's operators, with values of many sizes, and a few of mongomock's own.
SIZED_UPDATES = st.one_of(
    UPDATES,
    st.builds(lambda p, v: {"$set": {p: v}}, PATHS, SIZED),
    st.builds(lambda o, p, v: {o: {p: v}}, st.sampled_from(["$min", "$max"]), PATHS, TEXTS),
    st.builds(lambda v: {"$push": {"log": v}}, SIZED),
    st.builds(lambda v, w: {"$push": {"fresh": {"$each": [v, w]}}}, SIZED, SIZED),
    st.builds(lambda p: {"$unset": {p: ""}}, PATHS),
    st.builds(lambda v: {"$pull": {"log": v}}, SIZED),
    st.builds(lambda n: {"$inc": {"n": n}}, st.sampled_from([1, 2**31, 2**62, 0.5])),
    st.builds(lambda s: {"$set": s}, st.dictionaries(FRESH, VALUES, min_size=1, max_size=6)),
    st.builds(
        lambda p: {"$push": p},
        st.dictionaries(ARRAYS, st.builds(lambda v: {"$each": v}, st.lists(VALUES, max_size=12))),
    ),
    st.builds(lambda v: {"$push": {"log": {"$each": [v] * 12}}}, VALUES),
)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(DOCUMENTS, SIZED_UPDATES)
def test_an_update_adds_no_more_than_its_growth(document: Any, update: Any) -> None:
    stored = fastpath._patch({**document, "_id": 1})
    try:
        result = operators.updated(stored, fastpath._patch(update))
    except (TypeError, ValueError):  # mongomock's refusals ($inc of a list...)
        return
    growth = docsizes.growth(update, len(bson.encode(update)))
    if result is not None and growth is not None:
        assert len(bson.encode(result)) <= len(bson.encode(stored)) + growth


def _run(collection: Any, operation: tuple[Any, ...]) -> Any:
    name, *arguments = operation
    try:
        if name == "insert_one":
            return collection.insert_one(dict(arguments[0])).inserted_id
        if name == "insert_many":
            return collection.insert_many([dict(d) for d in arguments[0]]).inserted_ids
        result = collection.update_one({"_id": arguments[0]}, arguments[1])
        return (result.matched_count, result.modified_count)
    except (PyMongoError, BSONError, OverflowError, TypeError, ValueError) as error:
        return (type(error).__name__, getattr(error, "code", None))


def _bounds_hold(collection: Any) -> None:
    """Every bound the store keeps is at least its document's size."""
    documents = collection._collection._store._documents
    for document in documents.values():
        known = docsizes.bound(documents, document)
        assert known is None or known >= len(bson.encode(document)), document


OPERATIONS = st.one_of(
    st.tuples(st.just("insert_one"), DOCUMENTS),
    st.tuples(st.just("insert_many"), st.lists(DOCUMENTS, min_size=1, max_size=2)),
    st.tuples(st.just("update_one"), IDS, SIZED_UPDATES),
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(min_value=120, max_value=500), st.lists(OPERATIONS, max_size=25))
def test_known_sizes_refuse_what_encoding_every_update_refuses(
    limit: int, operations: list[tuple[Any, ...]]
) -> None:
    with clock.using(clock.frozen(NOW)), mock.patch.object(storable, "MAX_DOCUMENT_BYTES", limit):
        bounded, measured = (in_memory_database(name)["things"] for name in ("a", "b"))
        for collection in (bounded, measured):
            collection.create_indexes(
                [IndexModel([("project", ASCENDING), ("userId", ASCENDING)], unique=True)]
            )
            collection.find_one({"_id": 0})  # the first lookup: sizes are kept from here on
        for operation in operations:
            docsizes.forget_all(measured._collection._store._documents)
            expected = _run(measured, operation)
            assert _same(_run(bounded, operation)) == _same(expected), operation
            _bounds_hold(bounded)
        assert _same(list(bounded.find())) == _same(list(measured.find()))


def _sized_store(limit: int) -> Any:
    things = in_memory_database("sized")["things"]
    things.find_one({"_id": 1})  # the first lookup: sizes are kept from here on
    things.insert_one({"_id": 1, "n": 2**62, "text": ""})
    return things


def test_an_update_one_byte_past_the_limit_is_refused_and_one_at_it_is_stored() -> None:
    size = len(bson.encode({"_id": 1, "n": 2**62, "text": "x" * 40}))
    with mock.patch.object(storable, "MAX_DOCUMENT_BYTES", size - 1):
        things = _sized_store(size - 1)
        with pytest.raises(WriteError) as raised:
            things.update_one({"_id": 1}, {"$set": {"text": "x" * 40}})
        assert raised.value.code == 17419
        assert things.find_one({"_id": 1})["text"] == ""
    with mock.patch.object(storable, "MAX_DOCUMENT_BYTES", size):
        things = _sized_store(size)
        assert things.update_one({"_id": 1}, {"$set": {"text": "x" * 40}}).modified_count == 1


def test_an_increment_past_64_bits_is_refused_though_the_size_is_known() -> None:
    things = _sized_store(storable.MAX_DOCUMENT_BYTES)
    things.update_one({"_id": 1}, {"$inc": {"n": 2**62 - 1}})
    with pytest.raises(OverflowError):
        things.update_one({"_id": 1}, {"$inc": {"n": 1}})
    assert things.find_one({"_id": 1})["n"] == 2**63 - 1


def test_bounds_are_kept_for_stored_documents_only() -> None:
    """A document replaced by its update, or deleted by the TTL sweep, leaves no bound (and no
    reference to it) behind."""
    with clock.using(clock.frozen(NOW)):
        things = _sized_store(storable.MAX_DOCUMENT_BYTES)
        things.create_indexes([IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0)])
        things.insert_one({"_id": 2, "expiresAt": NOW - timedelta(seconds=1)})
        for text in ("a", "bb", "ccc"):
            things.update_one({"_id": 1}, {"$set": {"text": text}})
        sizes = things._collection._store._documents.sizes
        stored = things._collection._store._documents
        assert sorted((d["_id"], d is stored[d["_id"]]) for d, _ in sizes.values()) == [
            (1, True),
            (2, True),
        ]
        assert things.find_one({"_id": 2}) is None  # expired: deleted by this read
        assert [document["_id"] for document, _ in sizes.values()] == [1]
