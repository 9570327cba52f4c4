"""A write the majority did not confirm keeps its pending record (issue 14, item 2).

With `w="majority"`, an insert can reach the primary and still come back with a write concern
error (replication timed out, the primary stepped down): a failover may roll it back. The
event's pending record must then stay in the user's document so that the sweep writes the
records again, instead of being pulled as if they were safe.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.errors import BulkWriteError

from rules.engine.evaluation import Event
from rules.stores.definitions import DefinitionStore
from rules.stores.indexes import ensure_indexes
from rules.stores.ledger import Ledger
from rules.stores.storage import DUPLICATE_KEY, insert_missing
from rules.usecases.reconcile import sweep_pending
from rules.usecases.record import record_event

PROJECT = "acme"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
REPLICATION_TIMED_OUT = {"code": 64, "errmsg": "waiting for replication timed out"}


class UnconfirmedInserts:
    """A collection whose `insert_many` reaches the primary, then reports a write concern
    error, as a real server does when the majority does not confirm in time."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def insert_many(self, documents: list[dict[str, Any]], ordered: bool = True) -> None:
        write_errors = []
        for index, document in enumerate(documents):
            if self._collection.find_one({"_id": document["_id"]}) is None:
                self._collection.insert_one(document)
            else:
                write_errors.append({"index": index, "code": DUPLICATE_KEY, "errmsg": "dup"})
        raise BulkWriteError(
            {"writeErrors": write_errors, "writeConcernErrors": [REPLICATION_TIMED_OUT]}
        )


class UnconfirmedDatabase:
    def __init__(self, db: Any, collection: str) -> None:
        self._db = db
        self._collection = collection

    def __getitem__(self, name: str) -> Any:
        inner = self._db[name]
        return UnconfirmedInserts(inner) if name == self._collection else inner

    def get_collection(self, name: str, **_options: Any) -> Any:
        return self[name]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


@pytest.mark.parametrize("duplicates", [False, True], ids=["new", "already-there"])
def test_insert_missing_raises_a_write_concern_error(db: Any, duplicates: bool) -> None:
    document = {"_id": "e1", "project": PROJECT}
    if duplicates:
        db["ledger"].insert_one(document)

    with pytest.raises(BulkWriteError) as raised:
        insert_missing(UnconfirmedInserts(db["ledger"]), [document])

    assert raised.value.details["writeConcernErrors"] == [REPLICATION_TIMED_OUT]


def test_insert_missing_still_ignores_plain_duplicates(db: Any) -> None:
    db["ledger"].insert_one({"_id": "e1", "n": 1})

    insert_missing(db["ledger"], [{"_id": "e1", "n": 2}, {"_id": "e2", "n": 3}])

    assert sorted((d["_id"], d["n"]) for d in db["ledger"].find()) == [("e1", 1), ("e2", 3)]


def test_an_unconfirmed_ledger_write_leaves_the_record_pending_for_the_sweep(db: Any) -> None:
    ensure_indexes(db)
    DefinitionStore(db).events.save(PROJECT, "login", {"points": {"fixed": 10}}, START)
    event = Event("login", "u1", START, {})

    recorded = record_event(UnconfirmedDatabase(db, "ledger"), PROJECT, event, received_at=START)

    assert recorded.outcome.balance == 10  # applied: the client is answered
    user = db.users.find_one({"userId": "u1"})
    assert len(user["pending"]) == 1  # not pulled: the ledger entry may yet roll back
    assert "pendingSince" in user

    finished = sweep_pending(db, START + timedelta(minutes=5))

    assert finished == 1
    user = db.users.find_one({"userId": "u1"})
    assert user["pending"] == [] and "pendingSince" not in user
    assert Ledger(db).balance(PROJECT, "u1") == user["points"]["balance"] == 10
