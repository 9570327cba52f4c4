"""A crash at every write along the path of a support action, then recovery: applied once.

A support action goes through the unit of work events use (rules.usecases.unit_of_work), so it
is recovered the same way: for a keyed debit of an existing user the writes are: bind the key,
save the user with its pending record, insert the ledger entry, insert the audit entry, record
the key's outcome, pull the pending record. For each N, the process dies at write N+1; then
recovery runs (the sweep, the client's retry with the same key, or both in either order).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import clock
from rules.engine.evaluation import Event
from rules.errors import InsufficientBalance
from rules.stores.definitions import DefinitionStore
from rules.stores.idempotency import IdempotencyKey, IdempotencyStore, fingerprint
from rules.stores.indexes import ensure_indexes
from rules.stores.ledger import Ledger
from rules.stores.users import UserStore
from rules.usecases.reconcile import sweep_pending, verify_balances
from rules.usecases.record import record_event
from rules.usecases.support import Applied, adjust_points
from tests.support.watched import Crash, CrashingDatabase

PROJECT = "acme"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AT = START + timedelta(hours=1)
KEY = IdempotencyKey("refund-1", fingerprint({"delta": -25, "reason": "refund"}))


@pytest.fixture
def store(db: Any) -> Any:
    ensure_indexes(db)
    DefinitionStore(db).events.save(PROJECT, "login", {"points": {"fixed": 30}}, START)
    record_event(db, PROJECT, Event("login", "u1", START), received_at=START)  # balance 30
    return db


def refund(db: Any) -> Applied:
    """A debit that, applied twice, would be refused: the retry must replay it."""
    return adjust_points(
        db, PROJECT, "u1", delta=-25, reason="refund", actor="agent", now=AT, idempotency=KEY
    )


def assert_applied_once(store: Any) -> None:
    user = store.users.find_one({"userId": "u1"})
    assert user["points"]["balance"] == 5 == Ledger(store).balance(PROJECT, "u1")
    assert store.ledger.count_documents({"source": "adjustment"}) == 1
    assert store.audit.count_documents({"action": "points.adjusted"}) == 1
    assert store.idempotency_keys.find_one({"key": KEY.key})["outcome"]["balance"] == 5


def test_the_path_of_a_keyed_adjustment_is_the_events_path(store: Any) -> None:
    probe = CrashingDatabase(store)
    refund(probe)

    assert probe.writes == [
        "idempotency_keys.insert_one",
        "users.update_one",
        "ledger.insert_many",
        "audit.insert_many",
        "idempotency_keys.update_one",
        "users.update_one",
    ]


@pytest.mark.parametrize("recovery", ["sweep", "retry", "sweep_then_retry", "retry_then_sweep"])
@pytest.mark.parametrize("survive", range(6))
def test_a_crash_at_any_write_of_an_adjustment_then_recovery_applies_it_once(
    store: Any, survive: int, recovery: str
) -> None:
    crashing = CrashingDatabase(store, survive=survive)
    with pytest.raises(Crash):
        refund(crashing)

    applied_by_crashed_request = len(crashing.writes) >= 2  # the user save got through
    for step in recovery.split("_then_"):
        if step == "sweep":
            sweep_pending(store, AT + timedelta(minutes=5), grace=timedelta(0))
        else:
            retried = refund(store)  # the client retries with the same key
            assert retried.replayed == applied_by_crashed_request
            assert retried.result["balance"] == 5
    if recovery == "sweep" and not applied_by_crashed_request:
        assert store.ledger.count_documents({"source": "adjustment"}) == 0
        assert refund(store).replayed is False

    assert_applied_once(store)
    sweep_pending(store, AT + timedelta(minutes=5), grace=timedelta(0))
    user = store.users.find_one({"userId": "u1"})
    assert user["pending"] == [] and "pendingSince" not in user
    assert verify_balances(store).drifts == []
    assert_applied_once(store)


def test_a_retry_refused_after_a_lost_race_frees_the_key_an_earlier_attempt_bound(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Laurel's clock at AT: the key bound below must not have expired already.
    with clock.using(clock.frozen(AT)):
        # An earlier attempt of this very request bound the key, then failed (503 or a crash).
        IdempotencyStore(store).bind(PROJECT, KEY, AT)
        real_save = UserStore.save_records
        raced = []

        def spend_first(users: UserStore, *args: Any, **kwargs: Any) -> bool:
            if raced:
                return real_save(users, *args, **kwargs)
            raced.append(True)  # another spend lands between this retry's load and its save
            adjust_points(store, PROJECT, "u1", delta=-20, reason="shop", actor="a", now=AT)
            return False

        monkeypatch.setattr(UserStore, "save_records", spend_first)

        with pytest.raises(InsufficientBalance):
            refund(store)  # decided on 30, refused on 10 after the lost race

        assert store.idempotency_keys.find_one({"key": KEY.key}) is None
        corrected = IdempotencyKey(KEY.key, fingerprint({"delta": -5, "reason": "fix"}))
        applied = adjust_points(
            store,
            PROJECT,
            "u1",
            delta=-5,
            reason="fix",
            actor="agent",
            now=AT,
            idempotency=corrected,
        )
        assert applied.result["balance"] == 5
