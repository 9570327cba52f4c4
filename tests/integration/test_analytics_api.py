"""The analytics API (docs/api.md#analytics) through the Flask client: totals, metadata reports,
runs on the job queue (RQ on the real Redis when it answers), scopes and errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from rq import SimpleWorker

from core import clock
from core.clients import Clients
from jobs.locks import LOCK_TTL
from jobs.queue import RedisQueue, queue_for, use_queue
from reports.analytics.runner import run_project
from reports.analytics.store import ReportStore
from reports.windows import day_key
from tests.conftest import PROJECT
from tests.support.waiting import wait_for

Auth = Callable[..., dict[str, str]]


def run_queued_jobs(clients: Clients, done: Callable[[], bool]) -> None:
    """Run what the API queued: an RQ worker in burst mode on the test Redis, or wait for the
    embedded default's in-process queue."""
    queue = queue_for(clients)
    if clients.settings.redis_url is not None:
        worker = SimpleWorker([queue.rq], connection=clients.redis)  # type: ignore[attr-defined]
        worker.work(burst=True)
    wait_for(done, "the queued jobs")


@pytest.fixture(autouse=True)
def one_day() -> Iterator[None]:
    """Hold the clock for each test: its events "today" and its report run must share a UTC day
    even when the test straddles a midnight."""
    with clock.using(clock.frozen(clock.now())):
        yield


@pytest.fixture
def shop(define: Any, send: Any) -> None:
    """The brief's events, sent through POST /event today and two days ago."""
    define(
        "events", "purchase_completed", {"points": {"perUnit": {"field": "orderValue", "rate": 2}}}
    )
    define("events", "daily_login", {"points": {"fixed": 10}})
    two_days_ago = clock.now() - timedelta(days=2)
    for n, (value, platform) in enumerate([(129.99, "web"), (40, "ios"), (10, "ios")]):
        response = send(
            "purchase_completed",
            user_id=f"user{n}",
            metadata={"platform": platform, "orderValue": value, "currency": "USD"},
        )
        assert response.status_code == 200, response.json
    response = send(
        "purchase_completed",
        user_id="user0",
        metadata={"platform": "web", "orderValue": 20, "firstOrder": True},
        timestamp=two_days_ago.isoformat(),
    )
    assert response.status_code == 200, response.json
    assert send("daily_login", user_id="user0").status_code == 200


def run_now(client: Any, auth: Auth, clients: Clients) -> None:
    response = client.post("/analytics/reports/run", headers=auth("admin"))
    assert response.status_code == 202, response.json
    assert response.json == {
        "success": True,
        "data": {"job": "report-run", "project": PROJECT, "status": "queued"},
    }
    run_queued_jobs(clients, lambda: ReportStore(clients.mongo).watermark(PROJECT) is not None)


def test_a_run_on_demand_then_totals_per_event(
    shop: None, client: Any, auth: Auth, clients: Clients
) -> None:
    run_now(client, auth, clients)

    response = client.get("/analytics/events", headers=auth("reports:read"))

    assert response.status_code == 200, response.json
    data = response.json["data"]
    today = day_key(clock.now())
    assert data["to"] == today
    assert data["from"] == (clock.now() - timedelta(days=29)).date().isoformat()
    assert data["items"] == [
        {
            "eventId": "daily_login",
            "count": 1,
            "uniqueUsers": 1,
            "uniqueUsersExact": True,
            "pointsAwarded": 10,
            "totalPointsAwarded": 10,
        },
        {
            "eventId": "purchase_completed",
            "count": 4,
            "uniqueUsers": 3,
            "uniqueUsersExact": True,
            "pointsAwarded": 259 + 80 + 20 + 40,
            "totalPointsAwarded": 259 + 80 + 20 + 40,
        },
    ]


