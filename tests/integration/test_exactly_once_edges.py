"""Edges of exactly-once found in review: refused requests, retries after the time checks,
expired keys, the limiter under odd batches, and the recovery jobs under live traffic."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import clock
from core.settings import Settings
from jobs.maintenance import sweep_outbox, verify_ledger
from rules.engine.evaluation import Event
from rules.stores.idempotency import IdempotencyKey, IdempotencyStore
from rules.stores.ledger import Ledger
from rules.stores.users import UserStore
from rules.usecases.reconcile import sweep_pending, verify_balances
from rules.usecases.record import record_event
from tests.support.watched import Crash, CrashingDatabase
from web import create_app

KEY = {"Idempotency-Key": "order-7"}


@pytest.fixture
def login(define: Any) -> None:
    define("events", "login", {"points": {"fixed": 10}})


def test_a_refused_request_leaves_its_key_free_for_the_corrected_retry(
    login: Any, client: Any, auth: Any, db: Any
) -> None:
    typo = client.post("/event", json={"eventId": "logn", "userId": "u"}, headers=auth() | KEY)
    assert typo.status_code == 404
    assert db.idempotency_keys.count_documents({}) == 0  # "nothing stored"

    fixed = client.post("/event", json={"eventId": "login", "userId": "u"}, headers=auth() | KEY)

    assert fixed.status_code == 200 and "Idempotent-Replayed" not in fixed.headers
    assert db.idempotency_keys.count_documents({}) == 1


def test_a_retry_replays_even_when_its_token_could_not_send_it_again(
    login: Any, client: Any, auth: Any
) -> None:
    eight_days_ago = int((clock.now() - timedelta(days=8)).timestamp() * 1000)
    body = {"eventId": "login", "userId": "u", "timestamp": eight_days_ago}
    first = client.post("/event", json=body, headers=auth("events:write events:import") | KEY)
    assert first.status_code == 200

    retry = client.post("/event", json=body, headers=auth("events:write") | KEY)

    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json == first.json
    without_key = client.post("/event", json=body, headers=auth("events:write"))
    assert without_key.status_code == 403


def test_an_expired_key_taken_by_another_request_keeps_its_own_outcome(db: Any) -> None:
    keys = IdempotencyStore(db)
    now = datetime(2026, 11, 26, tzinfo=UTC)
    with clock.using(clock.frozen(now)):  # (what the TTL index has expired follows the clock)
        keys.bind("acme", IdempotencyKey("k", "fingerprint-B"), now)  # B took the expired key

        # A's crashed record is finished late and would record A's outcome under the key.
        keys.complete("acme", "k", "fingerprint-A", {"balance": 1}, now)

        stored = db.idempotency_keys.find_one({"key": "k"})
    assert stored["fingerprint"] == "fingerprint-B" and "outcome" not in stored


def test_completing_a_batchs_keys_leaves_alone_a_key_another_request_took(db: Any) -> None:
    keys = IdempotencyStore(db)
    now = datetime(2026, 11, 26, tzinfo=UTC)
    with clock.using(clock.frozen(now)):
        keys.bind("acme", IdempotencyKey("k1", "fingerprint-A"), now)
        keys.bind("acme", IdempotencyKey("k2", "fingerprint-B"), now)  # took the expired key

        # A crashed batch's records are finished late; k3 expired meanwhile and is free.
        completions = [(f"k{n}", "fingerprint-A", {"balance": n}) for n in (1, 2, 3)]
        keys.complete_many("acme", completions, now)

        stored = {d["key"]: d for d in db.idempotency_keys.find({}, {"_id": 0})}
    assert stored["k1"]["outcome"] == {"balance": 1}
    assert stored["k2"]["fingerprint"] == "fingerprint-B" and "outcome" not in stored["k2"]
    assert stored["k3"]["outcome"] == {"balance": 3}
    assert stored["k3"]["fingerprint"] == "fingerprint-A"


def test_an_oversized_batch_does_not_knock_the_limiter_off_its_storage(
    login: Any, client: Any, auth: Any, caplog: Any
) -> None:
    huge = {"events": [{"eventId": "login", "userId": "u" * 120}] * 9000}
    with caplog.at_level(logging.WARNING):
        response = client.post("/events/batch", json=huge, headers=auth())

    assert response.status_code == 413
    assert "unreachable" not in caplog.text.lower()


def test_a_batch_larger_than_the_rate_limit_window_records_what_the_window_holds(
    settings: Settings, clients: Any, auth: Any, define: Any
) -> None:
    define("events", "login", {"points": {"fixed": 10}})
    client = create_app(replace(settings, rate_limit="3/minute"), clients).test_client()
    five = {"events": [{"eventId": "login", "userId": f"u{i}"} for i in range(5)]}

    batch = client.post("/events/batch", json=five, headers=auth())
    after = client.post("/event", json={"eventId": "login", "userId": "v"}, headers=auth())

    assert batch.status_code == 200  # not refused for ever
    # ... but never more events than the limit: the rest are 429, to be sent again.
    assert [r["status"] for r in batch.json["data"]["results"]] == [200, 200, 200, 429, 429]
    assert after.status_code == 429  # the batch used the whole window


def event(db: Any, user: str = "ann") -> None:
    now = clock.now()
    record_event(db, "acme", Event("login", user, now), received_at=now)


@pytest.mark.parametrize("repair", [True, False])
def test_an_event_landing_while_a_drift_is_confirmed_is_neither_clobbered_nor_reported(
    login: Any, db: Any, monkeypatch: Any, repair: bool
) -> None:
    event(db)
    db.users.update_one({"userId": "ann"}, {"$set": {"points.balance": 99}})  # a real drift
    original = Ledger.balance
    landed: list[bool] = []

    def balance_then_an_event(self: Ledger, project: str, user_id: str) -> int:
        total = original(self, project, user_id)
        if not landed:
            landed.append(True)
            event(db)  # lands between the confirmation's read and its decision
        return total

    monkeypatch.setattr(Ledger, "balance", balance_then_an_event)
    checked = verify_balances(db, repair=repair)

    user = db.users.find_one({"userId": "ann"})
    if repair:
        # The first repair lost to the event's version; the second read repaired for real.
        assert [(d.balance, d.ledger_total, d.repaired) for d in checked.drifts] == [
            (109, 20, True)
        ]
        assert user["points"]["balance"] == 20 == original(Ledger(db), "acme", "ann")
    else:
        assert [(d.balance, d.ledger_total) for d in checked.drifts] == [(109, 20)]
        assert user["points"]["balance"] == 109


def test_one_broken_record_does_not_stall_the_sweep_for_everyone(
    login: Any, db: Any, caplog: Any
) -> None:
    past = clock.now() - timedelta(minutes=5)
    for user in ("broken", "fine"):
        with pytest.raises(Crash):
            record_event(
                CrashingDatabase(db, survive=1),
                "acme",
                Event("login", user, past),
                received_at=past,
            )
    db.users.update_one({"userId": "broken"}, {"$unset": {"pending.0.ledger": ""}})

    with caplog.at_level(logging.ERROR):
        finished = sweep_pending(db, clock.now())

    assert finished == 1
    assert "cannot finish the pending records of user 'broken'" in caplog.text
    assert db.users.find_one({"userId": "fine"})["pending"] == []


def test_the_scheduled_jobs_sweep_and_repair(login: Any, db: Any, caplog: Any) -> None:
    past = clock.now() - timedelta(minutes=5)
    with pytest.raises(Crash):
        record_event(
            CrashingDatabase(db, survive=1), "acme", Event("login", "ann", past), received_at=past
        )
    event(db, "bob")
    db.users.update_one({"userId": "bob"}, {"$set": {"points.balance": 5}})

    with caplog.at_level(logging.INFO):
        assert sweep_outbox(db) == 1
        assert verify_ledger(db) == 1

    assert "ledger drift repaired: project=acme user=bob balance=5 ledger=10" in caplog.text
    assert "ledger check: 2 user(s), 1 drifted" in caplog.text
    assert verify_balances(db).drifts == []


def test_several_pending_records_are_pulled_one_by_one(
    login: Any, db: Any, monkeypatch: Any
) -> None:
    past = clock.now() - timedelta(minutes=5)
    # Each crashed request would otherwise finish its predecessor's record first.
    monkeypatch.setattr("rules.usecases.unit_of_work.finish_pending", lambda *args: 0)
    for _ in range(3):
        with pytest.raises(Crash):
            record_event(
                CrashingDatabase(db, survive=1),
                "acme",
                Event("login", "ann", past),
                received_at=past,
            )
    assert len(db.users.find_one({"userId": "ann"})["pending"]) == 3
    monkeypatch.undo()

    assert sweep_pending(db, clock.now()) == 3

    user = db.users.find_one({"userId": "ann"})
    assert user["pending"] == [] and "pendingSince" not in user
    assert user["points"]["balance"] == 30 == Ledger(db).balance("acme", "ann")


def test_a_sweep_running_inside_a_live_request_finishes_it_once(
    login: Any, db: Any, monkeypatch: Any
) -> None:
    event(db)
    original = UserStore.clear_pending
    swept: list[int] = []
    started: list[bool] = []

    def sweep_first(self: UserStore, *args: Any) -> None:
        if not started:  # the sweep reaches the record between the request's writes
            started.append(True)
            swept.append(sweep_pending(db, clock.now() + timedelta(hours=1)))
        original(self, *args)

    monkeypatch.setattr(UserStore, "clear_pending", sweep_first)
    event(db)

    assert swept == [1]
    user = db.users.find_one({"userId": "ann"})
    assert user["pending"] == [] and user["points"]["balance"] == 20
    assert db.events.count_documents({}) == 2 and db.ledger.count_documents({}) == 2
