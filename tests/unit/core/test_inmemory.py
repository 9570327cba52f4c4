"""The in-memory MongoDB rejects what a real server (through pymongo) would reject."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import numpy
import pytest
from bson.errors import InvalidDocument
from pymongo import InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DocumentTooLarge, WriteError

from core.inmemory import in_memory_database

BSON_ERRORS = (InvalidDocument, OverflowError)
ORIGINAL = {"_id": 1, "value": 0, "items": []}

REJECTED = [
    pytest.param(numpy.int64(7), id="numpy-int64"),
    pytest.param(numpy.int32(7), id="numpy-int32"),
    pytest.param(numpy.bool_(True), id="numpy-bool"),
    pytest.param(date(2024, 1, 1), id="date"),
    pytest.param(Decimal("1.5"), id="decimal"),
    pytest.param(2**70, id="int-2**70"),
    pytest.param(2**63, id="int-2**63"),
    pytest.param(-(2**63) - 1, id="int-below-int64"),
    pytest.param({"nested": Decimal("1")}, id="nested-decimal"),
    pytest.param([1, date(2024, 1, 1)], id="date-in-list"),
]

Write = Callable[[Any, Any], Any]
WRITES: list[Any] = [
    pytest.param(lambda c, v: c.insert_one({"_id": 2, "value": v}), id="insert_one"),
    pytest.param(
        lambda c, v: c.insert_many([{"_id": 2, "value": 1}, {"_id": 3, "value": v}]),
        id="insert_many",
    ),
    pytest.param(
        lambda c, v: c.update_one({"_id": 1}, {"$set": {"value": v}}), id="update_one-set"
    ),
    pytest.param(
        lambda c, v: c.update_one({"_id": 1}, {"$push": {"items": v}}), id="update_one-push"
    ),
    pytest.param(
        lambda c, v: c.update_one({"_id": 2}, {"$set": {"value": v}}, upsert=True),
        id="update_one-upsert",
    ),
    pytest.param(lambda c, v: c.update_many({}, {"$set": {"value": v}}), id="update_many"),
    pytest.param(lambda c, v: c.replace_one({"_id": 1}, {"value": v}), id="replace_one"),
    pytest.param(
        lambda c, v: c.find_one_and_update({"_id": 1}, {"$set": {"value": v}}),
        id="find_one_and_update",
    ),
    pytest.param(
        lambda c, v: c.find_one_and_replace({"_id": 1}, {"value": v}), id="find_one_and_replace"
    ),
    pytest.param(
        lambda c, v: c.update_one({"value": v}, {"$set": {"value": 1}}), id="update_one-filter"
    ),
    pytest.param(lambda c, v: c.delete_one({"value": v}), id="delete_one-filter"),
]


@pytest.fixture
def things() -> Any:
    collection = in_memory_database("laurel_test")["things"]
    collection.insert_one(dict(ORIGINAL))
    return collection


def stored(collection: Any) -> list[dict[str, Any]]:
    return list(collection.find({}, sort=[("_id", 1)]))


@pytest.mark.parametrize("value", REJECTED)
@pytest.mark.parametrize("write", WRITES)
def test_values_mongodb_cannot_store_are_rejected_and_nothing_is_written(
    things: Any, write: Write, value: Any
) -> None:
    with pytest.raises(BSON_ERRORS):
        write(things, value)
    assert stored(things) == [ORIGINAL]


def test_numpy_float64_is_rejected_like_other_numpy_scalars(things: Any) -> None:
    # numpy.float64 subclasses float, so bson.encode accepts it; mongomock then hands the numpy
    # scalar back on reads, where a real server returns a plain float.
    # docs/architecture.md#collections-and-owners: no numpy scalars in documents, and the test store
    # is what catches them.
    with pytest.raises(BSON_ERRORS):
        things.insert_one({"_id": 2, "value": numpy.float64(7.5)})
    assert stored(things) == [ORIGINAL]


def test_collections_reached_by_attribute_are_guarded_too() -> None:
    database = in_memory_database("laurel_test")
    with pytest.raises(BSON_ERRORS):
        database.things.insert_one({"value": Decimal("1")})
    with pytest.raises(BSON_ERRORS):
        database.get_collection("things").insert_one({"value": Decimal("1")})
    assert database["things"].count_documents({}) == 0


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(0, id="zero"),
        pytest.param(2**63 - 1, id="int64-max"),
        pytest.param(-(2**63), id="int64-min"),
        pytest.param(2.5, id="float"),
        pytest.param("text", id="str"),
        pytest.param(True, id="bool"),
        pytest.param(None, id="none"),
        pytest.param({"nested": [1, "a", None]}, id="nested"),
    ],
)
def test_plain_values_are_stored_and_read_back(things: Any, value: Any) -> None:
    things.insert_one({"_id": 2, "value": value})
    things.update_one({"_id": 1}, {"$set": {"value": value}, "$push": {"items": value}})
    assert things.find_one({"_id": 2})["value"] == value
    assert things.find_one({"_id": 1}) == {"_id": 1, "value": value, "items": [value]}


def test_aware_datetimes_are_stored_and_read_back_as_the_same_instant(things: Any) -> None:
    berlin_summer = timezone(timedelta(hours=2))
    moment = datetime(2024, 7, 1, 14, 30, 5, 123000, tzinfo=berlin_summer)
    things.insert_one({"_id": 2, "at": moment})
    things.find_one_and_update({"_id": 1}, {"$set": {"at": moment}})
    assert things.find_one({"_id": 2})["at"] == moment
    assert things.find_one({"_id": 1})["at"] == datetime(2024, 7, 1, 12, 30, 5, 123000, tzinfo=UTC)


def test_replace_and_find_one_and_update_write_plain_values(things: Any) -> None:
    things.replace_one({"_id": 1}, {"value": 5, "items": ["a"]})
    after = things.find_one_and_update({"_id": 1}, {"$push": {"items": "b"}}, return_document=True)
    assert after == {"_id": 1, "value": 5, "items": ["a", "b"]}


def test_each_in_memory_database_starts_empty() -> None:
    in_memory_database("laurel_test")["things"].insert_one({"value": 1})
    assert in_memory_database("laurel_test")["things"].count_documents({}) == 0


def test_bulk_write_of_anything_but_update_one_is_refused(things: Any) -> None:
    with pytest.raises(NotImplementedError):
        things.bulk_write([InsertOne({"_id": 2, "value": 1})])
    assert stored(things) == [ORIGINAL]


def upserts() -> list[UpdateOne]:
    """Matched and modified, matched and unchanged, inserted, and refused (key "a" taken)."""
    return [
        UpdateOne({"_id": 1}, {"$inc": {"n": 1}, "$setOnInsert": {"new": True}}, upsert=True),
        UpdateOne({"_id": 2}, {"$set": {"n": 0}}),
        UpdateOne({"_id": 3}, {"$set": {"key": "c"}}, upsert=True),
        UpdateOne({"_id": 4}, {"$set": {"key": "a"}}, upsert=True),
        UpdateOne({"_id": 5}, {"$set": {"key": "e"}}, upsert=True),
    ]


@pytest.mark.parametrize("ordered", [True, False])
def test_bulk_write_answers_and_refuses_as_mongodb(ordered: bool) -> None:
    """(mongomock's own bulk_write does not take pymongo 4's requests any more.)"""
    keys = in_memory_database("bulk")["keys"]
    keys.create_index("key", unique=True)
    keys.insert_many([{"_id": 1, "key": "a", "n": 0}, {"_id": 2, "key": "b", "n": 0}])

    with pytest.raises(BulkWriteError) as refused:
        keys.bulk_write(upserts(), ordered=ordered)

    details = refused.value.details
    assert [(e["index"], e["code"]) for e in details["writeErrors"]] == [(3, 11000)]
    # Unordered, the requests after the refused one are applied; ordered, none is.
    upserted = [{"index": 2, "_id": 3}] + ([] if ordered else [{"index": 4, "_id": 5}])
    assert {k: details[k] for k in ("nMatched", "nModified", "nUpserted", "upserted")} == {
        "nMatched": 2,
        "nModified": 1,
        "nUpserted": len(upserted),
        "upserted": upserted,
    }
    assert list(keys.find({}, sort=[("_id", 1)])) == [
        {"_id": 1, "key": "a", "n": 1},
        {"_id": 2, "key": "b", "n": 0},
        {"_id": 3, "key": "c"},
        *([] if ordered else [{"_id": 5, "key": "e"}]),
    ]


def test_bulk_write_counts_what_it_applied(things: Any) -> None:
    applied = things.bulk_write(
        [UpdateOne({"_id": 1}, {"$inc": {"value": 1}}), UpdateOne({"_id": 9}, {"$set": {"v": 1}})]
    )

    assert (applied.matched_count, applied.modified_count, applied.upserted_count) == (1, 1, 0)
    assert stored(things) == [{**ORIGINAL, "value": 1}]


def test_bulk_write_refuses_what_the_guard_refuses(things: Any) -> None:
    with pytest.raises(InvalidDocument):
        things.bulk_write([UpdateOne({"_id": 1}, {"$set": {"value": Decimal("1.5")}})])
    assert stored(things) == [ORIGINAL]


# mongod's limit is 16 MiB of BSON; a 256-character CJK string is 768 bytes of UTF-8.
CJK = "漢" * 256
OVER_LIMIT = [CJK] * (16 * 1024 * 1024 // 768 + 10)


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda c: c.insert_one({"_id": 2, "big": OVER_LIMIT}), id="insert_one"),
        pytest.param(lambda c: c.insert_many([{"_id": 2, "big": OVER_LIMIT}]), id="insert_many"),
        pytest.param(lambda c: c.replace_one({"_id": 1}, {"big": OVER_LIMIT}), id="replace_one"),
        pytest.param(
            lambda c: c.replace_one({"_id": 2}, {"big": OVER_LIMIT}, upsert=True),
            id="replace_one-upsert",
        ),
    ],
)
def test_documents_over_16_mib_are_refused_like_mongod(things: Any, write: Any) -> None:
    with pytest.raises(DocumentTooLarge):
        write(things)
    assert stored(things) == [ORIGINAL]


def test_an_update_growing_a_document_past_16_mib_fails_and_leaves_it_as_it_was(
    things: Any,
) -> None:
    half = OVER_LIMIT[: len(OVER_LIMIT) // 2 + 10]
    things.update_one({"_id": 1}, {"$set": {"a": half}})
    with pytest.raises(WriteError) as raised:
        things.update_one({"_id": 1}, {"$set": {"b": half}})
    assert raised.value.code == 17419
    assert set(things.find_one({"_id": 1})) == {"_id", "value", "items", "a"}
    with pytest.raises(WriteError):
        things.update_one({"_id": 3}, {"$set": {"a": half, "b": half}}, upsert=True)
    assert things.find_one({"_id": 3}) is None


def test_documents_just_under_16_mib_are_stored(things: Any) -> None:
    things.insert_one({"_id": 2, "big": OVER_LIMIT[:21_000]})  # about 15.6 MiB
    assert len(things.find_one({"_id": 2})["big"]) == 21_000
