"""How many store operations one event costs (the README's "Performance" section states these).

The exactly-once protocol of rules.usecases.record needs, for an event of a known user with the
project's definitions cached: the definitions' stamp, the user's load, the conditional save
(which also pushes the pending record), the event record, the ledger entries (when points are
awarded) and the pull of the pending record. An idempotency key adds the replay check, the
claim, the check after the load and the recording of the outcome; a subscribed webhook adds
the outbox insert. Everything else an event does is a side effect of its own (leaderboards in
Redis, webhook deliveries).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from core.inmemory import in_memory_database
from rules.engine.evaluation import Event
from rules.stores.definitions import DefinitionStore
from rules.stores.idempotency import IdempotencyKey
from rules.stores.indexes import ensure_indexes
from rules.stores.webhooks import WebhookStore
from rules.usecases.batches import BatchItem, record_batch
from rules.usecases.catalog import CatalogCache
from rules.usecases.record import record_event
from tests.support.watched import CountingDatabase

PROJECT = "p"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def db() -> CountingDatabase:
    store = in_memory_database("round_trips")
    ensure_indexes(store)
    DefinitionStore(store).events.save(PROJECT, "login", {"points": {"fixed": 10}}, NOW)
    return CountingDatabase(store)


def _one_event(db: CountingDatabase, key: str | None = None) -> Counter[str]:
    """The operations of the second event of a known user (the definitions cached)."""
    catalogs = CatalogCache()
    for n, idempotency in enumerate((None, key)):
        db.log.clear()
        at = NOW + timedelta(minutes=n)
        record_event(
            db,  # type: ignore[arg-type]
            PROJECT,
            Event("login", "amy", at),
            received_at=at,
            idempotency=None if idempotency is None else IdempotencyKey(idempotency, "f"),
            catalogs=catalogs,
        )
    return db.operations


def test_an_event_takes_six_store_operations(db: CountingDatabase) -> None:
    assert _one_event(db) == {
        "definition_stamps.find_one": 1,
        "users.find_one": 1,
        "users.update_one": 2,  # the save with its pending record, and its pull
        "events.insert_many": 1,
        "ledger.insert_many": 1,
    }


def test_an_idempotency_key_adds_four(db: CountingDatabase) -> None:
    assert _one_event(db, key="k1") == {
        "definition_stamps.find_one": 1,
        "idempotency_keys.find_one": 2,  # replayed already? and again after the load
        "idempotency_keys.insert_one": 1,  # the claim
        "idempotency_keys.update_one": 1,  # the outcome
        "users.find_one": 1,
        "users.update_one": 2,
        "events.insert_many": 1,
        "ledger.insert_many": 1,
    }


def test_a_subscribed_webhook_adds_the_outbox_insert(db: CountingDatabase) -> None:
    WebhookStore(db._db).save(
        PROJECT,
        "hook",
        {"url": "https://example.com/h", "secret": "s" * 32, "events": ["event.rewarded"]},
        NOW,
    )
    assert _one_event(db) == {
        "definition_stamps.find_one": 1,
        "users.find_one": 1,
        "users.update_one": 2,
        "events.insert_many": 1,
        "ledger.insert_many": 1,
        "notifications.insert_many": 1,
    }


def test_a_batch_takes_one_save_and_one_pull_per_user_and_bulk_inserts(
    db: CountingDatabase,
) -> None:
    """A batch of 50 events of 50 known users: the stamp and the users in one read each, one
    save and one pull per user, and per group of rules.usecases.batches.USERS_PER_WRITE (25) users
    one insert of event records and one of ledger entries: 106 operations, 2.1 per event (6 one by
    one)."""
    users = [f"u{n}" for n in range(50)]
    catalogs = CatalogCache()
    for n in range(2):
        db.log.clear()
        at = NOW + timedelta(minutes=n)
        results = record_batch(
            db,  # type: ignore[arg-type]
            PROJECT,
            [BatchItem(Event("login", user, at), at) for user in users],
            catalogs=catalogs,
        )
        assert [r.outcome.balance for r in results] == [10 * (n + 1)] * 50  # type: ignore[union-attr]

    assert db.operations == {
        "definition_stamps.find_one": 1,
        "users.find": 1,
        "users.update_one": 100,  # 50 saves, 50 pulls
        "events.insert_many": 2,
        "ledger.insert_many": 2,
    }
    assert sum(db.operations.values()) == 106


def test_a_keyed_batch_checks_and_binds_its_keys_in_bulk(db: CountingDatabase) -> None:
    """The same batch with a key per event (as the SDK sends it): one read of the keys before
    anything else, one insert binding them after the users are loaded, and one bulk write
    completing them per group of 25 users: 110 operations, 2.2 per event (10 one by one)."""
    users = [f"u{n}" for n in range(50)]
    catalogs = CatalogCache()
    for n in range(2):
        db.log.clear()
        at = NOW + timedelta(minutes=n)
        items = [
            BatchItem(Event("login", user, at), at, IdempotencyKey(f"{user}-{n}", f"f{n}"))
            for user in users
        ]
        results = record_batch(db, PROJECT, items, catalogs=catalogs)  # type: ignore[arg-type]
        assert [r.outcome.balance for r in results] == [10 * (n + 1)] * 50  # type: ignore[union-attr]
        assert not any(r.replayed for r in results)  # type: ignore[union-attr]

    assert db.operations == {
        "definition_stamps.find_one": 1,
        "idempotency_keys.find": 1,  # replays, before the users are read
        "users.find": 1,
        "idempotency_keys.insert_many": 1,  # the keys bound
        "users.update_one": 100,
        "events.insert_many": 2,
        "ledger.insert_many": 2,
        "idempotency_keys.bulk_write": 2,  # the keys' outcomes
    }
    assert sum(db.operations.values()) == 110
