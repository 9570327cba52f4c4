"""APScheduler 3.x: what runs on a schedule, and the lock that keeps it single.

Embedded default: a BackgroundScheduler inside the `make run` process. Production: `make
scheduler` (`flask --app wsgi scheduler`), a BlockingScheduler in its own process. Should two
be started by mistake, every run first takes the job's lock document (jobs.locks.run_locked),
so a job never runs twice at once; the other scheduler skips that run.

Every run is counted in `laurel_jobs_total{job, result}` (succeeded, failed, skipped) and logs
under a request id of its own (or of the request whose queued job called it). On SIGTERM,
`stop` lets the runs in progress finish for a grace period, then releases every lock this
scheduler still holds, so that another scheduler takes the jobs over at once instead of after
LOCK_TTL.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from core.clients import Clients
from jobs.locks import Job, JobLocks, run_locked, scheduler_id
from jobs.maintenance import rebuild_leaderboards, sweep_outbox, verify_ledger
from jobs.reports import EXPORT_JOB, REPORT_JOB, export_reports, refresh_reports

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 60  # seconds; the sweep is an index lookup when nothing is pending
LEADERBOARD_INTERVAL = 3600  # seconds; boards are live, the rebuild catches up after outages
STOP_GRACE = 20.0  # seconds runs in progress get to finish on SIGTERM


def build_scheduler(
    clients: Clients, *, blocking: bool = False, owner: str | None = None
) -> BaseScheduler:
    """A scheduler with Laurel's jobs, not started; its locks are taken as `owner`."""
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
    )
    owner = owner or scheduler_id()
    jobs: dict[str, tuple[Job, int]] = {
        "outbox-sweep": (sweep_outbox, SWEEP_INTERVAL),
        "ledger-verify": (verify_ledger, clients.settings.reconcile_interval),
        "leaderboard-rebuild": (rebuild_leaderboards, LEADERBOARD_INTERVAL),
        REPORT_JOB: (refresh_reports, clients.settings.report_interval),
    }
    for name, (job, seconds) in jobs.items():
        scheduler.add_job(
            run_locked,
            "interval",
            seconds=seconds,
            args=[clients, name, job, owner],
            id=name,
            name=name,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
    scheduler.add_job(
        run_locked,
        CronTrigger.from_crontab(clients.settings.export_cron, timezone=UTC),
        args=[clients, EXPORT_JOB, partial(export_reports, settings=clients.settings), owner],
        id=EXPORT_JOB,
        name=EXPORT_JOB,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
    )
    return scheduler


def stop(
    scheduler: BaseScheduler,
    clients: Clients,
    owner: str,
    grace: float = STOP_GRACE,
    poll: float = 0.2,
) -> int:
    """Stop starting runs, give those in progress `grace` seconds, then release the locks
    `owner` still holds; returns how many it released (the runs cut short: they end with the
    process, and jobs are idempotent, so the next holder of the lock redoes them)."""
    if scheduler.running:
        scheduler.shutdown(wait=False)
    locks = JobLocks(clients.mongo)
    deadline = time.monotonic() + grace
    while locks.held_by(owner) and time.monotonic() < deadline:
        time.sleep(poll)
    released = locks.release_all(owner)
    if released:
        log.warning("released %d lock(s) of runs cut short by the shutdown", released)
    return released
