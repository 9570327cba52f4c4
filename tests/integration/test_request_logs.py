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
from tests.support.logs import Records, on_root
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
    with on_root(handler):
        yield captured


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


def test_access_records_carry_the_line_its_level_and_fields(
    client: Any, auth: Any, json_logs: JsonLines
) -> None:
    """web.observability makes the access record itself (no caller lookup): it must reach
    the handlers as `Logger.log` made it, text, level, request id and fields alike."""
    records = Records()
    access = logging.getLogger("laurel.access")
    access.addHandler(records)
    try:
        event = client.post(
            "/event",
            json={"eventId": "login", "userId": "ann"},
            headers={**auth(), "X-Request-ID": "req-7"},
        )
        client.get("/health/live")
        client.get("/no/such/path")
    finally:
        access.removeHandler(records)

    assert event.status_code == 404  # no such event defined: refused, still logged
    posted, live, missing = records.records
    assert (posted.levelno, live.levelno, missing.levelno) == (
        logging.INFO,
        logging.DEBUG,
        logging.INFO,
    )
    assert re.fullmatch(r"POST /event 404 \d+ms", posted.getMessage())
    assert re.fullmatch(r"GET /health/live 200 \d+ms", live.getMessage())
    assert re.fullmatch(r"GET /no/such/path 404 \d+ms", missing.getMessage())
    fields = {name: getattr(posted, name) for name in ("method", "path", "status", "project")}
    assert fields == {"method": "POST", "path": "/event", "status": 404, "project": "acme"}
    assert posted.durationMs >= 0 and missing.project is None
    assert posted.requestId == "req-7" and posted.name == "laurel.access"
    assert posted.funcName == "_log_access" and posted.pathname.endswith("observability.py")
    json_line = next(line for line in json_logs.lines() if line.get("path") == "/event")
    assert json_line["message"] == posted.getMessage() and json_line["status"] == 404


def test_no_access_record_is_made_below_the_loggers_level(client: Any) -> None:
    records = Records()
    access = logging.getLogger("laurel.access")
    access.addHandler(records)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        assert client.get("/health/live").status_code == 200
        assert client.get("/no/such/path").status_code == 404
    finally:
        access.setLevel(level)
        access.removeHandler(records)
    assert [record.getMessage().split()[1] for record in records.records] == ["/no/such/path"]
