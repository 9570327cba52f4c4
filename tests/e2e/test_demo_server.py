"""`make run` as a real process: the brief's three curl examples with the printed token."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.brief import BRIEF_EXAMPLES, RESPONSE_FIELDS, STREAK_FIELDS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = {"MONGO_URI", "REDIS_URL", "JWT_SECRET", "JWT_KEYS", "RATE_LIMIT", "PORT"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def demo_server() -> Iterator[tuple[str, dict[str, str]]]:
    """`make run` on a free PORT, as a newcomer would start it; stopped with its children."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURATION} | {"PORT": str(port)}
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        tokens = _read_tokens(lines, deadline=time.monotonic() + 120)
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, deadline=time.monotonic() + 30)
        yield base, tokens
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        reader.join(timeout=10)
        process.stdout.close()


def _pump(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def _read_tokens(lines: queue.Queue[str], deadline: float) -> dict[str, str]:
    tokens: dict[str, str] = {}
    while "ADMIN_TOKEN" not in tokens:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError("make run printed no tokens in time") from None
        if line.startswith("Dashboard"):
            tokens["DASHBOARD_LINK"] = line.rsplit(" ", 1)[-1].strip()
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            tokens[name] = value
    return tokens


def _wait_until_up(base: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the demo server did not answer /health")


def call(
    method: str, url: str, token: str | None = None, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_brief_examples_work_with_the_printed_token(demo_server: Any) -> None:
    base, tokens = demo_server

    results = [
        call("POST", f"{base}/event", tokens["EVENTS_TOKEN"], body) for body in BRIEF_EXAMPLES
    ]

    assert [status for status, _ in results] == [200, 200, 200]
    login, purchase, level = (body["data"] for _, body in results)
    assert login["pointsAwarded"] == 10
    assert login["streaks"][0]["streakId"] == "daily_app_use"
    assert purchase["pointsAwarded"] == 259
    assert level["eventId"] == "level_completed"
    for data in (login, purchase, level):
        assert set(data) == RESPONSE_FIELDS
    assert set(login["streaks"][0]) == STREAK_FIELDS


def test_admin_token_reads_the_seeded_definitions(demo_server: Any) -> None:
    base, tokens = demo_server

    status, body = call("GET", f"{base}/admin/events", tokens["ADMIN_TOKEN"])

    assert status == 200
    assert {item["eventId"] for item in body["data"]["items"]} == {
        "daily_login",
        "purchase_completed",
        "level_completed",
        "complete_profile",
    }


def test_make_run_prints_a_dashboard_link_signed_in_as_the_admin(demo_server: Any) -> None:
    base, tokens = demo_server

    assert tokens["DASHBOARD_LINK"] == f"{base}/dashboard/#token={tokens['ADMIN_TOKEN']}"
    with urllib.request.urlopen(tokens["DASHBOARD_LINK"].partition("#")[0], timeout=10) as page:
        assert page.status == 200
        assert b'src="/dashboard/static/js/main.js"' in page.read()


def test_complete_profile_pays_once_per_user(demo_server: Any) -> None:
    base, tokens = demo_server
    body = {"eventId": "complete_profile", "userId": "profile-user"}

    first = call("POST", f"{base}/event", tokens["EVENTS_TOKEN"], body)[1]["data"]
    second = call("POST", f"{base}/event", tokens["EVENTS_TOKEN"], body)[1]["data"]

    assert first["pointsAwarded"] > 0
    assert (second["pointsAwarded"], second["reason"]) == (0, "limit_reached")


def test_events_token_cannot_use_the_admin_api(demo_server: Any) -> None:
    base, tokens = demo_server

    status, body = call("GET", f"{base}/admin/events", tokens["EVENTS_TOKEN"])

    assert status == 403
    assert body["error"]["code"] == "forbidden"
