"""Limits that a client must not slip past (issue 19, findings 2-4): chunked bodies are measured
and charged on the bytes actually read, a nested body cannot flip the rate limiter into its
"storage down" fallback, an app's token cannot lock out its operators, and a batch bigger than
what is left of the window is never refused for ever."""

from __future__ import annotations

import http.client
import io
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from werkzeug.serving import make_server

from core.settings import Settings
from web import create_app

JSON = "application/json"


def limited_app(settings: Settings, clients: Any, rate_limit: str) -> Any:
    app = create_app(replace(settings, rate_limit=rate_limit), clients)
    app.config["TESTING"] = True
    return app


def post_chunked(client: Any, path: str, body: bytes, headers: dict[str, str]) -> Any:
    """POST without Content-Length, as a server passes on a `Transfer-Encoding: chunked`
    body (werkzeug's dev server and gunicorn set wsgi.input_terminated for those)."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        headers={**headers, "Content-Type": JSON, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def batch(count: int, prefix: str = "u") -> bytes:
    events = [{"eventId": "daily_login", "userId": f"{prefix}{i}"} for i in range(count)]
    return json.dumps({"events": events}).encode()


@pytest.fixture
def login(define: Any) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})


def test_chunked_batches_cost_one_hit_per_event(
    settings: Settings, clients: Any, auth: Any, login: None
) -> None:
    client = limited_app(settings, clients, "5/minute").test_client()

    first = post_chunked(client, "/events/batch", batch(3, "a"), auth())
    second = post_chunked(client, "/events/batch", batch(3, "b"), auth())
    single = client.post("/event", json={"eventId": "daily_login", "userId": "c"}, headers=auth())

    assert first.status_code == 200
    assert [r["status"] for r in first.json["data"]["results"]] == [200, 200, 200]
    # 3 + 3 > 5: the second batch gets what was left (2), its last event is 429.
    assert [r["status"] for r in second.json["data"]["results"]] == [200, 200, 429]
    assert single.status_code == 429
    assert clients.mongo.users.count_documents({}) == 5


def test_chunked_body_over_the_batch_limit_is_413(
    client: Any, clients: Any, auth: Any, login: None
) -> None:
    padding = "x" * 200
    events = [
        {"eventId": "daily_login", "userId": f"u{i}", "metadata": {"pad": padding}}
        for i in range(100)
    ]
    body = json.dumps({"events": events * 60}).encode()  # ~1.4 MiB, over 1 MiB
    assert len(body) > 1024 * 1024

    response = post_chunked(client, "/events/batch", body, auth())

    assert response.status_code == 413, response.json
    assert response.json["error"]["code"] == "payload_too_large"
    assert clients.mongo.users.count_documents({}) == 0


def test_chunked_event_over_16_kib_is_413_not_a_cut_json_400(
    client: Any, auth: Any, login: None
) -> None:
    body = json.dumps(
        {"eventId": "daily_login", "userId": "u", "metadata": {"s": "x" * 17000}}
    ).encode()

    response = post_chunked(client, "/event", body, auth())

    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_chunked_body_within_the_limit_is_read_whole(client: Any, auth: Any, login: None) -> None:
    body = json.dumps({"eventId": "daily_login", "userId": "whole"}).encode()

    response = post_chunked(client, "/event", body, auth())

    assert response.status_code == 200, response.json
    assert response.json["data"]["pointsAwarded"] == 10


@pytest.fixture
def dev_server(app: Any) -> Iterator[int]:
    """The app behind werkzeug's threaded server, as `make run` serves it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.port
    server.shutdown()
    thread.join(timeout=10)


