"""MongoDB and Redis connections of one process, created on first use.

Nothing connects at import time, and in production nothing connects in the app factory either:
gunicorn and RQ fork, and a PyMongo client must not cross a fork. Each process builds its own
`Clients` and the first request (or job) opens the connections. (The embedded default's
in-memory stores are opened by the factory, to create indexes and seed the demo.)
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

import fakeredis
import redis
from pymongo import MongoClient
from pymongo.database import Database
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

from core import memorylimits
from core.inmemory import in_memory_database
from core.settings import Settings
from core.sortedsets import SortedSets

log = logging.getLogger(__name__)

RedisClient = redis.Redis  # (inside Clients, `redis` names the property)
BoardsClient = redis.Redis | SortedSets

RATE_LIMIT_TIMEOUT = 0.3  # seconds
IN_REQUEST_TIMEOUT = 0.25  # seconds
# Every MongoDB operation, retries and server selection included, gives up after this long
# (pymongo's timeoutMS): a hung primary answers 503 `unavailable` well before gunicorn's
# worker timeout (30 s) would kill the worker and the load balancer answered 502.
MONGO_TIMEOUT_MS = 10_000
MONGO_APPNAME = "laurel"  # shown in the server's logs, currentOp and profiler


def mongo_client_options() -> dict[str, Any]:
    """What Laurel relies on, stated rather than left to the URI or the driver's defaults:

    - `w="majority"`: an acknowledged write survives a failover. With `w=1` a primary that
      steps down may roll back an event's update after its 200, and the retry then awards it
      again; exactly-once (rules.usecases.unit_of_work) assumes a write, once acknowledged, stays.
    - `readPreference="primary"`: the exactly-once path reads a user, then writes against
      the `version` it read, and a request finishes the pending record it just pushed; a
      lagging secondary would hand out stale versions and hide that record. (rules.stores.users
      pins its collection to the primary too, whatever the URI says.)
    - `timeoutMS`: see MONGO_TIMEOUT_MS. `retryWrites` is the driver's default (true) and the
      writes are idempotent anyway.
    """
    return {
        "tz_aware": True,
        "serverSelectionTimeoutMS": 5000,
        "w": "majority",
        "readPreference": "primary",
        "timeoutMS": MONGO_TIMEOUT_MS,
        "appname": MONGO_APPNAME,
    }


class Clients:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def mongo(self) -> Database[Any]:
        if self.settings.mongo_uri is None:
            log.warning("MONGO_URI is not set: data lives in this process's memory only")
            return in_memory_database(self.settings.mongo_db)
        client: MongoClient[Any] = MongoClient(self.settings.mongo_uri, **mongo_client_options())
        return client[self.settings.mongo_db]

    @cached_property
    def redis(self) -> redis.Redis:
        if self.settings.redis_url is None:
            log.warning(
                "REDIS_URL is not set: leaderboards live in this process's memory, and the "
                "rest of Redis is an in-process fakeredis"
            )
            return fakeredis.FakeRedis(server=fakeredis.FakeServer())
        # redis-py's default retries back off for seconds; an outage must be noticed fast.
        return redis.Redis.from_url(
            self.settings.redis_url,
            socket_timeout=1,
            socket_connect_timeout=1,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1),
        )

    @cached_property
    def redis_in_request(self) -> RedisClient:
        """Redis for what a request does on the side (queueing a job, a leaderboard): short
        timeouts and no retry, because a slow Redis must not slow the answer down."""
        if self.settings.redis_url is None:
            return self.redis
        return redis.Redis.from_url(
            self.settings.redis_url,
            socket_timeout=IN_REQUEST_TIMEOUT,
            socket_connect_timeout=IN_REQUEST_TIMEOUT,
            retry=Retry(NoBackoff(), retries=0),
        )

    @cached_property
    def boards(self) -> BoardsClient:
        """Where the leaderboards live (rules.stores.boards): Redis, or without REDIS_URL
        sorted sets in this process's memory (core.sortedsets: Redis's semantics for what the
        boards use, without the protocol that made fakeredis a third of a request's time)."""
        if self.settings.redis_url is None:
            return SortedSets()
        return self.redis

    @cached_property
    def boards_in_request(self) -> BoardsClient:
        """`boards` with `redis_in_request`'s short timeouts, for the live updates."""
        if self.settings.redis_url is None:
            return self.boards
        return self.redis_in_request

    def rate_limit_storage(self) -> tuple[str, dict[str, Any]]:
        """Where flask-limiter keeps its counters (Redis when configured, else memory) and the
        options of its connection: short timeouts and no retries, because a slow Redis must
        not slow requests down (the limiter falls back to memory while Redis is unwell)."""
        if self.settings.redis_url is None:
            # (core.memorylimits: limits' memory storage without a timer thread per hit)
            return f"{memorylimits.SCHEME}://", {}
        return self.settings.redis_url, {
            "socket_timeout": RATE_LIMIT_TIMEOUT,
            "socket_connect_timeout": RATE_LIMIT_TIMEOUT,
            "retry": Retry(NoBackoff(), retries=0),
        }


def ping_mongo(database: Database[Any]) -> bool:
    try:
        database.command("ping")
    except Exception:  # any failure means "not reachable" to a health check
        log.exception("MongoDB ping failed")
        return False
    return True


def ping_redis(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        log.exception("Redis ping failed")
        return False