@pytest.mark.parametrize(
    ("query", "purchases"),
    [
        ({"from": "TODAY"}, 3),
        ({"to": "TWO_DAYS_AGO"}, 1),
        ({"from": "TWO_DAYS_AGO", "to": "TWO_DAYS_AGO"}, 1),
        ({"from": "EPOCH_MS_TODAY"}, 3),
        ({"from": "ISO_TODAY"}, 3),
    ],
)
def test_totals_take_days_epoch_ms_or_iso_both_ends_included(
    shop: None,
    client: Any,
    auth: Auth,
    clients: Clients,
    query: dict[str, str],
    purchases: int,
) -> None:
    run_now(client, auth, clients)
    now = clock.now()
    values = {
        "TODAY": day_key(now),
        "TWO_DAYS_AGO": day_key(now - timedelta(days=2)),
        "EPOCH_MS_TODAY": str(int(now.timestamp() * 1000)),
        "ISO_TODAY": now.replace(hour=0, minute=0, second=1).isoformat(),
    }

    response = client.get(
        "/analytics/events",
        query_string={k: values[v] for k, v in query.items()},
        headers=auth("reports:read"),
    )

    assert response.status_code == 200, response.json
    counts = {item["eventId"]: item["count"] for item in response.json["data"]["items"]}
    assert counts["purchase_completed"] == purchases


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-02-30"},
        {"from": "yesterday"},
        {"from": "2026-11-02", "to": "2026-11-01"},
        {"to": "12345"},
        {"from": "2026-11-01T00:00:00"},  # no offset
        {"from": "9999-01-01"},
        {"to": "9999-12-31"},
        {"from": "0001-01-01"},
        {"to": "0001-01-05"},
        {"from": "0001-01-01", "to": "0001-01-05"},
        {"from": "9999-01-01", "to": "9999-01-02"},
        {"from": "9999-12-31", "to": "0001-01-01"},
        {"from": "1969-12-31"},
        {"to": "2200-01-01"},
    ],
)
def test_bad_day_ranges_are_400(client: Any, auth: Auth, query: dict[str, str]) -> None:
    response = client.get("/analytics/events", query_string=query, headers=auth("reports:read"))

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


@pytest.mark.parametrize("path", ["/analytics/reports/run", "/analytics/exports/run"])
def test_runs_on_demand_may_last_as_long_as_their_lock(
    client: Any, auth: Auth, clients: Clients, path: str
) -> None:
    queue = RedisQueue(clients.redis)  # the test Redis when it answers, else fakeredis
    use_queue(clients, queue)

    response = client.post(path, headers=auth("admin"))

    assert response.status_code == 202, response.json
    (job,) = queue.rq.jobs
    assert job.timeout == LOCK_TTL.total_seconds() == 1800


def test_the_metadata_report_categorises_fields(
    shop: None, client: Any, auth: Auth, clients: Clients
) -> None:
    run_now(client, auth, clients)

    response = client.get(
        "/analytics/events/purchase_completed/metadata",
        query_string={"window": "7d"},
        headers=auth("reports:read"),
    )

    assert response.status_code == 200, response.json
    report = response.json["data"]
    assert report["eventId"] == "purchase_completed" and report["window"] == "7d"
    assert report["count"] == 4 and report["uniqueUsers"] == 3
    assert report["to"] == day_key(clock.now())
    assert len(report["trend"]) == 3  # from the first day with data
    fields = report["fields"]
    assert {name: field["type"] for name, field in fields.items()} == {
        "currency": "categorical",
        "firstOrder": "boolean",
        "orderValue": "numeric",
        "platform": "categorical",
    }
    order_value = fields["orderValue"]
    assert (order_value["min"], order_value["max"], order_value["count"]) == (10, 129.99, 4)
    assert order_value["mean"] == pytest.approx((129.99 + 40 + 10 + 20) / 4)
    assert sum(order_value["histogram"]["counts"]) == 4
    assert fields["platform"]["top"] == [
        {"value": "ios", "count": 2},
        {"value": "web", "count": 2},
    ]
    assert (fields["firstOrder"]["trueCount"], fields["firstOrder"]["missing"]) == (1, 3)
    assert fields["currency"]["missing"] == 1
    assert report["segments"]["field"] == "platform"
    by_platform = {s["value"]: s["fields"]["orderValue"] for s in report["segments"]["values"]}
    assert by_platform["ios"]["mean"] == pytest.approx(25)
    assert report["generatedAt"].endswith("Z")


