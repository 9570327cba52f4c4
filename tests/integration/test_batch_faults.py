"""A crash at every write of a batch's bulk path, then recovery: each event applied once.

The batch [amy, cat (new), amy, bob] of a project with a subscribed webhook writes, in order:
the saves of amy, cat and bob (one conditional write each, pushing one pending record per
event), the event records, the ledger entries and the outbox documents (one insert each), and
the pulls of each user's records. For each N the process dies at write N+1; then the recovery
sweep runs on a healthy store. A user whose save got through has all of their batch's events
applied exactly once (balance == Σ ledger, one event record and one outbox document per
event); a user whose save did not has none of them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rules.engine.evaluation import Event
from rules.stores.definitions import DefinitionStore
from rules.stores.indexes import ensure_indexes
from rules.stores.ledger import Ledger
from rules.stores.users import UserStore
from rules.stores.webhooks import WebhookStore
from rules.usecases.batches import BatchItem, record_batch
from rules.usecases.reconcile import sweep_pending, verify_balances
from rules.usecases.record import record_event
from tests.support.watched import Crash, CrashingDatabase

PROJECT = "acme"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BATCH_AT = START + timedelta(hours=1)
BATCH = ["amy", "cat", "amy", "bob"]
SAVES = ["amy", "cat", "bob"]  # in order of first appearance
POINTS = 10


@pytest.fixture
def store(db: Any) -> Any:
    ensure_indexes(db)
    DefinitionStore(db).events.save(PROJECT, "login", {"points": {"fixed": POINTS}}, START)
    WebhookStore(db).save(
        PROJECT,
        "hook",
        {"url": "https://example.com/h", "secret": "s" * 32, "events": ["event.rewarded"]},
        START,
    )
    for user in ("amy", "bob"):  # known users: their saves are updates
        record_event(db, PROJECT, Event("login", user, START), received_at=START)
    return db


def batch(db: Any, at: datetime = BATCH_AT) -> list[Any]:
    items = [BatchItem(Event("login", user, at), at) for user in BATCH]
    return record_batch(db, PROJECT, items)


def test_a_batch_writes_its_records_with_one_insert_per_collection(store: Any) -> None:
    probe = CrashingDatabase(store)
    results = batch(probe)

    assert [r.outcome.balance for r in results] == [20, 10, 30, 20]
    assert probe.writes == [
        "users.update_one",  # amy's save, with her two records
        "users.insert_one",  # cat, new
        "users.update_one",  # bob
        "events.insert_many",
        "ledger.insert_many",
        "notifications.insert_many",
        "users.update_one",  # amy's records pulled
        "users.update_one",  # cat's
        "users.update_one",  # bob's
    ]


@pytest.mark.parametrize("survive", range(9))
def test_a_crash_at_any_write_of_a_batch_then_the_sweep_applies_each_event_once(
    store: Any, survive: int
) -> None:
    crashing = CrashingDatabase(store, survive=survive)
    with pytest.raises(Crash):
        batch(crashing)

    sweep_pending(store, BATCH_AT + timedelta(minutes=5), grace=timedelta(0))

    saved = SAVES[:survive]
    for user in SAVES:
        before = 0 if user == "cat" else 1
        events = before + (BATCH.count(user) if user in saved else 0)
        document = store.users.find_one({"userId": user})
        if document is None:
            assert user == "cat" and user not in saved
            continue
        assert store.events.count_documents({"userId": user}) == events
        assert store.notifications.count_documents({"userId": user}) == events
        assert document["eventCount"] == events
        assert document["points"]["balance"] == POINTS * events
        assert Ledger(store).balance(PROJECT, user) == POINTS * events
        assert document["pending"] == [] and "pendingSince" not in document
    assert verify_balances(store).drifts == []


def test_the_next_batch_finishes_what_a_crash_left_however_young(store: Any) -> None:
    """Whatever is pending when a batch reads its users is finished before it applies its own
    events, seconds old or not: the young-pending policy of rules.usecases.unit_of_work, the
    same as for one event (test_recording: the next event finishes the half-done one)."""
    with pytest.raises(Crash):
        batch(CrashingDatabase(store, survive=3))  # every save done, nothing else
    assert len(store.users.find_one({"userId": "amy"})["pending"]) == 2

    meanwhile = batch(store, BATCH_AT + timedelta(seconds=5))

    assert [r.outcome.balance for r in meanwhile] == [40, 20, 50, 30]
    for user, events in (("amy", 5), ("bob", 3), ("cat", 2)):
        assert store.events.count_documents({"userId": user}) == events
        assert store.notifications.count_documents({"userId": user}) == events
        assert Ledger(store).balance(PROJECT, user) == POINTS * events
        assert store.users.find_one({"userId": user})["pending"] == []
    assert verify_balances(store).drifts == []


def test_a_user_changed_while_the_batch_was_deciding_is_read_and_decided_again(
    store: Any, monkeypatch: Any
) -> None:
    load_many = UserStore.load_many

    def stale(users: UserStore, project: str, user_ids: Any) -> Any:
        found = load_many(users, project, user_ids)
        # Another request records an event of amy's after the batch read her.
        record_event(store, PROJECT, Event("login", "amy", BATCH_AT), received_at=BATCH_AT)
        return found

    monkeypatch.setattr(UserStore, "load_many", stale)
    results = batch(store)

    assert [r.outcome.balance for r in results] == [30, 10, 40, 20]
    assert store.events.count_documents({"userId": "amy"}) == 4
    assert Ledger(store).balance(PROJECT, "amy") == 40
    assert verify_balances(store).drifts == []


def test_an_unexpected_error_deciding_one_user_is_their_items_error_and_the_rest_apply(
    store: Any, monkeypatch: Any
) -> None:
    """One bad item does not reject the others: an error nobody foresaw while deciding cat's
    event becomes cat's item result, with nothing of cat saved, and amy and bob are applied."""
    import rules.usecases.batches

    evaluate = rules.usecases.batches.evaluate_event

    def failing_for_cat(catalog: Any, event: Event, state: Any) -> Any:
        if event.user_id == "cat":
            raise ValueError("unforeseen")
        return evaluate(catalog, event, state)

    monkeypatch.setattr(rules.usecases.batches, "evaluate_event", failing_for_cat)
    results = batch(store)

    assert isinstance(results[1], ValueError)
    assert [r.outcome.balance for i, r in enumerate(results) if i != 1] == [20, 30, 20]
    assert store.users.find_one({"userId": "cat"}) is None
    assert store.events.count_documents({"userId": "cat"}) == 0
    for user, events in (("amy", 3), ("bob", 2)):
        assert Ledger(store).balance(PROJECT, user) == POINTS * events
        assert store.users.find_one({"userId": user})["pending"] == []
    assert verify_balances(store).drifts == []
