"""rules.usecases.record.record_event against the store: lost updates, crashes, nothing twice."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from core import clock
from rules.engine.evaluation import Event
from rules.errors import EventNotFound
from rules.stores.definitions import DefinitionStore
from rules.stores.idempotency import IdempotencyKey, fingerprint
from rules.stores.indexes import ensure_indexes
from rules.stores.ledger import Ledger
from rules.stores.users import UserStore
from rules.usecases.record import Recorded, record_event

PROJECT = "acme"


@pytest.fixture
def store(db: Any) -> Any:
    ensure_indexes(db)
    now = clock.now()
    definitions = DefinitionStore(db)
    definitions.events.save(PROJECT, "login", {"points": {"fixed": 10}}, now)
    definitions.streaks.save(
        PROJECT, "daily", {"events": ["login"], "milestones": [{"count": 1, "points": 5}]}, now
    )
    return db


def login(db: Any, user_id: str = "u1") -> Any:
    now = clock.now()
    return record_event(db, PROJECT, Event("login", user_id, now), received_at=now).outcome


def balances(db: Any, user_id: str = "u1") -> tuple[int, int]:
    user = db.users.find_one({"project": PROJECT, "userId": user_id})
    return user["points"]["balance"], Ledger(db).balance(PROJECT, user_id)


def test_unknown_event_stores_nothing(store: Any) -> None:
    now = clock.now()
    with pytest.raises(EventNotFound):
        record_event(store, PROJECT, Event("nope", "u1", now), received_at=now)

    assert store.users.count_documents({}) == 0


def test_competing_write_between_read_and_save_is_not_lost(store: Any, monkeypatch: Any) -> None:
    login(store)  # user exists, balance 15 (10 + first-day milestone 5)
    original_save = UserStore.save_records
    interfered = []

    def save_after_a_competitor(self: UserStore, *args: Any, **kwargs: Any) -> bool:
        if not interfered:
            interfered.append(True)
            login(store)  # another request slips in between our read and our write
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(UserStore, "save_records", save_after_a_competitor)
    login(store)

    assert interfered == [True]
    assert balances(store) == (35, 35)
    assert store.events.count_documents({"userId": "u1"}) == 3


def test_concurrent_creation_of_a_new_user_applies_both(store: Any, monkeypatch: Any) -> None:
    original_save = UserStore.save_records
    interfered = []

    def save_after_a_competitor(self: UserStore, *args: Any, **kwargs: Any) -> bool:
        if not interfered:
            interfered.append(True)
            login(store, "fresh")  # creates the user while we also think it is new
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(UserStore, "save_records", save_after_a_competitor)
    login(store, "fresh")

    assert balances(store, "fresh") == (25, 25)
    assert store.users.count_documents({"userId": "fresh"}) == 1


def test_threads_hammering_one_user_lose_nothing(store: Any) -> None:
    threads, per_thread = 8, 10
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(per_thread):
                login(store, "busy")
        except BaseException as error:  # noqa: BLE001 — surfaced by the assertion below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert balances(store, "busy") == (10 * threads * per_thread + 5,) * 2
    assert store.events.count_documents({"userId": "busy"}) == threads * per_thread


WRITES_AFTER_SAVE = {
    "events": "rules.stores.eventlog.EventLog.insert_many",
    "ledger": "rules.stores.ledger.Ledger.insert",
    "pull": "rules.stores.users.UserStore.clear_pending",
}


def fail(*_args: Any, **_kwargs: Any) -> None:
    raise AutoReconnect("connection lost")


@pytest.mark.parametrize("write", WRITES_AFTER_SAVE)
def test_failed_write_after_the_save_still_answers_and_is_finished_later(
    store: Any, monkeypatch: Any, write: str
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(WRITES_AFTER_SAVE[write], fail)
        outcome = login(store)  # applied: answering an error would invite a paying retry
    assert outcome.balance == 15
    user = store.users.find_one({"userId": "u1"})
    assert user["points"]["balance"] == 15 and len(user["pending"]) == 1

    login(store)  # the next event for the user finishes the half-done one first

    assert balances(store) == (25, 25)
    assert store.events.count_documents({"userId": "u1"}) == 2
    assert store.ledger.count_documents({"userId": "u1"}) == 3
    assert store.users.find_one({"userId": "u1"})["pending"] == []


def test_a_bug_after_the_save_is_not_swallowed(store: Any, monkeypatch: Any) -> None:
    def bug(*_args: Any, **_kwargs: Any) -> None:
        raise KeyError("not a database error")

    monkeypatch.setattr("rules.stores.ledger.Ledger.insert", bug)

    with pytest.raises(KeyError):
        login(store)


def test_same_key_slipping_in_between_read_and_save_is_applied_once(
    store: Any, monkeypatch: Any
) -> None:
    login(store)
    key = IdempotencyKey("retry-1", fingerprint({"eventId": "login", "userId": "u1"}))
    now = clock.now().replace(microsecond=123000)  # milliseconds, as stored
    original_save = UserStore.save_records
    started: list[bool] = []
    competitor: list[Recorded] = []

    def save_after_a_competitor(self: UserStore, *args: Any, **kwargs: Any) -> bool:
        if not started:  # the client's retry of this very request overtakes it
            started.append(True)
            competitor.append(
                record_event(
                    store, PROJECT, Event("login", "u1", now), received_at=now, idempotency=key
                )
            )
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(UserStore, "save_records", save_after_a_competitor)
    ours = record_event(store, PROJECT, Event("login", "u1", now), received_at=now, idempotency=key)

    assert competitor[0].replayed is False and ours.replayed is True
    assert ours.outcome == competitor[0].outcome
    assert balances(store) == (25, 25)
    assert store.events.count_documents({"idempotencyKey": "retry-1"}) == 1
