"""Which queue a process uses, and what a worker needs to start."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from core.clients import Clients
from core.settings import ConfigError, Settings
from jobs.queue import InProcessQueue, RedisQueue, queue_for
from tests.conftest import TEST_SECRET
from tests.support.waiting import wait_for


def test_the_embedded_default_queues_in_process_for_its_own_store() -> None:
    clients = Clients(Settings())

    queue = queue_for(clients)

    assert isinstance(queue, InProcessQueue) and queue._clients is clients
    assert queue_for(clients) is queue  # one per process


def test_with_redis_jobs_go_to_rq_through_a_connection_with_short_timeouts() -> None:
    clients = Clients(Settings(redis_url="redis://127.0.0.1:6379/13", jwt_secret=TEST_SECRET))

    queue = queue_for(clients)

    assert isinstance(queue, RedisQueue)
    options: dict[str, Any] = queue.rq.connection.connection_pool.connection_kwargs
    assert options["socket_timeout"] == options["socket_connect_timeout"] == 0.25


def test_a_worker_starts_without_a_jwt_key_but_a_web_process_does_not() -> None:
    env = {"MONGO_URI": "mongodb://db:27017", "REDIS_URL": "redis://cache:6379/0"}

    assert Settings.from_env(env, serving=False).mongo_uri == "mongodb://db:27017"
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        Settings.from_env(env)


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("false", False), ("", None)])
def test_webhook_allow_private_is_read_as_a_flag(raw: str, expected: bool | None) -> None:
    assert Settings.from_env({"WEBHOOK_ALLOW_PRIVATE": raw}).webhook_allow_private is expected


def test_private_webhooks_default_to_allowed_only_in_memory() -> None:
    assert Settings().webhooks_may_reach_private is True
    production = Settings(mongo_uri="mongodb://db", redis_url="redis://r", jwt_secret=TEST_SECRET)
    assert production.webhooks_may_reach_private is False
    with pytest.raises(ConfigError):
        Settings.from_env({"WEBHOOK_ALLOW_PRIVATE": "maybe"})


def test_a_closed_in_process_queue_drops_its_retries_and_stops_its_threads() -> None:
    now = [0.0]
    queue = InProcessQueue(intervals=(300.0,), clock=lambda: now[0], workers=2)
    ran = threading.Event()

    def failing() -> None:
        ran.set()
        raise RuntimeError("the receiver is down")

    queue.enqueue(failing)
    wait_for(lambda: ran.is_set() and queue.pending() == 1, "the first attempt and its retry")

    assert queue.close()
    queue.enqueue(failing)  # after close: dropped

    assert queue.pending() == 0


def test_closing_reports_a_job_still_running_after_the_wait() -> None:
    queue = InProcessQueue(workers=1)
    started, release = threading.Event(), threading.Event()

    def stuck() -> None:
        started.set()
        release.wait(60)

    queue.enqueue(stuck)
    wait_for(started.is_set, "the job to start")

    assert queue.close(wait=0.01) is False
    release.set()
    assert queue.close() is True
