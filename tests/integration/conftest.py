"""Fixtures of the tests that work through the app and its stores (tests/integration)."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from jobs.queue import RedisQueue, use_queue


@pytest.fixture
def queue(clients: Any, redis_client: redis.Redis) -> RedisQueue:
    """RQ on the test Redis, retrying at once so that a burst worker runs the retries."""
    if not isinstance(redis_client, redis.Redis) or "fakeredis" in type(redis_client).__module__:
        pytest.skip("needs a real Redis")
    queue = RedisQueue(redis_client, intervals=(0, 0, 0))
    use_queue(clients, queue)
    return queue
