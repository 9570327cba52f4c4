"""The MongoDB round trips of one event through POST /event, counted on the test store, as
docs/scaling.md lists them (issue 14, item 5)."""

from __future__ import annotations

from typing import Any

import pytest

from core.clients import Clients
from jobs.queue import use_queue
from tests.support.watched import CountingDatabase
from web import create_app

# A keyed event of a known user, definitions cached by the web worker, no webhook.
ONE_EVENT = [
    "idempotency_keys.find_one",  # a replay? (answered from here without touching the user)
    "definition_stamps.find_one",  # is the worker's compiled catalog current?
    "users.find_one",  # load the user (version, pending records)
    "idempotency_keys.find_one",  # applied meanwhile by a concurrent request?
    "idempotency_keys.insert_one",  # bind the key to this request, once it is decided
    "users.update_one",  # apply the event + push the pending record (version-guarded)
    "events.insert_many",
    "ledger.insert_many",
    "idempotency_keys.update_one",  # the key's outcome
    "users.update_one",  # pull the pending record
]


class HeldQueue:
    """Takes jobs and runs none: the delivery's own round trips are not the event's."""

    def __init__(self) -> None:
        self.jobs: list[str] = []

    def enqueue(
        self,
        job: Any,
        *args: Any,
        job_id: str | None = None,
        timeout: int | None = None,
        lane: str | None = None,
    ) -> None:
        self.jobs.append(job.__name__)


@pytest.fixture
def queue() -> HeldQueue:
    return HeldQueue()


@pytest.fixture
def counted(settings: Any, clients: Clients, queue: HeldQueue) -> tuple[Any, CountingDatabase]:
    counting = CountingDatabase(clients.mongo)
    clients.__dict__["mongo"] = counting
    app = create_app(settings, clients)
    use_queue(clients, queue)
    app.config["TESTING"] = True
    return app.test_client(), counting


def post(client: Any, auth: Any, key: str) -> None:
    response = client.post(
        "/event",
        json={"eventId": "purchase", "userId": "u1", "metadata": {"orderValue": 30}},
        headers={**auth(), "Idempotency-Key": key},
    )
    assert response.status_code == 200, response.json


def test_one_event_is_ten_round_trips(counted: Any, auth: Any) -> None:
    client, counting = counted
    client.put("/admin/events/purchase", json={"points": {"fixed": 5}}, headers=auth("admin"))
    post(client, auth, "order-1")  # creates the user and warms the catalog
    counting.log.clear()

    post(client, auth, "order-2")

    assert counting.log == ONE_EVENT


def test_an_event_without_a_key_is_six_round_trips(counted: Any, auth: Any) -> None:
    client, counting = counted
    client.put("/admin/events/purchase", json={"points": {"fixed": 5}}, headers=auth("admin"))
    post(client, auth, "order-1")
    counting.log.clear()

    response = client.post("/event", json={"eventId": "purchase", "userId": "u1"}, headers=auth())

    assert response.status_code == 200
    assert counting.log == [ONE_EVENT[i] for i in (1, 2, 5, 6, 7, 9)]


def test_a_subscribed_webhook_adds_five_for_the_outbox_and_its_delivery(
    counted: Any, auth: Any, queue: HeldQueue
) -> None:
    client, counting = counted
    client.put("/admin/events/purchase", json={"points": {"fixed": 5}}, headers=auth("admin"))
    hook = {
        "url": "http://127.0.0.1:9/h",
        "secret": "whsec_" + "s" * 24,
        "events": ["event.rewarded"],
    }
    client.put("/admin/webhooks/main", json=hook, headers=auth("admin"))
    post(client, auth, "order-1")
    counting.log.clear()

    post(client, auth, "order-2")

    assert counting.log == [
        *ONE_EVENT[:8],
        "notifications.insert_many",  # the outbox, beside the event and ledger
        ONE_EVENT[8],  # the key's outcome
        "webhooks.find",  # dispatch (an effect of the finished record): active webhooks
        "deliveries.insert_many",  # one delivery per subscribed webhook
        "deliveries.find",  # read back (one read for all of a batch's)
        "notifications.update_many",  # dispatched (its 30-day expiry starts)
        ONE_EVENT[9],  # pull the pending record
    ]
    assert queue.jobs == ["deliver", "deliver"]  # (order-1's and order-2's)
