"""GET /health reports whether MongoDB and Redis answer."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def test_health_is_ok_when_both_answer(client: Any) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json["data"] == {"status": "ok", "mongo": True, "redis": True}


def test_health_is_degraded_when_redis_is_down(client: Any, clients: Any) -> None:
    clients.__dict__["redis"] = redis.Redis(port=1, retry=Retry(NoBackoff(), retries=0))

    response = client.get("/health")

    assert response.status_code == 200
    assert response.json["data"] == {"status": "degraded", "mongo": True, "redis": False}


def test_health_is_503_when_mongo_is_down(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("web.resources.health.ping_mongo", lambda _db: False)

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json["error"]["code"] == "unavailable"
