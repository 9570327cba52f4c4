"""The SDK against a real Laurel: the test app served over HTTP on 127.0.0.1 by werkzeug.

No part of Laurel is replaced: the tests inject faults into it (a failing call, a low
RATE_LIMIT) the way an operator would meet them, and look at what the client does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from laurel_client import Laurel
from werkzeug.serving import make_server

SUPPORT_SCOPES = "events:write users:read users:write"
# Seconds per request: generous, since a batch of 100 on a busy test machine takes a while.
TIMEOUT = 60.0


@pytest.fixture
def server(app: Any) -> Iterator[str]:
    """The app on a free port of 127.0.0.1; yields its base URL."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="laurel-test-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    http.server_close()
    thread.join()


class Sleeps:
    """Records the client's waits instead of sleeping; `then` runs after each (e.g. to let a
    rate limit window pass without waiting for the clock)."""

    def __init__(self, then: Callable[[float], None] | None = None) -> None:
        self.waits: list[float] = []
        self.then = then

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.then is not None:
            self.then(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def laurel(server: str, make_token: Callable[..., str], sleeps: Sleeps) -> Iterator[Laurel]:
    token = make_token(SUPPORT_SCOPES, subject="sdk-tests")
    with Laurel(server, token, timeout=TIMEOUT, sleep=sleeps) as client:
        yield client


@pytest.fixture
def rewards(define: Any, client: Any, auth: Any) -> None:
    """The brief's daily_login (10 points) with a daily streak, and two levels."""
    define("events", "daily_login", {"points": {"fixed": 10}})
    define(
        "events",
        "purchase_completed",
        {"points": {"perUnit": {"field": "orderValue", "rate": 1, "rounding": "floor"}}},
    )
    define("events", "level_completed", {"points": {"fixed": 5}})
    define("streaks", "daily_app_use", {"events": ["daily_login"], "period": "day"})
    levels = {
        "levels": [
            {"level": 1, "name": "Bronze", "minPoints": 0},
            {"level": 2, "name": "Silver", "minPoints": 100},
        ]
    }
    assert client.put("/admin/levels", json=levels, headers=auth("admin")).status_code == 200