def test_the_default_window_is_30_days(
    shop: None, client: Any, auth: Auth, clients: Clients
) -> None:
    run_now(client, auth, clients)

    response = client.get("/analytics/events/daily_login/metadata", headers=auth("reports:read"))

    assert response.status_code == 200
    assert response.json["data"]["window"] == "30d"
    assert response.json["data"]["fields"] == {}


def test_a_report_built_on_an_earlier_day_is_rebuilt_on_read(
    db: Any, client: Any, auth: Auth
) -> None:
    now = clock.now()
    db.events.insert_one(
        {
            "project": PROJECT,
            "userId": "u1",
            "eventId": "level_completed",
            "timestamp": now - timedelta(days=40),
            "receivedAt": now - timedelta(days=40),
            "metadata": {"difficulty": "hard"},
            "outcome": {"pointsAwarded": 0, "totalPointsAwarded": 0},
        }
    )
    run_project(db, PROJECT, now=now - timedelta(days=39))  # stored reports end 39 days ago

    recent = client.get(
        "/analytics/events/level_completed/metadata",
        query_string={"window": "7d"},
        headers=auth("reports:read"),
    ).json["data"]
    everything = client.get(
        "/analytics/events/level_completed/metadata",
        query_string={"window": "all"},
        headers=auth("reports:read"),
    ).json["data"]

    assert (recent["from"], recent["to"], recent["count"]) == (
        day_key(now - timedelta(days=6)),
        day_key(now),
        0,
    )
    assert [day["count"] for day in recent["trend"]] == [0] * 7
    assert everything["count"] == 1 and len(everything["trend"]) == 41
    assert everything["fields"]["difficulty"]["top"] == [{"value": "hard", "count": 1}]


def test_unknown_event_is_404_and_bad_window_is_400(
    shop: None, client: Any, auth: Auth, clients: Clients
) -> None:
    run_now(client, auth, clients)

    unknown = client.get("/analytics/events/nope/metadata", headers=auth("reports:read"))
    not_run = client.get(
        "/analytics/events/purchase_completed/metadata",
        headers=auth("reports:read", project="other"),
    )
    bad = client.get(
        "/analytics/events/purchase_completed/metadata",
        query_string={"window": "1y"},
        headers=auth("reports:read"),
    )

    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "not_found"
    assert not_run.status_code == 404  # another project sees none of acme's analytics
    assert bad.status_code == 400 and "query.window" in bad.json["error"]["details"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/analytics/events"),
        ("get", "/analytics/events/purchase_completed/metadata"),
        ("get", "/analytics/exports"),
        ("get", "/analytics/exports/acme-20260101T000000Z.csv"),
        ("post", "/analytics/reports/run"),
        ("post", "/analytics/exports/run"),
    ],
)
def test_analytics_need_a_token(client: Any, method: str, path: str) -> None:
    response = getattr(client, method)(path)

    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("get", "/analytics/events", "events:write"),
        ("get", "/analytics/events/purchase_completed/metadata", "users:read"),
        ("get", "/analytics/exports", "events:write"),
        ("post", "/analytics/reports/run", "reports:read"),
        ("post", "/analytics/exports/run", "reports:read events:write users:write"),
    ],
)
def test_analytics_need_their_scope(
    client: Any, auth: Auth, method: str, path: str, scope: str
) -> None:
    response = getattr(client, method)(path, headers=auth(scope))

    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_admin_reads_analytics_too(client: Any, auth: Auth) -> None:
    response = client.get("/analytics/events", headers=auth("admin"))

    assert response.status_code == 200
    assert response.json["data"]["items"] == []


def test_the_openapi_document_describes_the_analytics_endpoints(client: Any) -> None:
    paths = client.get("/openapi.json").json["paths"]

    assert set(paths["/analytics/reports/run"]["post"]["responses"]) >= {"202", "401", "403"}
    metadata = paths["/analytics/events/{eventId}/metadata"]["get"]
    window = next(p for p in metadata["parameters"] if p["name"] == "window")
    assert window["schema"]["enum"] == ["7d", "30d", "all"]
    assert set(paths["/analytics/exports/{name}"]["get"]["responses"]) >= {"200", "400", "404"}
