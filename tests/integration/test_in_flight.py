"""A record another request of this process is finishing is left to it (rules.usecases.in_flight),
unless it carries the key the loading request checks; a request that stops before finishing
lets go of its records, so that the user's next request finishes them, however young."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core import clock
from rules.engine.evaluation import Event
from rules.stores.idempotency import IdempotencyKey
from rules.stores.ledger import Ledger
from rules.usecases import unit_of_work
from rules.usecases.batches import BatchItem, record_batch
from rules.usecases.record import record_event
from tests.conftest import PROJECT
from tests.support.watched import Crash, CrashingDatabase


@pytest.fixture
def login(define: Any) -> None:
    define("events", "login", {"points": {"fixed": 10}})


def event(db: Any, user: str, key: str | None = None) -> Any:
    now = clock.now()
    idempotency = None if key is None else IdempotencyKey(key, f"{user}-login")
    return record_event(
        db, PROJECT, Event("login", user, now), received_at=now, idempotency=idempotency
    )


def batch(db: Any, users: list[str]) -> list[Any]:
    now = clock.now()
    return record_batch(db, PROJECT, [BatchItem(Event("login", user, now), now) for user in users])


def finished_records(monkeypatch: Any) -> list[Any]:
    """The ids of the records each finishing writes, in order."""
    ids: list[Any] = []
    finish = unit_of_work.finish_records

    def watched(db: Any, project: str, records: Any, effects: Any = ()) -> None:
        ids.extend(record["id"] for _, record in records)
        finish(db, project, records, effects)

    monkeypatch.setattr(unit_of_work, "finish_records", watched)
    return ids


def while_finishing(monkeypatch: Any, meanwhile: Callable[[], Any]) -> list[Any]:
    """Run `meanwhile` once, when the first finishing has written its ledger entries (its record
    saved and held, its key not completed yet); returns what it answered."""
    answers: list[Any] = []
    insert = Ledger.insert

    def insert_then_meanwhile(self: Ledger, entries: Any) -> None:
        insert(self, entries)
        if not answers:
            answers.append(None)
            answers[0] = meanwhile()

    monkeypatch.setattr(Ledger, "insert", insert_then_meanwhile)
    return answers


def assert_counted_once(db: Any, user: str, events: int) -> None:
    document = db.users.find_one({"userId": user})
    assert document["pending"] == [] and "pendingSince" not in document
    assert db.events.count_documents({"userId": user}) == events
    assert document["points"]["balance"] == 10 * events == Ledger(db).balance(PROJECT, user)


def test_a_record_in_flight_here_is_left_to_the_request_finishing_it(
    login: Any, db: Any, monkeypatch: Any
) -> None:
    finished = finished_records(monkeypatch)
    meanwhile = while_finishing(monkeypatch, lambda: event(db, "amy"))

    first = event(db, "amy")

    assert [first.outcome.balance, meanwhile[0].outcome.balance] == [10, 20]
    assert len(finished) == len(set(finished)) == 2  # each record finished once, by its owner
    assert_counted_once(db, "amy", 2)


def test_a_batch_leaves_the_records_in_flight_here_to_their_owner(
    login: Any, db: Any, monkeypatch: Any
) -> None:
    finished = finished_records(monkeypatch)
    meanwhile = while_finishing(monkeypatch, lambda: batch(db, ["amy", "bob", "amy"]))

    first = batch(db, ["amy", "bob"])

    assert [r.outcome.balance for r in first] == [10, 10]
    assert [r.outcome.balance for r in meanwhile[0]] == [20, 20, 30]
    assert len(finished) == len(set(finished)) == 5
    assert_counted_once(db, "amy", 3)
    assert_counted_once(db, "bob", 2)


def test_a_copy_finishes_the_record_in_flight_here_that_holds_its_key_and_replays(
    login: Any, db: Any, monkeypatch: Any
) -> None:
    meanwhile = while_finishing(monkeypatch, lambda: event(db, "amy", key="k1"))

    first = event(db, "amy", key="k1")

    assert not first.replayed and meanwhile[0].replayed
    assert first.outcome.balance == meanwhile[0].outcome.balance == 10
    assert_counted_once(db, "amy", 1)


def test_a_copy_of_a_keyed_batch_replays_what_is_in_flight_here(
    login: Any, db: Any, monkeypatch: Any
) -> None:
    def keyed(users: list[str]) -> list[Any]:
        now = clock.now()
        items = [
            BatchItem(Event("login", user, now), now, IdempotencyKey(f"k{n}", user))
            for n, user in enumerate(users)
        ]
        return record_batch(db, PROJECT, items)

    meanwhile = while_finishing(monkeypatch, lambda: keyed(["amy", "bob", "amy"]))

    first = keyed(["amy", "bob", "amy"])

    assert [r.outcome.balance for r in first] == [10, 10, 20]
    assert [r.outcome.balance for r in meanwhile[0]] == [10, 10, 20]
    assert all(r.replayed for r in meanwhile[0]) and not any(r.replayed for r in first)
    assert_counted_once(db, "amy", 2)
    assert_counted_once(db, "bob", 1)


@pytest.mark.parametrize("survive", [1, 2, 3])  # crash at the event record, ledger, or pull
def test_the_users_next_event_finishes_a_crashed_events_young_record(
    login: Any, db: Any, survive: int
) -> None:
    with pytest.raises(Crash):
        event(CrashingDatabase(db, survive=survive), "amy")

    assert event(db, "amy").outcome.balance == 20

    assert_counted_once(db, "amy", 2)


# The batch's writes: amy's save, bob's, the event records, the ledger entries...
@pytest.mark.parametrize("survive", [1, 2, 3])  # crash after amy's save, bob's, the events'
def test_the_next_batch_finishes_a_crashed_batchs_young_records(
    login: Any, db: Any, survive: int
) -> None:
    with pytest.raises(Crash):
        batch(CrashingDatabase(db, survive=survive), ["amy", "bob"])

    again = batch(db, ["amy", "bob"])

    saved = {"amy": 1, "bob": 1 if survive >= 2 else 0}
    assert [r.outcome.balance for r in again] == [10 * (saved["amy"] + 1), 10 * (saved["bob"] + 1)]
    assert_counted_once(db, "amy", saved["amy"] + 1)
    assert_counted_once(db, "bob", saved["bob"] + 1)
