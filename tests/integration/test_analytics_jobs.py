"""Report and export jobs: scheduled through the lock (two schedulers run a job once), queued
from the API, and by hand with `flask --app wsgi reports run|export`."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger

from core import clock
from core.clients import Clients
from core.settings import Settings
from jobs.locks import LOCK_TTL, JobLocks, run_locked
from jobs.reports import (
    EXPORT_JOB,
    REPORT_JOB,
    JobBusy,
    refresh_reports,
    run_exports,
    run_reports,
)
from jobs.runtime import running_with
from jobs.scheduler import build_scheduler
from reports.analytics.store import ReportStore
from tests.conftest import PROJECT


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return replace(
        settings,
        report_interval=120,
        export_cron="30 2 * * *",
        export_dir=str(tmp_path / "exports"),
    )


def add_events(db: Any, count: int, project: str = PROJECT) -> None:
    now = clock.now()
    db.events.insert_many(
        [
            {
                "project": project,
                "userId": f"u{n}",
                "eventId": "daily_login",
                "timestamp": now - timedelta(days=n % 3),
                "receivedAt": now - timedelta(minutes=1),
                "metadata": {"platform": "ios", "sessionLength": n},
                "outcome": {"pointsAwarded": 10, "totalPointsAwarded": 10},
            }
            for n in range(count)
        ]
    )


def test_the_scheduler_runs_reports_every_report_interval_and_exports_on_export_cron(
    clients: Clients,
) -> None:
    jobs = {job.id: job for job in build_scheduler(clients).get_jobs()}

    report, export = jobs[REPORT_JOB], jobs[EXPORT_JOB]
    assert report.func is run_locked and export.func is run_locked
    assert report.args[1] == REPORT_JOB and export.args[1] == EXPORT_JOB
    assert report.trigger.interval == timedelta(seconds=120)
    assert isinstance(export.trigger, CronTrigger)
    assert str(export.trigger) == str(CronTrigger.from_crontab("30 2 * * *", timezone=UTC))
    assert export.trigger.timezone == UTC


def test_two_schedulers_on_one_store_run_the_report_job_once(clients: Clients, db: Any) -> None:
    add_events(db, 5)
    first, second = build_scheduler(clients), build_scheduler(clients)
    job_a, job_b = first.get_job(REPORT_JOB), second.get_job(REPORT_JOB)
    # Scheduler A is inside its run (holds the lock) when B's tick fires.
    assert JobLocks(db).acquire(REPORT_JOB, job_a.args[3], LOCK_TTL, clock.now())

    assert job_b.func(*job_b.args) is False
    assert ReportStore(db).watermark(PROJECT) is None  # B did not run it

    JobLocks(db).release(REPORT_JOB, job_a.args[3])
    assert job_b.func(*job_b.args) is True
    assert ReportStore(db).report(PROJECT, "daily_login", "all")["count"] == 5  # type: ignore[index]


def test_the_scheduled_export_writes_every_project(clients: Clients, db: Any) -> None:
    add_events(db, 3)
    add_events(db, 2, project="other")
    job = build_scheduler(clients).get_job(REPORT_JOB)
    assert job.func(*job.args)
    export = build_scheduler(clients).get_job(EXPORT_JOB)

    assert export.func(*export.args) is True

    root = Path(clients.settings.export_dir)
    assert {p.name for p in root.iterdir()} == {PROJECT, "other"}
    assert {p.suffix for p in (root / PROJECT).iterdir()} >= {".csv", ".json"}


def test_queued_jobs_wait_for_a_run_holding_the_lock(clients: Clients, db: Any) -> None:
    add_events(db, 2)
    JobLocks(db).acquire(REPORT_JOB, "scheduler-a", LOCK_TTL, clock.now())
    JobLocks(db).acquire(EXPORT_JOB, "scheduler-a", LOCK_TTL, clock.now())

    with running_with(clients):  # what the queue does for a job
        with pytest.raises(JobBusy):  # the queue retries it later
            run_reports(PROJECT)
        with pytest.raises(JobBusy):
            run_exports(PROJECT)
        JobLocks(db).release(REPORT_JOB, "scheduler-a")
        assert run_reports(PROJECT) == 1
    assert db.job_locks.count_documents({"_id": REPORT_JOB}) == 0


def test_a_failing_project_does_not_stop_the_others(
    clients: Clients, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_events(db, 2, project="broken")
    add_events(db, 2)
    import jobs.reports

    real = jobs.reports.run_project

    def run_project(db: Any, project: str, **kwargs: Any) -> Any:
        if project == "broken":
            raise RuntimeError("boom")
        return real(db, project, **kwargs)

    monkeypatch.setattr(jobs.reports, "run_project", run_project)

    assert [stats.project for stats in jobs.reports.refresh_reports(db)] == [PROJECT]
    with running_with(clients), pytest.raises(RuntimeError, match="boom"):
        run_reports("broken")  # alone, its failure is the job's: the queue retries it


def test_reports_run_prints_progress_and_a_summary(runner: Any, db: Any) -> None:
    add_events(db, 40)

    result = runner.invoke(args=["reports", "run", "--project", PROJECT])

    assert result.exit_code == 0, result.output
    assert f"  {PROJECT}: 40 events processed, 3 days touched, " in result.stderr
    assert f"{PROJECT}: full, 40 events processed, 3 days touched, 3 reports" in result.stdout
    assert "1 project(s) in " in result.stdout

    add_events(db, 1)
    again = runner.invoke(args=["reports", "run"])
    assert f"{PROJECT}: 41 new events, 41 events processed, 3 days touched" in again.stdout


def test_reports_run_refuses_while_another_run_holds_the_lock(runner: Any, db: Any) -> None:
    JobLocks(db).acquire(REPORT_JOB, "scheduler-a", LOCK_TTL, clock.now())

    result = runner.invoke(args=["reports", "run"])

    assert result.exit_code == 1
    assert "in progress elsewhere" in result.output


def test_reports_export_writes_files_and_prints_them(
    runner: Any, db: Any, settings: Settings
) -> None:
    add_events(db, 3)
    assert runner.invoke(args=["reports", "run"]).exit_code == 0

    result = runner.invoke(args=["reports", "export", "--project", PROJECT])

    assert result.exit_code == 0, result.output
    paths = [line.split(" (")[0] for line in result.stdout.splitlines()[:-1]]
    assert paths and all(
        Path(p).parent == Path(settings.export_dir).resolve() / PROJECT for p in paths
    )
    assert all(Path(p).is_file() for p in paths)
    assert result.stdout.splitlines()[-1] == f"{len(paths)} file(s) written"


def test_db_init_creates_the_report_collections(runner: Any, db: Any) -> None:
    result = runner.invoke(args=["db", "init"])

    assert result.exit_code == 0, result.output
    assert "report_partials" in result.output and "reports" in result.output
    assert "project_event_day" in db.report_partials.index_information()


def test_a_run_logs_its_progress_line(db: Any, caplog: pytest.LogCaptureFixture) -> None:
    add_events(db, 4)
    caplog.set_level(logging.DEBUG, logger="jobs.reports")

    refresh_reports(db)
    db.events.update_many({}, {"$set": {"receivedAt": clock.now() - timedelta(hours=1)}})
    refresh_reports(db)  # nothing new (past the overlap): a debug line only

    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "jobs.reports"]
    assert lines[0][0] == logging.INFO
    assert lines[0][1].startswith(f"report run {PROJECT}: 4 events processed, 3 days touched, ")
    assert lines[1][0] == logging.DEBUG
