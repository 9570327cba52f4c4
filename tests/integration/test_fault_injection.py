"""A crash at every write along the path of one event, then recovery: applied exactly once.

The path of a keyed event for an existing user is: bind the key, save the user with its
pending record, insert the event record, insert the ledger entries, record the key's outcome,
pull the pending record. For each N, the process dies at write N+1; then recovery runs (the
sweep, the client's retry with the same key, or both in either order) on a healthy store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rules.engine.evaluation import Event
from rules.stores.definitions import DefinitionStore
from rules.stores.idempotency import IdempotencyKey, fingerprint
from rules.stores.indexes import ensure_indexes
from rules.stores.ledger import Ledger
from rules.usecases.reconcile import sweep_pending, verify_balances
from rules.usecases.record import record_event
from tests.support.watched import Crash, CrashingDatabase

PROJECT = "acme"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
REQUEST = {"eventId": "purchase", "userId": "u1", "metadata": {"orderValue": 30}}
KEY = IdempotencyKey("order-1", fingerprint(REQUEST))


@pytest.fixture
def store(db: Any) -> Any:
    ensure_indexes(db)
    definitions = DefinitionStore(db)
    definitions.events.save(
        PROJECT,
        "purchase",
        {"points": {"fixed": 5, "perUnit": {"field": "orderValue", "rate": 2}}},
        START,
    )
    definitions.streaks.save(
        PROJECT,
        "shopper",
        {"events": ["purchase"], "milestones": [{"count": 2, "points": 7}]},
        START,
    )
    return db


def purchase(db: Any, at: datetime, key: IdempotencyKey | None = KEY) -> Any:
    event = Event("purchase", "u1", at, {"orderValue": 30})
    return record_event(db, PROJECT, event, received_at=at, idempotency=key)


def writes_of_one_event(store: Any, key: IdempotencyKey | None) -> list[str]:
    probe = CrashingDatabase(store)
    purchase(probe, START + timedelta(days=1), key)
    return probe.writes


def assert_applied_once(store: Any, balance_before: int) -> None:
    """The keyed purchase of day 2 is applied once: 65 points + the day-2 milestone's 7."""
    user = store.users.find_one({"userId": "u1"})
    assert user["points"]["balance"] == balance_before + 65 + 7
    assert user["points"]["balance"] == Ledger(store).balance(PROJECT, "u1")
    for record in user["pending"]:
        # A replay answers from the completed key without loading the user, so a crash just
        # before the last write (the pull) leaves a record whose writes are all done; the
        # sweep or the user's next event pulls it.
        assert store.events.count_documents({"_id": record["id"]}) == 1
        assert store.idempotency_keys.find_one({"key": KEY.key})["outcome"] is not None
    assert store.events.count_documents({"idempotencyKey": KEY.key}) == 1
    assert user["eventCount"] == 2
    assert user["streaks"][0]["currentCount"] == 2
    assert store.idempotency_keys.find_one({"key": KEY.key})["outcome"]["balance"] == (
        balance_before + 72
    )


def test_the_path_of_a_keyed_event_is_the_documented_six_writes(store: Any) -> None:
    purchase(store, START, key=None)  # the user exists: the save is an update

    assert writes_of_one_event(store, KEY) == [
        "idempotency_keys.insert_one",
        "users.update_one",
        "events.insert_many",
        "ledger.insert_many",
        "idempotency_keys.update_one",
        "users.update_one",
    ]


def test_a_keyed_pending_record_holds_its_outcome_once(store: Any) -> None:
    purchase(store, START, key=None)
    crashing = CrashingDatabase(store, survive=2)  # the key is bound and the user saved

    with pytest.raises(Crash):
        purchase(crashing, START + timedelta(days=1))

    (pending,) = store.users.find_one({"userId": "u1"})["pending"]
    assert "outcome" not in pending["idempotency"]  # the event record carries it
    sweep_pending(store, START + timedelta(days=1, minutes=5), grace=timedelta(0))
    stored = store.idempotency_keys.find_one({"key": KEY.key})["outcome"]
    assert stored == pending["event"]["outcome"] and stored["balance"] == 65 + 72


RECOVERIES = ["sweep", "retry", "sweep_then_retry", "retry_then_sweep"]


@pytest.mark.parametrize("recovery", RECOVERIES)
@pytest.mark.parametrize("survive", range(6))
def test_a_crash_at_any_write_then_recovery_applies_the_event_once(
    store: Any, survive: int, recovery: str
) -> None:
    purchase(store, START, key=None)  # day 1: 65 points, streak 1
    before = store.users.find_one({"userId": "u1"})["points"]["balance"]
    crashing = CrashingDatabase(store, survive=survive)
    day2 = START + timedelta(days=1)

    with pytest.raises(Crash):
        purchase(crashing, day2)

    later = day2 + timedelta(minutes=5)
    applied_by_crashed_request = len(crashing.writes) >= 2  # the user save got through
    for step in recovery.split("_then_"):
        if step == "sweep":
            sweep_pending(store, later, grace=timedelta(0))
        else:
            recorded = purchase(store, day2)  # the client retries with the same key
            assert recorded.replayed == applied_by_crashed_request
    if recovery == "sweep" and not applied_by_crashed_request:
        # Nothing was applied, so there is nothing to recover: the client's retry applies it.
        assert store.events.count_documents({"idempotencyKey": KEY.key}) == 0
        assert purchase(store, day2).replayed is False

    assert_applied_once(store, before)
    assert verify_balances(store).drifts == []
    sweep_pending(store, later, grace=timedelta(0))
    user = store.users.find_one({"userId": "u1"})
    assert user["pending"] == [] and "pendingSince" not in user
    assert_applied_once(store, before)


@pytest.mark.parametrize("survive", range(4))
def test_a_crash_without_a_key_is_recovered_by_the_sweep(store: Any, survive: int) -> None:
    # Without a key only the server can make a half-done event whole: the sweep does.
    crashing = CrashingDatabase(store, survive=survive)
    with pytest.raises(Crash):
        purchase(crashing, START, key=None)

    sweep_pending(store, START + timedelta(minutes=1), grace=timedelta(0))

    user = store.users.find_one({"userId": "u1"})
    applied = survive >= 1
    assert store.events.count_documents({}) == int(applied)
    if applied:
        assert user["points"]["balance"] == 65 == Ledger(store).balance(PROJECT, "u1")
        assert user["pending"] == []
    else:
        assert user is None


def test_the_sweep_leaves_young_records_to_their_requests(store: Any) -> None:
    crashing = CrashingDatabase(store, survive=1)
    with pytest.raises(Crash):
        purchase(crashing, START, key=None)

    assert sweep_pending(store, START + timedelta(seconds=10), grace=timedelta(seconds=30)) == 0
    assert sweep_pending(store, START + timedelta(seconds=31), grace=timedelta(seconds=30)) == 1
    assert store.events.count_documents({}) == 1


@pytest.mark.parametrize("survive", range(6))
def test_a_crash_on_a_new_users_first_keyed_event_then_a_retry_applies_it_once(
    store: Any, survive: int
) -> None:
    with pytest.raises(Crash):
        purchase(CrashingDatabase(store, survive=survive), START)

    purchase(store, START)  # the client's retry
    sweep_pending(store, START + timedelta(minutes=5), grace=timedelta(0))

    user = store.users.find_one({"userId": "u1"})
    assert user["points"]["balance"] == 65 == Ledger(store).balance(PROJECT, "u1")
    assert user["eventCount"] == 1 and user["pending"] == []
    assert store.events.count_documents({"idempotencyKey": KEY.key}) == 1
