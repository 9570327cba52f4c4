"""Graceful shutdown: a stopped scheduler lets its runs finish for a grace period and releases
the locks it holds; `flask scheduler` stops on SIGTERM; an RQ job carries its request id."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from rq import Queue

from core import clock
from core.clients import Clients
from core.logs import bound_request_id, request_id
from jobs.locks import JobLocks, run_locked
from jobs.queue import META_REQUEST_ID, QUEUE_NAME, RedisQueue
from jobs.scheduler import build_scheduler, stop
from jobs.worker import LaurelWorker
from tests.support.waiting import wait_for_line

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = {"MONGO_URI", "REDIS_URL", "JWT_SECRET", "JWT_KEYS", "PORT", "LOG_FORMAT"}
SEEN: list[str | None] = []


def remember_request_id() -> None:
    """A queue job (module-level, so RQ can import it)."""
    SEEN.append(request_id.get())


def test_stop_releases_the_locks_of_runs_cut_short_and_keeps_others(clients: Clients) -> None:
    scheduler = build_scheduler(clients, owner="me")
    scheduler.start()
    locks = JobLocks(clients.mongo)
    hour = timedelta(hours=1)
    assert locks.acquire("report-run", "me", hour, clock.now())
    assert locks.acquire("ledger-verify", "me", hour, clock.now())
    assert locks.acquire("outbox-sweep", "another-scheduler", hour, clock.now())

    released = stop(scheduler, clients, "me", grace=0)

    assert released == 2
    assert scheduler.running is False
    assert [lock["_id"] for lock in clients.mongo.job_locks.find()] == ["outbox-sweep"]


def test_stop_lets_a_run_in_progress_finish_within_the_grace_period(clients: Clients) -> None:
    scheduler = build_scheduler(clients, owner="me")
    inside, finish = threading.Event(), threading.Event()
    finished: list[bool] = []

    def report_run(_db: Any) -> None:
        inside.set()
        assert finish.wait(30)
        finished.append(True)

    run = threading.Thread(target=run_locked, args=(clients, "report-run", report_run, "me"))
    run.start()
    assert inside.wait(10)
    result: list[int] = []
    stopping = threading.Thread(target=lambda: result.append(stop(scheduler, clients, "me", 30)))
    stopping.start()
    finish.set()
    stopping.join(40)
    run.join(10)

    assert finished == [True]
    assert result == [0]  # the run released its own lock; nothing was cut short
    assert clients.mongo.job_locks.count_documents({}) == 0


def test_the_scheduler_process_stops_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURATION}
    env["EXPORT_DIR"] = str(tmp_path)
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        wait_for_line(process, "scheduled outbox-sweep")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


def test_an_rq_job_runs_under_the_request_id_that_queued_it(redis_client: redis.Redis) -> None:
    if "fakeredis" in type(redis_client).__module__:
        pytest.skip("needs a real Redis")
    queue = RedisQueue(redis_client)
    SEEN.clear()

    with bound_request_id("req-from-the-edge"):
        queue.enqueue(remember_request_id)
    queue.enqueue(remember_request_id)  # queued outside any request
    jobs = Queue(QUEUE_NAME, connection=redis_client).jobs
    LaurelWorker([queue.rq], connection=redis_client).work(burst=True)

    assert [job.meta[META_REQUEST_ID] for job in jobs] == ["req-from-the-edge", None]
    assert SEEN[0] == "req-from-the-edge"
    assert SEEN[1] is not None and SEEN[1] != "req-from-the-edge"  # a fresh id of its own
