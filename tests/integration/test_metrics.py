"""GET /metrics: the counters move as requests, events, deliveries and jobs happen, and the
on-call gauges read the stores at scrape time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from core import clock
from core.clients import Clients
from core.settings import Settings
from jobs.locks import run_locked
from jobs.queue import QUEUE_NAME, RedisQueue, use_queue
from jobs.worker import LaurelWorker
from tests.support.webhooks import Receiver, subscribe
from web import create_app

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: Any, headers: dict[str, str] | None = None) -> Samples:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def rq_queue(clients: Clients, redis_client: redis.Redis) -> RedisQueue:
    if "fakeredis" in type(redis_client).__module__:
        pytest.skip("needs a real Redis")
    queue = RedisQueue(redis_client, intervals=(0, 0))
    use_queue(clients, queue)
    return queue


def work(queue: RedisQueue) -> None:
    LaurelWorker([queue.rq], connection=queue.rq.connection).work(burst=True)


def test_events_count_by_outcome_and_points_add_up(define: Any, client: Any, send: Any) -> None:
    define("events", "login", {"points": {"fixed": 10}})
    define(
        "events",
        "purchase",
        {
            "points": {"fixed": 3},
            "conditions": {"all": [{"field": "orderValue", "op": "gte", "value": 20}]},
        },
    )
    before = scrape(client)

    assert send("login", "ann", idempotencyKey="k1").status_code == 200
    assert send("login", "ann", idempotencyKey="k1").status_code == 200  # replayed
    assert send("purchase", "ann", metadata={"orderValue": 5}).status_code == 200
    assert send("purchase", "bob", metadata={"orderValue": 50}).status_code == 200
    assert send("nope", "ann").status_code == 404
    assert send("login", "").status_code == 400

    after = scrape(client)
    assert delta(before, after, "laurel_events_total", outcome="rewarded") == 2
    assert delta(before, after, "laurel_events_total", outcome="replayed") == 1
    assert delta(before, after, "laurel_events_total", outcome="not_rewarded") == 1
    assert delta(before, after, "laurel_events_total", outcome="rejected") == 2
    assert delta(before, after, "laurel_points_awarded_total") == 13


def test_batch_items_are_counted_one_by_one(define: Any, client: Any, auth: Any, db: Any) -> None:
    define("events", "login", {"points": {"fixed": 4}})
    before = scrape(client)

    response = client.post(
        "/events/batch",
        json={
            "events": [
                {"eventId": "login", "userId": "a"},
                {"eventId": "missing", "userId": "a"},
                {"eventId": "login", "userId": "b"},
            ]
        },
        headers=auth(),
    )

    assert response.status_code == 200
    after = scrape(client)
    assert delta(before, after, "laurel_events_total", outcome="rewarded") == 2
    assert delta(before, after, "laurel_events_total", outcome="rejected") == 1
    assert delta(before, after, "laurel_points_awarded_total") == 8


def test_requests_are_labelled_by_route_template_not_by_path(
    client: Any, auth: Any, define: Any, send: Any
) -> None:
    define("events", "login", {"points": {"fixed": 1}})
    send("login", "user-one")
    before = scrape(client)

    client.get("/users/user-one", headers=auth("users:read"))
    client.get("/users/user-two", headers=auth("users:read"))
    client.get("/no/such/path")

    after = scrape(client)
    route = {"method": "GET", "route": "/users/<userId>"}
    assert delta(before, after, "laurel_http_requests_total", status="200", **route) == 1
    assert delta(before, after, "laurel_http_requests_total", status="404", **route) == 1
    assert (
        delta(
            before,
            after,
            "laurel_http_requests_total",
            method="GET",
            route="unmatched",
            status="404",
        )
        == 1
    )
    assert delta(before, after, "laurel_http_request_duration_seconds_count", **route) == 2
    assert not any("user-one" in str(labels) for _, labels in after)


def test_deliveries_and_jobs_are_counted_by_result(
    define: Any,
    client: Any,
    auth: Any,
    send: Any,
    receiver: Receiver,
    rq_queue: RedisQueue,
) -> None:
    define("events", "login", {"points": {"fixed": 10}})
    subscribe(client, auth, receiver.url, ["event.rewarded"])
    receiver.statuses = [500]  # the first attempt fails, its retry succeeds
    before = scrape(client)

    send("login", "ann")
    work(rq_queue)

    after = scrape(client)
    assert len(receiver.requests) == 2
    assert delta(before, after, "laurel_webhook_deliveries_total", result="retried") == 1
    assert delta(before, after, "laurel_webhook_deliveries_total", result="succeeded") == 1
    assert delta(before, after, "laurel_jobs_total", job="deliver", result="retried") == 1
    assert delta(before, after, "laurel_jobs_total", job="deliver", result="succeeded") == 1


def test_a_delivery_given_up_counts_as_failed(
    define: Any,
    client: Any,
    auth: Any,
    send: Any,
    receiver: Receiver,
    rq_queue: RedisQueue,
) -> None:
    define("events", "login", {"points": {"fixed": 10}})
    subscribe(client, auth, receiver.url, ["event.rewarded"])
    receiver.statuses = [500, 500, 500]  # every attempt the queue allows
    before = scrape(client)

    send("login", "ann")
    work(rq_queue)

    after = scrape(client)
    assert delta(before, after, "laurel_webhook_deliveries_total", result="retried") == 2
    assert delta(before, after, "laurel_webhook_deliveries_total", result="failed") == 1
    assert delta(before, after, "laurel_jobs_total", job="deliver", result="failed") == 1


def test_scheduled_runs_count_succeeded_failed_and_skipped(client: Any, clients: Clients) -> None:
    def broken(_db: Any) -> None:
        raise RuntimeError("boom")

    before = scrape(client)
    run_locked(clients, "probe-job", lambda _db: None, "owner-a")
    with pytest.raises(RuntimeError):
        run_locked(clients, "probe-job", broken, "owner-a")
    clients.mongo.job_locks.insert_one(
        {"_id": "probe-job", "owner": "owner-b", "expiresAt": clock.now() + timedelta(hours=1)}
    )
    assert run_locked(clients, "probe-job", lambda _db: None, "owner-a") is False

    after = scrape(client)
    for result in ("succeeded", "failed", "skipped"):
        assert delta(before, after, "laurel_jobs_total", job="probe-job", result=result) == 1


def test_metrics_token_guards_the_scrape(settings: Settings, clients: Clients) -> None:
    token = "scrape-token-0123456789"
    guarded = create_app(
        Settings(**{**settings.__dict__, "metrics_token": token}), clients
    ).test_client()

    refused = guarded.get("/metrics")
    wrong = guarded.get("/metrics", headers={"Authorization": "Bearer nope"})

    assert refused.status_code == 401 and wrong.status_code == 401
    assert refused.json["error"]["code"] == "unauthorized"
    assert (
        value(
            scrape(guarded, {"Authorization": f"Bearer {token}"}),
            "laurel_oncall_up",
            source="outbox",
        )
        == 1
    )


def test_oncall_gauges_read_queue_outbox_pending_records_and_reports(
    client: Any, clients: Clients, db: Any, redis_client: redis.Redis
) -> None:
    Queue(QUEUE_NAME, connection=redis_client).enqueue("jobs.reports.run_reports", "acme")
    db.notifications.insert_many(
        [
            {"_id": "n1", "status": "pending", "createdAt": NOW - timedelta(seconds=90)},
            {"_id": "n2", "status": "pending", "createdAt": NOW - timedelta(seconds=30)},
            {"_id": "n3", "status": "dispatched", "createdAt": NOW - timedelta(hours=2)},
        ]
    )
    db.users.insert_one(
        {
            "_id": "u",
            "project": "acme",
            "pending": [{}],
            "pendingSince": NOW - timedelta(seconds=45),
        }
    )
    db.report_watermarks.insert_many(
        [
            {"_id": "acme", "watermark": NOW - timedelta(seconds=600), "lastRun": {"seconds": 2.5}},
            {"_id": "beta", "watermark": NOW - timedelta(seconds=60), "lastRun": {"seconds": 7.0}},
        ]
    )

    with clock.using(clock.frozen(NOW)):
        samples = scrape(client)

    assert value(samples, "laurel_queue_jobs") == 1
    assert value(samples, "laurel_outbox_backlog") == 2
    assert value(samples, "laurel_outbox_oldest_age_seconds") == 90
    assert value(samples, "laurel_pending_record_oldest_age_seconds") == 45
    assert value(samples, "laurel_report_lag_seconds") == 600
    assert value(samples, "laurel_report_run_duration_seconds") == 7.0
    for source in ("queue", "outbox", "pending", "reports"):
        assert value(samples, "laurel_oncall_up", source=source) == 1


def test_a_store_that_does_not_answer_leaves_its_gauges_out(settings: Settings) -> None:
    dead = Settings(**{**settings.__dict__, "redis_url": "redis://127.0.0.1:1/0"})
    app = create_app(dead, Clients(dead))

    samples = scrape(app.test_client())

    assert value(samples, "laurel_oncall_up", source="queue") == 0
    assert value(samples, "laurel_oncall_up", source="outbox") == 1
    assert ("laurel_queue_jobs", ()) not in samples
    assert ("laurel_outbox_backlog", ()) in samples
