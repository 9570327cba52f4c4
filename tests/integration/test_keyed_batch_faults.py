"""A batch whose events carry idempotency keys (as the SDK sends them) is applied once however
it is retried: after a crash at any of its writes, and when two copies of it race.

The batch [amy, cat (new), amy, bob], each event with its own key, of a project with a
subscribed webhook writes, in order: the keys bound (one insert), the saves of amy, cat and
bob, the event records, the ledger entries and the outbox documents, the keys' outcomes (one
bulk write), and the pulls of each user's records (tests/integration/test_batch_faults.py has
the same batch without keys)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from pymongo.errors import OperationFailure

from core import clock
from rules.engine.evaluation import Event
from rules.errors import EventNotFound
from rules.stores.idempotency import IdempotencyKey, IdempotencyStore
from rules.stores.ledger import Ledger
from rules.stores.users import UserStore
from rules.usecases.batches import BatchItem, record_batch
from rules.usecases.reconcile import sweep_pending, verify_balances
from tests.integration.test_batch_faults import BATCH, BATCH_AT, POINTS, PROJECT, store
from tests.support.watched import Crash, CrashingDatabase

__all__ = ["store"]  # the fixture, shared with the unkeyed batch's tests

BALANCES = [20, 10, 30, 20]  # what the batch's items answer: amy, cat, amy, bob
WRITES = [
    "idempotency_keys.insert_many",
    "users.update_one",  # amy's save, with her two records and their keys
    "users.insert_one",  # cat, new
    "users.update_one",  # bob
    "events.insert_many",
    "ledger.insert_many",
    "notifications.insert_many",
    "idempotency_keys.bulk_write",  # the keys' outcomes
    *["users.update_one"] * 3,  # the pulls
]


@pytest.fixture(autouse=True)
def held_clock() -> Any:
    """Keys expire (TTL) on Laurel's clock: hold it at the batch's time."""
    with clock.using(clock.frozen(BATCH_AT)):
        yield


def keyed_batch(db: Any) -> list[Any]:
    items = [
        BatchItem(Event("login", user, BATCH_AT), BATCH_AT, IdempotencyKey(f"k{n}", user))
        for n, user in enumerate(BATCH)
    ]
    return record_batch(db, PROJECT, items)


def assert_each_event_once(store: Any) -> None:
    for user, before in (("amy", 1), ("cat", 0), ("bob", 1)):
        events = before + BATCH.count(user)
        document = store.users.find_one({"userId": user})
        assert store.events.count_documents({"userId": user}) == events
        assert store.notifications.count_documents({"userId": user}) == events
        assert document["points"]["balance"] == Ledger(store).balance(PROJECT, user)
        assert document["points"]["balance"] == POINTS * events
    assert store.idempotency_keys.count_documents({"outcome": {"$exists": True}}) == len(BATCH)
    assert verify_balances(store).drifts == []


def test_a_keyed_batch_writes_in_the_documented_order(store: Any) -> None:
    probe = CrashingDatabase(store)

    assert [r.outcome.balance for r in keyed_batch(probe)] == BALANCES
    assert probe.writes == WRITES


@pytest.mark.parametrize("sweep_first", [False, True], ids=["retry", "sweep_then_retry"])
@pytest.mark.parametrize("survive", range(len(WRITES)))
def test_a_crash_at_any_write_then_the_retried_batch_applies_each_event_once(
    store: Any, survive: int, sweep_first: bool
) -> None:
    with pytest.raises(Crash):
        keyed_batch(CrashingDatabase(store, survive=survive))
    if sweep_first:
        sweep_pending(store, BATCH_AT + timedelta(minutes=5), grace=timedelta(0))

    retried = keyed_batch(store)  # the client sends the same batch again

    assert [r.outcome.balance for r in retried] == BALANCES
    saves = {"amy": 2, "cat": 3, "bob": 4}  # how many writes the user's save needs done
    saved = {user for user, writes in saves.items() if survive >= writes}
    assert [r.replayed for r in retried] == [user in saved for user in BATCH]
    assert_each_event_once(store)
    # A user whose items all replayed is not read, so a record of theirs whose writes were all
    # done stays pending until their next load or the sweep (as after a single event's crash).
    sweep_pending(store, BATCH_AT + timedelta(minutes=10), grace=timedelta(0))
    assert all(document["pending"] == [] for document in store.users.find())
    assert_each_event_once(store)


def test_two_copies_of_a_keyed_batch_racing_apply_each_event_once(
    store: Any, monkeypatch: Any
) -> None:
    """Both copies read the users and decide them before either saves (a barrier at each
    copy's first save): one binds the keys and wins the version guard; the other, whose keys
    were bound by the first, loses the race, reads the users and the keys again, and replays."""
    save_records = UserStore.save_records
    both_decided = threading.Barrier(2, timeout=30)
    first_save = threading.local()

    def save_after_the_other_decided(users: UserStore, *args: Any) -> bool:
        if not getattr(first_save, "done", False):
            first_save.done = True
            both_decided.wait()
        return save_records(users, *args)

    monkeypatch.setattr(UserStore, "save_records", save_after_the_other_decided)
    answers: list[list[Any]] = []
    copies = [threading.Thread(target=lambda: answers.append(keyed_batch(store))) for _ in "ab"]
    for copy in copies:
        copy.start()
    for copy in copies:
        copy.join()

    first, second = answers
    assert [r.outcome.balance for r in first] == [r.outcome.balance for r in second] == BALANCES
    assert all(a.replayed != b.replayed for a, b in zip(first, second, strict=True))
    assert_each_event_once(store)


def test_a_copy_applied_while_the_batch_was_deciding_is_replayed(
    store: Any, monkeypatch: Any
) -> None:
    """The copy finds the keys bound by this batch, applies the events (a copy in flight)
    and completes them; this batch's saves then lose their race, and reading the users again it
    must read its own keys again too, and replay."""
    import rules.usecases.batches

    evaluate = rules.usecases.batches.evaluate_event
    copies: list[list[Any]] = []

    def copy_first(catalog: Any, event: Event, state: Any) -> Any:
        if not copies:
            copies.append([])
            copies[0] = keyed_batch(store)
        return evaluate(catalog, event, state)

    monkeypatch.setattr(rules.usecases.batches, "evaluate_event", copy_first)
    results = keyed_batch(store)

    assert [r.outcome.balance for r in copies[0]] == BALANCES
    assert not any(r.replayed for r in copies[0])
    assert [r.outcome.balance for r in results] == BALANCES
    assert all(r.replayed for r in results)
    assert_each_event_once(store)


def test_a_user_refused_while_deciding_frees_their_keys_for_the_retry(
    store: Any, monkeypatch: Any
) -> None:
    import rules.usecases.batches

    evaluate = rules.usecases.batches.evaluate_event

    def refusing_cat(catalog: Any, event: Event, state: Any) -> Any:
        if event.user_id == "cat":
            raise EventNotFound("login is being redefined")
        return evaluate(catalog, event, state)

    with monkeypatch.context() as patched:
        patched.setattr(rules.usecases.batches, "evaluate_event", refusing_cat)
        refused = keyed_batch(store)

    assert isinstance(refused[1], EventNotFound)
    assert store.idempotency_keys.find_one({"key": "k1"}) is None  # freed
    retried = keyed_batch(store)
    assert [r.replayed for r in retried] == [True, False, True, True]
    assert [r.outcome.balance for r in retried] == BALANCES
    assert_each_event_once(store)


def test_a_refused_user_whose_keys_cannot_be_freed_gets_the_database_error(
    store: Any, monkeypatch: Any
) -> None:
    """The other users of the batch are recorded and finished, and the refused user's items
    answer the database's error (never the whole batch a 500): the retry frees their keys."""
    import rules.usecases.batches

    evaluate = rules.usecases.batches.evaluate_event

    def refusing_cat(catalog: Any, event: Event, state: Any) -> Any:
        if event.user_id == "cat":
            raise EventNotFound("login is being redefined")
        return evaluate(catalog, event, state)

    def failing_release(*_args: Any) -> None:
        raise OperationFailure("not now")

    monkeypatch.setattr(rules.usecases.batches, "evaluate_event", refusing_cat)
    with monkeypatch.context() as patched:
        patched.setattr(IdempotencyStore, "release", failing_release)
        answered = keyed_batch(store)
    assert isinstance(answered[1], OperationFailure)
    assert [r.outcome.balance for i, r in enumerate(answered) if i != 1] == [20, 30, 20]
    assert all(document["pending"] == [] for document in store.users.find())
    assert store.idempotency_keys.find_one({"key": "k1"}) is not None  # still bound

    retried = keyed_batch(store)  # cat is still refused: this time the key is freed
    assert isinstance(retried[1], EventNotFound)
    assert store.idempotency_keys.find_one({"key": "k1"}) is None
    assert [r.replayed for i, r in enumerate(retried) if i != 1] == [True, True, True]
