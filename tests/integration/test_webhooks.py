"""Webhooks (docs/api.md#webhooks): the admin API, signed deliveries on RQ against a real HTTP
receiver, retries, the delivery log, and notifications surviving a Redis outage."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import redis
from rq.registry import FailedJobRegistry

from jobs.queue import InProcessQueue, RedisQueue, use_queue
from jobs.webhooks import deliver, sweep_notifications
from tests.support.definitions import FIRST_DAY_STREAK, TEN_POINTS
from tests.support.jobs import work
from tests.support.waiting import wait_for
from tests.support.webhooks import SECRET, Receiver, subscribe, verify


@pytest.fixture
def login(define: Any) -> None:
    define("events", "login", TEN_POINTS)
    define("streaks", "daily", FIRST_DAY_STREAK)


# -- admin API -----------------------------------------------------------------------------


def test_a_webhook_is_stored_without_ever_showing_its_secret(client: Any, auth: Any) -> None:
    created = subscribe(client, auth, "https://example.com/hooks", ["event.rewarded"])

    assert created.status_code == 200, created.json
    data = created.json["data"]
    assert "secret" not in data and SECRET not in json.dumps(created.json)
    assert data["secretHint"] == "…cdef"
    assert data["webhookId"] == "main" and data["active"] is True
    listed = client.get("/admin/webhooks", headers=auth("admin")).json["data"]["items"]
    assert [w["webhookId"] for w in listed] == ["main"] and "secret" not in listed[0]


def test_a_get_body_can_be_put_back_and_keeps_the_secret(client: Any, auth: Any, db: Any) -> None:
    subscribe(client, auth, "https://example.com/hooks")
    fetched = client.get("/admin/webhooks/main", headers=auth("admin")).json["data"]

    again = client.put("/admin/webhooks/main", json=fetched, headers=auth("admin"))

    assert again.status_code == 200, again.json
    assert db.webhooks.find_one({"webhookId": "main"})["secret"] == SECRET


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x", "secret": SECRET, "events": ["event.rewarded"]}, "url"),
        ({"url": "https:///nohost", "secret": SECRET, "events": ["event.rewarded"]}, "url"),
        ({"url": "https://u:p@example.com", "secret": SECRET, "events": ["level.changed"]}, "url"),
        ({"url": "https://example.com", "secret": SECRET, "events": ["nope"]}, "events[0]"),
        ({"url": "https://example.com", "secret": SECRET, "events": []}, "events"),
        ({"url": "https://example.com", "secret": "short", "events": ["level.changed"]}, "secret"),
        ({"url": "https://example.com", "events": ["level.changed"]}, "secret"),
    ],
)
def test_invalid_webhooks_are_400(client: Any, auth: Any, body: Any, field: str) -> None:
    response = client.put("/admin/webhooks/main", json=body, headers=auth("admin"))

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["details"]


def test_webhooks_need_the_admin_scope(client: Any, auth: Any) -> None:
    assert client.get("/admin/webhooks").status_code == 401
    assert client.get("/admin/webhooks", headers=auth()).status_code == 403
    put = client.put(
        "/admin/webhooks/x",
        json={"url": "https://e.com", "secret": SECRET, "events": ["event.rewarded"]},
        headers=auth("users:write"),
    )
    assert put.status_code == 403


def test_delete_deactivates_and_unknown_is_404(client: Any, auth: Any) -> None:
    subscribe(client, auth, "https://example.com/hooks")

    deleted = client.delete("/admin/webhooks/main", headers=auth("admin"))

    assert deleted.status_code == 200 and deleted.json["data"]["active"] is False
    assert client.delete("/admin/webhooks/nope", headers=auth("admin")).status_code == 404
    deliveries = client.get("/admin/webhooks/nope/deliveries", headers=auth("admin"))
    assert deliveries.status_code == 404


# -- delivery ------------------------------------------------------------------------------


def test_a_reward_is_delivered_signed_with_a_versioned_payload(
    login: Any, client: Any, auth: Any, send: Any, receiver: Receiver, queue: RedisQueue
) -> None:
    subscribe(client, auth, receiver.url, ["event.rewarded", "streak.milestone"])

    response = send("login", "ann")
    work(queue)

    assert response.status_code == 200
    bodies = receiver.bodies()
    assert sorted(b["type"] for b in bodies) == ["event.rewarded", "streak.milestone"]
    rewarded = next(b for b in bodies if b["type"] == "event.rewarded")
    assert rewarded["version"] == 1 and rewarded["project"] == "acme"
    assert rewarded["userId"] == "ann" and rewarded["eventId"] == "login"
    assert rewarded["points"] == 10 and rewarded["data"]["balance"] == 15
    assert rewarded["occurredAt"].endswith("Z") and rewarded["id"]
    for request in receiver.requests:
        headers = request["headers"]
        assert verify(SECRET, headers["X-Laurel-Signature"], request["body"])
        assert not verify(
            "another-secret-0123456789", headers["X-Laurel-Signature"], request["body"]
        )
        assert headers["X-Laurel-Delivery"].endswith(":main")
        assert headers["Content-Type"] == "application/json"


def test_unsubscribed_types_and_projects_without_webhooks_record_nothing(
    login: Any, client: Any, auth: Any, send: Any, db: Any, receiver: Receiver, queue: RedisQueue
) -> None:
    send("login", "before-any-webhook")
    subscribe(client, auth, receiver.url, ["level.changed"])
    send("login", "ann")
    work(queue)

    assert db.notifications.count_documents({}) == 0
    assert receiver.requests == []


def test_a_failing_receiver_is_retried_and_every_attempt_logged_under_one_delivery_id(
    login: Any, client: Any, auth: Any, send: Any, receiver: Receiver, queue: RedisQueue
) -> None:
    subscribe(client, auth, receiver.url)
    receiver.statuses = [500, 503]

    send("login", "ann")
    work(queue)

    assert len(receiver.requests) == 3
    ids = {r["headers"]["X-Laurel-Delivery"] for r in receiver.requests}
    assert len(ids) == 1
    log = client.get("/admin/webhooks/main/deliveries", headers=auth("admin")).json["data"]
    [delivery] = log["items"]
    assert delivery["deliveryId"] in ids and delivery["status"] == "succeeded"
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 503, 200]
    assert all(a["durationMs"] >= 0 and a["at"].endswith("Z") for a in delivery["attempts"])


def test_after_the_last_retry_the_delivery_is_failed_and_the_job_in_rqs_failed_registry(
    login: Any, client: Any, auth: Any, send: Any, receiver: Receiver, queue: RedisQueue
) -> None:
    subscribe(client, auth, receiver.url)
    receiver.statuses = [500] * 10

    send("login", "ann")
    work(queue)

    assert len(receiver.requests) == 4  # the first attempt and 3 retries
    [delivery] = client.get("/admin/webhooks/main/deliveries", headers=auth("admin")).json["data"][
        "items"
    ]
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 4
    assert FailedJobRegistry(queue=queue.rq).count == 1


def test_a_refused_connection_is_logged_as_an_error(
    login: Any, client: Any, auth: Any, send: Any, queue: RedisQueue
) -> None:
    subscribe(client, auth, "http://127.0.0.1:9/closed")

    send("login", "ann")
    work(queue)

    [delivery] = client.get("/admin/webhooks/main/deliveries", headers=auth("admin")).json["data"][
        "items"
    ]
    assert delivery["status"] == "failed"
    # What kind of failure, without the low-level error's text (it may name internal hosts).
    assert {a["error"] for a in delivery["attempts"]} == {"the connection was refused"}


def test_a_job_run_twice_delivers_once(
    login: Any, client: Any, auth: Any, send: Any, db: Any, receiver: Receiver, queue: RedisQueue
) -> None:
    subscribe(client, auth, receiver.url)
    send("login", "ann")
    work(queue)
    [delivery] = db.deliveries.find()

    assert deliver(delivery["_id"]) == "skipped"  # a duplicated or re-run job
    queue.enqueue(deliver, delivery["_id"])
    work(queue)

    assert len(receiver.requests) == 1


def test_a_slow_receiver_does_not_slow_the_event_api(
    login: Any, client: Any, auth: Any, send: Any, db: Any, receiver: Receiver, clients: Any
) -> None:
    subscribe(client, auth, receiver.url)
    receiver.hold()  # it answers nothing until released
    background = InProcessQueue()  # the embedded default: jobs in a background thread
    use_queue(clients, background)

    response = send("login", "ann")

    assert response.status_code == 200 and receiver.answered == 0  # answered while it held
    receiver.release()
    wait_for(lambda: db.deliveries.find_one({"status": "succeeded"}), "the delivery to succeed")
    # One request, one attempt: the delivery was not made (and timed out) inside the request.
    assert len(receiver.requests) == 1
    assert len(db.deliveries.find_one()["attempts"]) == 1


def test_redis_down_during_the_event_then_delivered_once_it_is_back(
    login: Any,
    client: Any,
    auth: Any,
    send: Any,
    db: Any,
    clients: Any,
    receiver: Receiver,
    queue: RedisQueue,
) -> None:
    subscribe(client, auth, receiver.url)
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    use_queue(clients, RedisQueue(dead))  # Redis is down

    response = send("login", "ann")

    assert response.status_code == 200 and response.json["data"]["pointsAwarded"] == 10
    assert db.notifications.find_one()["status"] == "pending"
    use_queue(clients, queue)  # Redis is back
    assert sweep_notifications(clients, grace=timedelta(0)) == 1
    work(queue)
    assert len(receiver.requests) == 1
    assert db.notifications.find_one()["status"] == "dispatched"
