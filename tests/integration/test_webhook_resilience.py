"""Webhook delivery when things go wrong: hung Redis, lost jobs, stale leases, private
destinations, bad URLs, the in-process queue, and payloads of every type."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import clock
from core.clients import Clients
from jobs.queue import InProcessQueue, RedisQueue, use_queue
from jobs.runtime import running_with
from jobs.webhooks import deliver, destination_refusal, sweep_notifications
from rules.stores.outbox import Deliveries
from tests.support.definitions import TEN_POINTS
from tests.support.jobs import work
from tests.support.waiting import wait_for
from tests.support.webhooks import SECRET, Receiver, subscribe
from web import create_app


@pytest.fixture
def login(define: Any) -> None:
    define("events", "login", TEN_POINTS)


class HungRedis:
    """A socket that accepts connections and never answers; it counts the connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"redis://127.0.0.1:{self.sock.getsockname()[1]}/0"

    def connections(self) -> int:
        """Connections made so far: the kernel completed each one into the listen queue."""
        self.sock.setblocking(False)
        accepted = []
        try:
            while True:
                accepted.append(self.sock.accept()[0])
        except BlockingIOError:
            pass
        for connection in accepted:
            connection.close()
        return len(accepted)


@pytest.fixture
def hung_redis() -> Iterator[HungRedis]:
    hung = HungRedis()
    yield hung
    hung.sock.close()


def test_a_hung_redis_costs_one_short_timeout_not_one_per_event(
    login: Any, client: Any, auth: Any, clients: Clients, db: Any, hung_redis: HungRedis
) -> None:
    subscribe(client, auth, "http://127.0.0.1:9/never")
    hung = Clients(replace(clients.settings, redis_url=hung_redis.url))
    hung.__dict__["mongo"] = db
    # The queue the app builds for that Redis (jobs.queue.queue_for), on a breaker clock that
    # stands still: however slow the machine, the batch ends before the breaker closes again.
    use_queue(clients, RedisQueue(hung.redis_in_request, clock=lambda: 0.0))
    batch = {"events": [{"eventId": "login", "userId": f"u{i}"} for i in range(20)]}

    response = client.post("/events/batch", json=batch, headers=auth())

    assert response.status_code == 200
    assert [r["status"] for r in response.json["data"]["results"]] == [200] * 20
    assert hung_redis.connections() == 1  # one try timed out, then the breaker refused at once
    assert db.notifications.count_documents({"status": "pending"}) == 20


def test_a_delivery_whose_job_was_lost_is_queued_again_by_the_sweep(
    login: Any,
    client: Any,
    auth: Any,
    send: Any,
    db: Any,
    clients: Clients,
    receiver: Receiver,
    queue: RedisQueue,
) -> None:
    subscribe(client, auth, receiver.url)
    send("login", "ann")
    queue.rq.empty()  # Redis restarted without its data: the job is gone
    db.deliveries.update_one({}, {"$set": {"dueAt": clock.now() - timedelta(hours=1)}})

    assert sweep_notifications(clients) == 1
    work(queue)

    assert len(receiver.requests) == 1
    assert db.deliveries.find_one()["status"] == "succeeded"


def test_an_unexpected_error_is_logged_and_the_retry_is_not_blocked_by_the_lease(
    login: Any,
    client: Any,
    auth: Any,
    send: Any,
    db: Any,
    receiver: Receiver,
    queue: RedisQueue,
    monkeypatch: Any,
) -> None:
    subscribe(client, auth, receiver.url)
    failures = iter([RuntimeError("the database blinked")])

    def flaky_post(*args: Any, **kwargs: Any) -> Any:
        error = next(failures, None)
        if error is not None:
            raise error
        return original(*args, **kwargs)

    from jobs import http_post

    original = http_post.post
    monkeypatch.setattr("jobs.webhooks.http_post.post", flaky_post)
    send("login", "ann")
    work(queue)

    delivery = db.deliveries.find_one()
    assert delivery["status"] == "succeeded"
    # Logged for the operator; the tenant's log says no more than that it failed.
    assert delivery["attempts"][0]["error"] == "internal error; retried"
    assert delivery["attempts"][1]["statusCode"] == 200
    assert len(receiver.requests) == 1


