"""The error envelope (docs/api.md#envelope-and-errors) for every failure the brief's table lists,
and a few more."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from core.settings import Settings
from rules.errors import UpdateContention
from web import create_app


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.is_json
    body: dict[str, Any] = response.json
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


def test_unknown_route_is_404_not_found(client: Any) -> None:
    assert_envelope(client.get("/no/such/thing"), 404, "not_found")


def test_wrong_method_is_405_with_allow_header(client: Any) -> None:
    response = client.get("/event")

    assert_envelope(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_body_over_16_kib_is_413(client: Any, auth: Any) -> None:
    body = '{"eventId": "daily_login", "userId": "u", "metadata": {"s": "%s"}}' % ("x" * 17000)

    response = client.post(
        "/event", data=body, headers={**auth(), "Content-Type": "application/json"}
    )

    assert_envelope(response, 413, "payload_too_large")


def test_body_just_under_16_kib_is_not_413(client: Any, auth: Any) -> None:
    body = '{"eventId": "x", "userId": "u", "pad": "%s"}' % ("x" * 16000)

    response = client.post(
        "/event", data=body, headers={**auth(), "Content-Type": "application/json"}
    )

    assert_envelope(response, 400, "validation_error")  # the unknown field, not the size


def test_unexpected_exception_is_500_without_trace(
    define: Any, send: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})

    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("secret internals: mongodb://admin:hunter2@db")

    monkeypatch.setattr("web.resources.events.record_event", explode)
    response = send("daily_login")

    body = assert_envelope(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert body["error"]["details"] == {}


def test_contention_is_503_unavailable(
    define: Any, send: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})

    def contended(*_args: Any, **_kwargs: Any) -> None:
        raise UpdateContention("user is changing too fast")

    monkeypatch.setattr("web.resources.events.record_event", contended)
    response = send("daily_login")

    body = assert_envelope(response, 503, "unavailable")
    assert "retry" in body["error"]["message"] or "fast" in body["error"]["message"]


def test_rate_limit_is_429_with_retry_after(
    settings: Settings, clients: Any, make_token: Any
) -> None:
    app = create_app(replace(settings, rate_limit="3/minute"), clients)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {make_token('admin')}"}

    statuses = [client.get("/admin/events", headers=headers).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get("/admin/events", headers=headers)
    assert_envelope(response, 429, "rate_limited")
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_event_endpoint_is_rate_limited_too(
    settings: Settings, clients: Any, auth: Any, define: Any
) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    app = create_app(replace(settings, rate_limit="2/minute"), clients)
    client = app.test_client()
    body = {"eventId": "daily_login", "userId": "u"}

    statuses = [client.post("/event", json=body, headers=auth()).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    limited = client.post("/event", json=body, headers=auth())
    assert_envelope(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    db = clients.mongo
    assert db.users.find_one({"userId": "u"})["eventCount"] == 2


def test_a_batch_costs_one_request_per_event(
    settings: Settings, clients: Any, auth: Any, define: Any
) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    app = create_app(replace(settings, rate_limit="4/minute"), clients)
    client = app.test_client()
    three = {"events": [{"eventId": "daily_login", "userId": f"u{i}"} for i in range(3)]}

    first = client.post("/events/batch", json=three, headers=auth())
    second = client.post("/events/batch", json=three, headers=auth())
    single = client.post("/event", json={"eventId": "daily_login", "userId": "v"}, headers=auth())

    assert first.status_code == 200
    # 3 + 3 > 4: the second batch records what the window has left (1), the rest is 429.
    assert [r["status"] for r in second.json["data"]["results"]] == [200, 429, 429]
    assert_envelope(single, 429, "rate_limited")  # 3 + 1 == 4 used already
    counts = {u["userId"]: u["eventCount"] for u in clients.mongo.users.find()}
    assert counts == {"u0": 2, "u1": 1, "u2": 1}


def test_rate_limit_is_per_project_across_tokens_and_routes(
    settings: Settings, clients: Any, make_token: Any
) -> None:
    app = create_app(replace(settings, rate_limit="2/minute"), clients)
    client = app.test_client()

    def get(path: str, project: str, scope: str = "admin") -> int:
        token = make_token(scope, project=project)
        status: int = client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code
        return status

    assert get("/admin/events", "acme") == 200
    assert get("/admin/streaks", "acme") == 200
    assert get("/admin/events", "acme") == 429  # a fresh token of the same project
    assert get("/admin/events", "globex") == 200  # another project has its own budget


def test_health_and_docs_are_not_rate_limited(settings: Settings, clients: Any) -> None:
    app = create_app(replace(settings, rate_limit="1/minute"), clients)
    client = app.test_client()

    statuses = [
        client.get(path).status_code
        for path in ["/health", "/health", "/openapi.json", "/openapi.json"]
    ]

    assert statuses == [200, 200, 200, 200]
