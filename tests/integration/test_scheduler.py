"""Scheduled jobs: what is scheduled, and the lock that keeps two schedulers from doubling."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from core.clients import Clients
from jobs.locks import JobLocks, run_locked
from jobs.scheduler import build_scheduler
from tests.support.waiting import TIMEOUT

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_two_schedulers_on_one_store_run_a_job_once(clients: Clients) -> None:
    runs: list[str] = []
    inside, second_tried = threading.Event(), threading.Event()

    def slow_job(_db: Any) -> None:
        runs.append(threading.current_thread().name)
        inside.set()
        if len(runs) == 1:  # the first run lasts until the second scheduler has tried
            second_tried.wait(TIMEOUT)

    results: dict[str, bool] = {}

    def scheduler(owner: str) -> None:
        results[owner] = run_locked(clients, "report-run", slow_job, owner)
        if owner == "scheduler-b":
            second_tried.set()

    first = threading.Thread(target=scheduler, args=("scheduler-a",))
    first.start()
    assert inside.wait(TIMEOUT)
    second = threading.Thread(target=scheduler, args=("scheduler-b",))
    second.start()
    first.join()
    second.join()

    assert len(runs) == 1
    assert results == {"scheduler-a": True, "scheduler-b": False}
    # Released after the run: the next tick runs again.
    assert run_locked(clients, "report-run", slow_job, "scheduler-b") is True
    assert len(runs) == 2


def test_a_lock_whose_holder_died_expires(db: Any) -> None:
    locks = JobLocks(db)
    assert locks.acquire("job", "dead", timedelta(minutes=30), NOW) is True
    assert (
        locks.acquire("job", "alive", timedelta(minutes=30), NOW + timedelta(minutes=29)) is False
    )
    assert locks.acquire("job", "alive", timedelta(minutes=30), NOW + timedelta(minutes=30)) is True
    assert db.job_locks.find_one({"_id": "job"})["owner"] == "alive"


def test_a_failing_job_releases_its_lock(clients: Clients) -> None:
    def broken(_db: Any) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_locked(clients, "job", broken, "a")
    assert clients.mongo.job_locks.count_documents({}) == 0


def test_the_scheduler_runs_the_outbox_sweep_every_minute_and_the_ledger_check_hourly(
    clients: Clients,
) -> None:
    scheduler = build_scheduler(clients)
    jobs = {job.id: getattr(job.trigger, "interval", None) for job in scheduler.get_jobs()}

    assert isinstance(scheduler, BackgroundScheduler)
    assert jobs == {
        "outbox-sweep": timedelta(seconds=60),
        "ledger-verify": timedelta(hours=1),
        "leaderboard-rebuild": timedelta(hours=1),
        "report-run": timedelta(minutes=5),
        "export-run": None,  # on EXPORT_CRON (tests/integration/test_analytics_jobs.py)
    }
    assert isinstance(build_scheduler(clients, blocking=True), BlockingScheduler)


def test_the_scheduler_command_prints_its_jobs_and_blocks(runner: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(BlockingScheduler, "start", lambda self: None)

    result = runner.invoke(args=["scheduler"])

    assert result.exit_code == 0, result.output
    assert "scheduled outbox-sweep: interval[0:01:00]" in result.output
    assert "scheduled ledger-verify: interval[1:00:00]" in result.output
    assert "scheduled leaderboard-rebuild: interval[1:00:00]" in result.output
