"""JSON log lines and X-Request-ID: a request's line carries its id, the jobs it queued log the
same id and pass it on to the webhook receiver, and no token, secret or signature is logged."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from core.clients import Clients
from core.logs import JsonFormatter, RedactingFilter, install_record_factory
from jobs.queue import RedisQueue, use_queue
from jobs.worker import LaurelWorker
from tests.support.webhooks import SECRET, Receiver, subscribe


class JsonLines:
    """The root logger's records at DEBUG, formatted as the JSON lines `LOG_FORMAT=json` writes."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text().splitlines() if line]


@pytest.fixture
def json_logs() -> Iterator[JsonLines]:
    install_record_factory()
    captured = JsonLines()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield captured
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def rq_queue(clients: Clients, redis_client: redis.Redis) -> RedisQueue:
    if "fakeredis" in type(redis_client).__module__:
        pytest.skip("needs a real Redis")
    queue = RedisQueue(redis_client, intervals=(0,))
    use_queue(clients, queue)
    return queue


def test_a_request_id_is_echoed_and_a_bad_one_replaced(client: Any) -> None:
    kept = client.get("/health/live", headers={"X-Request-ID": "edge-1.abc_DEF"})
    too_long = client.get("/health/live", headers={"X-Request-ID": "x" * 129})
    odd = client.get("/health/live", headers={"X-Request-ID": "has space"})
    none = client.get("/health/live")

    assert kept.headers["X-Request-ID"] == "edge-1.abc_DEF"
    assert client.get("/health/live", headers={"X-Request-ID": "y" * 128}).headers[
        "X-Request-ID"
    ] == ("y" * 128)
    for response in (too_long, odd, none):
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert too_long.headers["X-Request-ID"] != none.headers["X-Request-ID"]


def test_the_request_line_and_the_job_it_queued_log_the_same_request_id(
    define: Any,
    client: Any,
    auth: Any,
    json_logs: JsonLines,
    receiver: Receiver,
    rq_queue: RedisQueue,
) -> None:
    define("events", "login", {"points": {"fixed": 10}})
    subscribe(client, auth, receiver.url, ["event.rewarded"])

    response = client.post(
        "/event",
        json={"eventId": "login", "userId": "ann"},
        headers={**auth(), "X-Request-ID": "req-42"},
    )
    LaurelWorker([rq_queue.rq], connection=rq_queue.rq.connection).work(burst=True)

    assert response.headers["X-Request-ID"] == "req-42"
    lines = json_logs.lines()
    access = [line for line in lines if line["logger"] == "laurel.access"]
    event_line = next(line for line in access if line["path"] == "/event")
    assert event_line["requestId"] == "req-42"
    assert event_line["method"] == "POST" and event_line["status"] == 200
    assert event_line["project"] == "acme" and event_line["durationMs"] >= 0
    assert event_line["level"] == "INFO" and event_line["ts"].endswith("+00:00")
    delivery = next(line for line in lines if line["logger"] == "jobs.webhooks")
    assert delivery["requestId"] == "req-42"
    assert "succeeded" in delivery["message"]
    assert receiver.requests[0]["headers"]["X-Request-ID"] == "req-42"
    other = [line["requestId"] for line in access if line["path"] != "/event"]
    assert other and "req-42" not in other


def test_no_token_secret_or_signature_reaches_the_logs(
    define: Any,
    client: Any,
    auth: Any,
    json_logs: JsonLines,
    receiver: Receiver,
    rq_queue: RedisQueue,
) -> None:
    define("events", "login", {"points": {"fixed": 10}})
    admin = auth("admin")
    subscribe(client, auth, receiver.url, ["event.rewarded"])
    headers = auth()
    client.post("/event", json={"eventId": "login", "userId": "ann"}, headers=headers)
    client.get("/users/ann?token=" + headers["Authorization"].split()[1], headers=admin)
    client.get("/metrics", headers=admin)
    logging.getLogger("tests").info("caller sent %s", headers["Authorization"])
    LaurelWorker([rq_queue.rq], connection=rq_queue.rq.connection).work(burst=True)

    text = json_logs.text()
    signature = receiver.requests[0]["headers"]["X-Laurel-Signature"]
    assert "laurel.access" in text and "caller sent Bearer [redacted]" in text
    for secret in (
        headers["Authorization"].split()[1],
        admin["Authorization"].split()[1],
        SECRET,
        signature,
        signature.split("v1=")[1],
    ):
        assert secret not in text
