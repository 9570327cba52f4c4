"""GET /health/live (the process answers) and /health/ready (MongoDB and Redis answer)."""

from __future__ import annotations

from typing import Any

import pytest

from core.clients import Clients
from core.settings import Settings
from web import create_app

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_live_answers_without_touching_a_store(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.resources.health.ping_mongo", lambda _db: pytest.fail("pinged"))

    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json == {"success": True, "data": {"status": "ok"}}


def test_ready_when_mongo_and_redis_answer(client: Any) -> None:
    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json["data"] == {"status": "ok", "mongo": True, "redis": True}


def test_ready_is_503_in_the_envelope_when_redis_does_not_answer(settings: Settings) -> None:
    unreachable = Settings(**{**settings.__dict__, "redis_url": CLOSED_PORT_REDIS})
    client = create_app(unreachable, Clients(unreachable)).test_client()

    ready = client.get("/health/ready")
    live = client.get("/health/live")

    assert ready.status_code == 503
    assert ready.headers["Retry-After"] == "5"
    assert ready.json["success"] is False
    assert ready.json["error"]["code"] == "unavailable"
    assert ready.json["error"]["message"] == "Not ready: Redis unreachable"
    assert ready.json["error"]["details"] == {"mongo": ["up"], "redis": ["down"]}
    assert live.status_code == 200
    assert client.get("/health").json["data"]["status"] == "degraded"  # unchanged


def test_ready_is_503_when_mongo_does_not_answer(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.resources.health.ping_mongo", lambda _db: False)

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json["error"]["details"] == {"mongo": ["down"], "redis": ["up"]}
