"""Insights (docs/api.md#insights) at their edges: funnel definitions under /admin/funnels, scopes,
every bad query a 400 in the envelope with its details, unknown ids 404, defaults, and the OpenAPI
document."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import clock
from reports.analytics.runner import run_project
from tests.conftest import PROJECT

Auth = Callable[..., dict[str, str]]
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
FUNNEL = {
    "name": "Checkout",
    "steps": [
        {"eventId": "daily_login"},
        {
            "eventId": "purchase_completed",
            "conditions": {"all": [{"field": "orderValue", "op": "gte", "value": 20}]},
        },
    ],
}


@pytest.fixture(autouse=True)
def frozen() -> Any:
    with clock.using(clock.frozen(NOW)):
        yield


@pytest.fixture
def events(db: Any) -> None:
    """A login and a purchase a day for a week, one run."""
    records = []
    for day in range(7):
        moment = NOW - timedelta(days=day, hours=1)
        for event_id, metadata in (("daily_login", {}), ("purchase_completed", {"orderValue": 25})):
            records.append(
                {
                    "project": PROJECT,
                    "userId": f"u{day % 3}",
                    "eventId": event_id,
                    "timestamp": moment,
                    "receivedAt": moment,
                    "metadata": metadata,
                    "outcome": {"pointsAwarded": 0, "totalPointsAwarded": 0},
                }
            )
            moment += timedelta(minutes=5)
    db.events.insert_many(records)
    run_project(db, PROJECT, now=NOW)


def test_funnel_definitions_are_stored_listed_and_deactivated(client: Any, auth: Auth) -> None:
    response = client.put("/admin/funnels/checkout", json=FUNNEL, headers=auth("admin"))
    assert response.status_code == 200, response.json
    stored = response.json["data"]
    assert stored["funnelId"] == "checkout"
    assert stored["windowSeconds"] == 604_800 and stored["active"] is True
    assert stored["steps"] == FUNNEL["steps"]
    assert stored["createdAt"] == "2026-06-15T12:00:00.000Z"

    listed = client.get("/admin/funnels", headers=auth("admin")).json["data"]["items"]
    assert [f["funnelId"] for f in listed] == ["checkout"]
    again = client.put("/admin/funnels/checkout", json=stored, headers=auth("admin"))
    assert again.status_code == 200, again.json  # what GET returns can be PUT back
    deleted = client.delete("/admin/funnels/checkout", headers=auth("admin"))
    assert deleted.status_code == 200 and deleted.json["data"]["active"] is False
    assert client.get("/admin/funnels/nope", headers=auth("admin")).json["error"]["code"] == (
        "not_found"
    )


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"steps": [{"eventId": "a"}]}, "steps"),
        ({"steps": [{"eventId": "a"}] * 11}, "steps"),
        ({"steps": [{"eventId": "a"}, {"eventId": "b c"}]}, "steps[1].eventId"),
        (
            {
                "steps": [
                    {"eventId": "a"},
                    {"eventId": "b", "conditions": {"all": [{"field": "x", "op": "near"}]}},
                ]
            },
            "steps[1].conditions.all[0].op",
        ),
        ({"steps": [{"eventId": "a"}, {"eventId": "b"}], "windowSeconds": 59}, "windowSeconds"),
        (
            {"steps": [{"eventId": "a"}, {"eventId": "b"}], "windowSeconds": 7_776_001},
            "windowSeconds",
        ),
        ({"steps": [{"eventId": "a"}, {"eventId": "b"}], "unknown": 1}, "unknown"),
    ],
)
def test_invalid_funnels_are_400_with_the_path_of_the_bad_node(
    client: Any, auth: Auth, body: dict[str, Any], path: str
) -> None:
    response = client.put("/admin/funnels/f", json=body, headers=auth("admin"))
    assert response.status_code == 400, response.json
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "validation_error"
    assert path in response.json["error"]["details"], response.json


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("put", "/admin/funnels/f", "reports:read"),
        ("get", "/admin/funnels", "reports:read"),
        ("get", "/analytics/retention", "events:write"),
        ("get", "/analytics/funnels/f", "users:read"),
        ("get", "/analytics/events/daily_login/breakdown?by=platform", "events:write"),
        ("get", "/analytics/reports/status", "events:write"),
    ],
)
def test_insights_need_their_scope(
    client: Any, auth: Auth, method: str, path: str, scope: str
) -> None:
    response = getattr(client, method)(path, json=FUNNEL, headers=auth(scope))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert getattr(client, method)(path, json=FUNNEL).status_code == 401


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/analytics/events/daily_login/breakdown", "by"),
        ("/analytics/events/daily_login/breakdown?by=bad-field", "by"),
        ("/analytics/events/daily_login/breakdown?by=x&field=a.b", "field"),
        ("/analytics/events/daily_login/breakdown?by=x&window=90d", "window"),
        ("/analytics/events/daily_login/breakdown?by=x&limit=0", "limit"),
        ("/analytics/events/daily_login/breakdown?by=x&limit=101", "limit"),
        ("/analytics/events/daily_login/breakdown?by=x&limit=ten", "limit"),
        ("/analytics/funnels/checkout?from=2026-02-30", "from"),
        ("/analytics/funnels/checkout?from=2026-06-10&to=2026-06-01", "to"),
        ("/analytics/funnels/checkout?by=%24where", "by"),
        ("/analytics/retention?period=month", "period"),
        ("/analytics/retention?periods=0", "periods"),
        ("/analytics/retention?periods=53", "periods"),
        ("/analytics/retention?cohortEvent=a%20b", "cohortEvent"),
        ("/analytics/retention?split=" + "x" * 65, "split"),
        ("/analytics/retention?from=yesterday", "from"),
    ],
)
def test_bad_queries_are_400_in_the_envelope(
    client: Any, auth: Auth, define: Any, path: str, field: str
) -> None:
    define("funnels", "checkout", FUNNEL)
    response = client.get(path, headers=auth("reports:read"))
    assert response.status_code == 400, response.json
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "validation_error"
    assert f"query.{field}" in response.json["error"]["details"], response.json


def test_from_after_the_default_to_is_400(client: Any, auth: Auth) -> None:
    response = client.get("/analytics/retention?from=2026-06-16", headers=auth("reports:read"))
    assert response.status_code == 400
    assert "from" in response.json["error"]["details"]


def test_unknown_event_or_funnel_is_404(client: Any, auth: Auth, events: None) -> None:
    headers = auth("reports:read")
    breakdown = client.get("/analytics/events/nope/breakdown?by=x", headers=headers)
    funnel = client.get("/analytics/funnels/nope", headers=headers)
    assert (breakdown.status_code, funnel.status_code) == (404, 404)
    assert breakdown.json["error"]["code"] == funnel.json["error"]["code"] == "not_found"


def test_defaults_are_the_last_30_days_and_the_documented_limits(
    client: Any, auth: Auth, define: Any, events: None
) -> None:
    define("funnels", "checkout", FUNNEL)
    headers = auth("reports:read")
    funnel = client.get("/analytics/funnels/checkout", headers=headers).json["data"]
    assert (funnel["from"], funnel["to"]) == ("2026-05-17", "2026-06-15")
    assert [s["users"] for s in funnel["steps"]] == [3, 3]
    assert funnel["segments"] == []
    retention = client.get("/analytics/retention", headers=headers).json["data"]
    assert (retention["period"], retention["from"], retention["to"]) == (
        "day",
        "2026-05-17",
        "2026-06-15",
    )
    assert all(len(c["retained"]) == 9 for c in retention["cohorts"])
    assert [c["users"] for c in retention["cohorts"]] == [1, 1, 1]  # u2, u1, u0 first seen
    breakdown = client.get(
        "/analytics/events/purchase_completed/breakdown?by=orderValue&field=orderValue",
        headers=headers,
    ).json["data"]
    assert breakdown["window"] == "30d" and breakdown["from"] == "2026-05-17"
    assert breakdown["items"] == [
        {
            "value": 25,
            "count": 7,
            "uniqueUsers": 3,
            "stats": {"count": 7, "mean": 25.0, "min": 25, "max": 25, "p50": 25, "p90": 25},
        }
    ]
    assert breakdown["otherCount"] == 0 and breakdown["approximate"] == ["p50", "p90"]


def test_run_status_lists_the_last_run(client: Any, auth: Auth, events: None) -> None:
    status = client.get("/analytics/reports/status", headers=auth("reports:read")).json["data"]
    assert status["watermark"] == "2026-06-15T12:00:00.000Z"
    assert status["lastRun"]["full"] is True
    assert status["lastRun"]["failureCount"] == 0 and status["lastRun"]["failures"] == []


def test_openapi_documents_the_insights_with_required_fields(client: Any) -> None:
    spec = client.get("/openapi.json").json
    for path in (
        "/analytics/events/{eventId}/breakdown",
        "/analytics/funnels/{funnelId}",
        "/analytics/retention",
        "/admin/funnels/{funnelId}",
        "/admin/funnels",
    ):
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    assert set(schemas["Breakdown"]["required"]) >= {"items", "otherCount", "approximate"}
    assert set(schemas["Retention"]["required"]) >= {"period", "cohorts", "approximate"}
    assert set(schemas["FunnelResult"]["required"]) >= {"funnelId", "steps", "segments"}
    breakdown = spec["paths"]["/analytics/events/{eventId}/breakdown"]["get"]
    assert {"200", "400", "404"} <= set(breakdown["responses"])
