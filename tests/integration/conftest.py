"""Fixtures of the tests that work through the app and its stores (tests/integration)."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from jobs.queue import RedisQueue, use_queue


@pytest.fixture
def login_events(define: Any) -> None:
    """daily_login pays 10; its streak pays 5 more (and a badge) on the first day."""
    define("events", "daily_login", {"points": {"fixed": 10}})
    define(
        "streaks",
        "daily_use",
        {"events": ["daily_login"], "milestones": [{"count": 1, "points": 5, "badge": "hello"}]},
    )


@pytest.fixture
def queue(clients: Any, redis_client: redis.Redis) -> RedisQueue:
    """RQ on the test Redis, retrying at once so that a burst worker runs the retries."""
    if not isinstance(redis_client, redis.Redis) or "fakeredis" in type(redis_client).__module__:
        pytest.skip("needs a real Redis")
    queue = RedisQueue(redis_client, intervals=(0, 0, 0))
    use_queue(clients, queue)
    return queue
