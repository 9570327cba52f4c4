"""Errors that used to leave the envelope (issue 19, finding 9): a huge path (414) and huge
headers (431), whether Flask or werkzeug's server notices first. gunicorn's own answers are
tested with the production server (tests/e2e/test_hardening_serving.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.support.http import raw_request
from tests.support.logs import Records, on_root
from web.requestlimits import MAX_HEADER_FIELD, MAX_HEADER_FIELDS, EnvelopeRequestHandler


def assert_envelope(response: Any, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.is_json, response.get_data(as_text=True)[:200]
    assert response.json["success"] is False
    assert response.json["error"]["code"] == code


def test_a_path_too_long_is_414_in_the_envelope(client: Any) -> None:
    assert_envelope(client.get("/users/" + "a" * 9000), 414, "uri_too_long")


def test_a_query_too_long_is_414_in_the_envelope(client: Any, auth: Any) -> None:
    assert_envelope(
        client.get("/leaderboards?x=" + "a" * 9000, headers=auth()), 414, "uri_too_long"
    )


def test_a_header_too_long_is_431_in_the_envelope(client: Any) -> None:
    response = client.get("/health", headers={"X-Big": "b" * MAX_HEADER_FIELD})

    assert_envelope(response, 431, "headers_too_large")


def test_too_many_headers_are_431_in_the_envelope(client: Any) -> None:
    headers = {f"X-H{i}": "v" for i in range(MAX_HEADER_FIELDS + 1)}

    assert_envelope(client.get("/health", headers=headers), 431, "headers_too_large")


def test_ordinary_requests_pass_the_size_checks(client: Any, auth: Any) -> None:
    response = client.get("/users/" + "a" * 100, headers={**auth("users:read"), "X-Ok": "v" * 4000})

    assert_envelope(response, 404, "not_found")


@pytest.fixture
def dev_server(app: Any) -> Iterator[int]:
    """The app behind werkzeug's threaded server with Laurel's handler, as `make run` serves."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=EnvelopeRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.port
    server.shutdown()
    thread.join(timeout=10)


def test_the_dev_server_answers_a_request_line_over_64_kib_in_the_envelope(dev_server: int) -> None:
    head = b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"

    status, content_type, body = raw_request(dev_server, head)

    assert (status, content_type) == (414, "application/json")
    assert body["error"]["code"] == "uri_too_long"


def test_the_dev_server_answers_a_header_over_64_kib_in_the_envelope(dev_server: int) -> None:
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n"

    status, content_type, body = raw_request(dev_server, head)

    assert (status, content_type) == (431, "application/json")
    assert body["error"]["code"] == "headers_too_large"


def test_the_dev_server_answers_a_path_over_the_flask_limit_in_the_envelope(
    dev_server: int,
) -> None:
    head = b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    status, content_type, body = raw_request(dev_server, head)

    assert (status, content_type) == (414, "application/json")
    assert body["success"] is False


@pytest.fixture
def log_records() -> Iterator[Records]:
    records = Records()
    with on_root(records):
        yield records


def test_the_dev_server_logs_a_request_once_and_its_own_refusals(
    dev_server: int, log_records: Records
) -> None:
    """The app's access line says it all; werkzeug adds no line of its own per request, but
    still logs what it refuses before the app sees it."""
    served = raw_request(dev_server, b"GET /no/such/path HTTP/1.1\r\nHost: x\r\n\r\n")
    refused = raw_request(dev_server, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")

    assert (served[0], refused[0]) == (404, 414)
    lines = [(record.name, record.getMessage()) for record in log_records.records]
    access = [message for name, message in lines if name == "laurel.access"]
    assert len(access) == 1 and access[0].startswith("GET /no/such/path 404 ")
    werkzeug = [message for name, message in lines if name == "werkzeug"]
    assert len(werkzeug) == 1 and "code 414" in werkzeug[0], lines
