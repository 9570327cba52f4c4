"""Every collection that claims an expiry has a TTL index on a BSON datetime field, and its
documents carry a datetime there (issue 14, item 3). MongoDB's TTL monitor skips a document
whose field is missing or not a date, so a claim without both is a promise nobody keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rules.stores.idempotency import KEEP_FOR as KEYS_KEPT
from rules.stores.indexes import ensure_indexes
from rules.stores.outbox import KEEP_FOR as NOTIFICATIONS_KEPT
from rules.stores.outbox import Outbox, outbox_document

# collection → (field, expireAfterSeconds, what the README / module docs promise)
CLAIMS = {
    "idempotency_keys": ("expiresAt", 0, f"a key is replayed for {KEYS_KEPT}, then forgotten"),
    "notifications": (
        "dispatchedAt",
        int(NOTIFICATIONS_KEPT.total_seconds()),
        "webhook payloads (they name users) are kept 30 days after their dispatch",
    ),
    "deliveries": (
        "createdAt",
        int(NOTIFICATIONS_KEPT.total_seconds()),
        "the delivery log is kept 30 days",
    ),
}


@pytest.fixture
def traffic(client: Any, auth: Any, define: Any, db: Any) -> Any:
    """One keyed, rewarded event with a webhook subscribed: a document in each collection."""
    define("events", "purchase", {"points": {"fixed": 5}})
    hook = {"url": "http://127.0.0.1:9/hooks", "secret": "whsec_" + "s" * 24}
    response = client.put(
        "/admin/webhooks/main",
        json={**hook, "events": ["event.rewarded"]},
        headers=auth("admin"),
    )
    assert response.status_code == 200, response.json
    response = client.post(
        "/event",
        json={"eventId": "purchase", "userId": "u1"},
        headers={**auth(), "Idempotency-Key": "order-1"},
    )
    assert response.status_code == 200, response.json
    return db


@pytest.mark.parametrize("collection", sorted(CLAIMS))
def test_collection_claiming_an_expiry_has_a_ttl_index_on_its_date(
    traffic: Any, collection: str
) -> None:
    field, seconds, _claim = CLAIMS[collection]

    ttl = {
        name: index
        for name, index in traffic[collection].index_information().items()
        if "expireAfterSeconds" in index
    }

    assert [(dict(i["key"]), i["expireAfterSeconds"]) for i in ttl.values()] == [
        ({field: 1}, seconds)
    ]
    documents = list(traffic[collection].find())
    assert documents, f"the traffic wrote no {collection}"
    assert all(isinstance(document.get(field), datetime) for document in documents)


def test_idempotency_keys_expire_a_day_after_their_use(traffic: Any) -> None:
    key = traffic.idempotency_keys.find_one({"key": "order-1"})

    assert key["expiresAt"] - key["createdAt"] >= KEYS_KEPT - timedelta(seconds=1)


def test_a_notification_waiting_for_dispatch_has_no_expiry_yet(db: Any) -> None:
    ensure_indexes(db)
    moment = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    payload = {"id": "r:0", "type": "event.rewarded"}
    Outbox(db).insert([outbox_document("acme", "u1", payload, moment)])

    assert "dispatchedAt" not in db.notifications.find_one({"_id": "r:0"})


def test_no_other_collection_has_a_ttl_index(traffic: Any) -> None:
    with_ttl = {
        name
        for name in traffic.list_collection_names()
        for index in traffic[name].index_information().values()
        if "expireAfterSeconds" in index
    }

    assert with_ttl == set(CLAIMS)