def test_a_holder_that_outlived_its_lease_cannot_overwrite_the_next_one(db: Any) -> None:
    deliveries = Deliveries(db)
    now = datetime(2026, 11, 26, tzinfo=UTC)
    notification = {"_id": "n1", "project": "acme", "userId": "u", "type": "event.rewarded"}
    with clock.using(clock.frozen(now)):  # (what the TTL index has expired follows the clock)
        deliveries.create(notification, "main", now)
        stale = deliveries.lease("n1:main", now, timedelta(seconds=90))
        fresh = deliveries.lease("n1:main", now + timedelta(seconds=91), timedelta(seconds=90))
        assert stale is not None and fresh is not None

        deliveries.record_attempt(
            "n1:main", fresh["leaseToken"], {"statusCode": 200}, "succeeded", None, now
        )
        overwritten = deliveries.record_attempt(
            "n1:main", stale["leaseToken"], {"statusCode": 500}, "pending", now, now
        )
        stored = db.deliveries.find_one({"_id": "n1:main"})

    assert overwritten is False
    assert stored["status"] == "succeeded" and stored["attempts"] == [{"statusCode": 200}]


def test_private_destinations_are_refused_unless_allowed(
    login: Any,
    client: Any,
    auth: Any,
    send: Any,
    db: Any,
    settings: Any,
    receiver: Receiver,
    queue: RedisQueue,
) -> None:
    assert destination_refusal("http://169.254.169.254/latest", False) is not None
    assert destination_refusal("http://10.1.2.3/x", False) is not None
    assert destination_refusal("http://127.0.0.1:9/x", True) is None
    strict = Clients(replace(settings, webhook_allow_private=False))
    strict.__dict__["mongo"] = db
    subscribe(client, auth, receiver.url)
    send("login", "ann")

    with running_with(strict):
        work(queue)

    delivery = db.deliveries.find_one()
    assert receiver.requests == []
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 1  # not retried
    assert delivery["attempts"][0]["error"] == "the destination resolves to a non-public address"


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://[zz]/",
        "http://a..b/",
        "http://x.com:99999/",
        "http://a b.com/",
        "http://" + "a" * 64 + ".com/",
    ],
)
def test_urls_no_delivery_could_use_are_400_never_500(client: Any, auth: Any, url: str) -> None:
    body = {"url": url, "secret": SECRET, "events": ["event.rewarded"]}

    response = client.put("/admin/webhooks/main", json=body, headers=auth("admin"))

    assert response.status_code == 400
    assert "url" in response.json["error"]["details"]


def test_the_in_process_queue_retries_then_gives_up_and_marks_the_delivery_failed(
    login: Any,
    client: Any,
    auth: Any,
    send: Any,
    db: Any,
    clients: Clients,
    receiver: Receiver,
) -> None:
    use_queue(clients, InProcessQueue(clients, intervals=(0, 0)))
    subscribe(client, auth, receiver.url)
    receiver.statuses = [500] * 5

    send("login", "ann")
    wait_for(lambda: db.deliveries.find_one({"status": "failed"}), "the delivery to fail")

    delivery = db.deliveries.find_one()
    assert delivery["status"] == "failed"
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 500, 500]
    assert len(receiver.requests) == 3


def test_in_process_jobs_use_their_own_apps_store(
    settings: Any,
    define: Any,
    client: Any,
    auth: Any,
    send: Any,
    db: Any,
    clients: Clients,
    receiver: Receiver,
) -> None:
    define("events", "login", TEN_POINTS)
    use_queue(clients, InProcessQueue(clients))
    subscribe(client, auth, receiver.url)
    other = Clients(settings)
    create_app(settings, other)  # a second app in the process, on another store

    send("login", "ann")
    wait_for(lambda: db.deliveries.find_one({"status": "succeeded"}), "the delivery")

    assert len(receiver.requests) == 1
    assert db.deliveries.find_one()["status"] == "succeeded"


def test_challenge_and_level_notifications_carry_their_data(
    define: Any, client: Any, auth: Any, send: Any, receiver: Receiver, queue: RedisQueue
) -> None:
    define("events", "login", TEN_POINTS)
    define(
        "challenges",
        "two",
        {
            "events": ["login"],
            "goal": {"type": "count", "target": 2},
            "reward": {"points": 100, "badge": "pair"},
        },
    )
    client.put(
        "/admin/levels",
        json={
            "levels": [
                {"level": 1, "name": "Bronze", "minPoints": 0},
                {"level": 2, "name": "Silver", "minPoints": 100},
            ]
        },
        headers=auth("admin"),
    )
    subscribe(client, auth, receiver.url, ["challenge.completed", "level.changed"])

    send("login", "ann")
    send("login", "ann")
    work(queue)

    by_type = {body["type"]: body for body in receiver.bodies()}
    assert sorted(by_type) == ["challenge.completed", "level.changed"]
    assert by_type["challenge.completed"]["points"] == 100
    assert by_type["challenge.completed"]["data"] == {"challengeId": "two", "badge": "pair"}
    assert by_type["level.changed"]["data"] == {"level": 2, "name": "Silver"}
    assert by_type["level.changed"]["eventId"] == "login"


def test_deliver_of_an_unknown_delivery_is_skipped(clients: Clients) -> None:
    with running_with(clients):
        assert deliver("nope:main") == "skipped"
