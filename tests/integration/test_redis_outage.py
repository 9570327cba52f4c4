"""Redis that refuses or hangs never fails POST /event (docs/architecture.md#side-effects-and-jobs:
an outage of Redis never fails or slows POST /event)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from core.clients import Clients
from core.settings import Settings
from web import create_app


@pytest.fixture
def silent_redis_url() -> Iterator[str]:
    """A socket that accepts connections (in the kernel backlog) and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def post_events_within(app: Any, auth_headers: dict[str, str], seconds: float) -> list[int]:
    """POST three events from a thread; a hang becomes a failure instead of a stuck suite."""
    statuses: list[int] = []

    def work() -> None:
        client = app.test_client()
        for _ in range(3):
            body = {"eventId": "daily_login", "userId": "u"}
            statuses.append(client.post("/event", json=body, headers=auth_headers).status_code)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "POST /event hung on an unresponsive Redis"
    return statuses


@pytest.mark.parametrize("which", ["silent", "refusing"])
def test_event_is_recorded_when_redis_is_unusable(
    settings: Settings, auth: Any, silent_redis_url: str, which: str
) -> None:
    url = silent_redis_url if which == "silent" else closed_port_url()
    broken = replace(settings, redis_url=url)
    app = create_app(broken, Clients(broken))
    admin = app.test_client().put(
        "/admin/events/daily_login", json={"points": {"fixed": 10}}, headers=auth("admin")
    )
    assert admin.status_code == 200

    statuses = post_events_within(app, auth(), seconds=15)

    assert statuses == [200, 200, 200]
    db = app.extensions["laurel"].clients.mongo
    assert db.users.find_one({"userId": "u"})["points"]["balance"] == 30
