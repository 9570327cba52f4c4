"""APScheduler 3.x: what runs on a schedule, and the lock that keeps it single.

Embedded default: a BackgroundScheduler inside the `make run` process. Production: `make
scheduler` (`flask --app wsgi scheduler`), a BlockingScheduler in its own process. Should two
be started by mistake, every run first takes the job's lock document (jobs.locks), so a job
never runs twice at once; the other scheduler skips that run.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, timedelta
from functools import partial
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from pymongo.database import Database

from core import clock
from core.clients import Clients
from jobs.locks import JobLocks
from jobs.maintenance import rebuild_leaderboards, sweep_outbox, verify_ledger
from jobs.reports import EXPORT_JOB, REPORT_JOB, export_reports, refresh_reports

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 60  # seconds; the sweep is an index lookup when nothing is pending
LEADERBOARD_INTERVAL = 3600  # seconds; boards are live, the rebuild catches up after outages
# A lock outlives any sane run; should its holder die, the job is free again after this.
LOCK_TTL = timedelta(minutes=30)

Job = Callable[[Database[Any]], object]


def scheduler_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_locked(clients: Clients, name: str, job: Job, owner: str) -> bool:
    """Run `job` if this scheduler gets its lock; return whether it ran."""
    db = clients.mongo
    locks = JobLocks(db)
    if not locks.acquire(name, owner, LOCK_TTL, clock.now()):
        log.info("job %s is running elsewhere; skipped", name)
        return False
    try:
        job(db)
    finally:
        locks.release(name, owner)
    return True


def build_scheduler(clients: Clients, *, blocking: bool = False) -> BaseScheduler:
    """A scheduler with Laurel's jobs, not started."""
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
    )
    owner = scheduler_id()
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