def send_chunks(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))
        connection.request(
            "POST",
            path,
            body=chunks,
            headers={**headers, "Content-Type": JSON},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_a_real_server_answers_an_over_size_chunked_batch_413(
    dev_server: int, auth: Any, login: None
) -> None:
    body = json.dumps({"events": [{"eventId": "daily_login", "userId": "x" * 100}] * 12000})
    assert len(body) > 1024 * 1024

    status, answer = send_chunks(dev_server, "/events/batch", body.encode(), auth())

    assert status == 413
    assert answer["error"]["code"] == "payload_too_large"


def test_a_real_server_charges_a_chunked_batch_per_event(
    settings: Settings, clients: Any, auth: Any, login: None
) -> None:
    app = limited_app(settings, clients, "4/minute")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        first = send_chunks(server.port, "/events/batch", batch(4, "a"), auth())
        second = send_chunks(server.port, "/events/batch", batch(4, "b"), auth())
    finally:
        server.shutdown()
        thread.join(timeout=10)

    assert first[0] == 200
    assert second[0] == 429
    assert second[1]["error"]["code"] == "rate_limited"


def nested(depth: int) -> bytes:
    return b'{"events": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("path", ["/events/batch", "/event"])
def test_deeply_nested_json_is_400_before_parsing(
    client: Any, auth: Any, login: None, path: str
) -> None:
    response = client.post(path, data=nested(1000), headers={**auth(), "Content-Type": JSON})

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert "nest" in response.json["error"]["message"]


def test_brackets_inside_strings_do_not_count_as_nesting(
    client: Any, auth: Any, login: None
) -> None:
    body = {"eventId": "daily_login", "userId": "u", "metadata": {"note": "[" * 200 + '\\"{'}}

    response = client.post("/event", json=body, headers=auth())

    assert response.status_code == 200, response.json


def test_a_nested_body_leaves_the_limiter_on_its_storage(
    settings: Settings,
    clients: Any,
    auth: Any,
    login: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = limited_app(settings, clients, "2/minute").test_client()
    one = {"eventId": "daily_login", "userId": "u"}
    statuses = [client.post("/event", json=one, headers=auth()).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]

    with caplog.at_level(logging.WARNING):
        for headers in ({}, auth()):  # unauthenticated and as the project's app
            client.post(
                "/events/batch", data=nested(1000), headers={**headers, "Content-Type": JSON}
            )
        after = client.post("/event", json=one, headers=auth())

    assert after.status_code == 429  # still cut off: the counts were not reset
    assert not [r for r in caplog.records if "falling back" in r.getMessage()]


def test_refused_bodies_count_against_the_limit_too(
    settings: Settings, clients: Any, auth: Any, login: None
) -> None:
    client = limited_app(settings, clients, "2/minute").test_client()
    headers = {**auth(), "Content-Type": JSON}

    statuses = [
        client.post("/events/batch", data=nested(100), headers=headers).status_code,
        post_chunked(client, "/event", b'{"pad": "' + b"x" * 20000 + b'"}', auth()).status_code,
        client.post(
            "/event", json={"eventId": "daily_login", "userId": "u"}, headers=auth()
        ).status_code,
    ]

    assert statuses == [400, 413, 429]


def test_an_app_exhausting_the_limit_does_not_lock_out_admin_calls(
    settings: Settings, clients: Any, auth: Any, login: None
) -> None:
    client = limited_app(settings, clients, "2/minute").test_client()
    one = {"eventId": "daily_login", "userId": "u"}

    events = [client.post("/event", json=one, headers=auth()).status_code for _ in range(3)]
    admin = client.get("/admin/events", headers=auth("admin"))
    support = client.get("/users/u", headers=auth("users:read"))

    assert events == [200, 200, 429]
    assert admin.status_code == 200
    assert support.status_code == 200


def test_a_batch_larger_than_what_is_left_records_what_is_left(
    settings: Settings, clients: Any, auth: Any, login: None
) -> None:
    client = limited_app(settings, clients, "5/minute").test_client()
    for i in range(3):
        client.post("/event", json={"eventId": "daily_login", "userId": f"s{i}"}, headers=auth())

    response = client.post(
        "/events/batch", data=batch(4, "b"), headers={**auth(), "Content-Type": JSON}
    )

    assert response.status_code == 200
    results = response.json["data"]["results"]
    assert [r["status"] for r in results] == [200, 200, 429, 429]
    assert results[2]["error"]["code"] == "rate_limited"
    assert clients.mongo.users.count_documents({"userId": {"$in": ["b2", "b3"]}}) == 0
    # The window is spent now: the next request of any size is refused whole.
    assert (
        client.post(
            "/events/batch", data=batch(2, "c"), headers={**auth(), "Content-Type": JSON}
        ).status_code
        == 429
    )
