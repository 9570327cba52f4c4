"""Report runs and exports (docs/architecture.md#analytics-and-insights, reports.analytics.runner
and reports.analytics.exports) as jobs.

- `refresh_reports(db)` and `export_reports(db, settings)`: what the scheduler runs, every
  REPORT_INTERVAL seconds and on EXPORT_CRON, through jobs.locks.run_locked (lock names
  REPORT_JOB and EXPORT_JOB). A project that fails is logged and the others go on.
- `run_reports(project)` and `run_exports(project)`: the same for one project, enqueued by
  POST /analytics/reports/run and /analytics/exports/run (jobs.queue). They take the same lock
  as the scheduler; should a run hold it, they raise JobBusy and the queue retries them later.

Both are idempotent: a report run replaces documents and only moves its watermark forward; an
export of the same second rewrites the same files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from pymongo.database import Database

from core import clock
from core.settings import Settings
from jobs.locks import run_locked, scheduler_id
from jobs.runtime import clients as job_clients
from reports.analytics.exports import ExportFile, export_project
from reports.analytics.runner import Progress, RunStats, run_project
from reports.analytics.store import ReportStore
from reports.source import EventSource

log = logging.getLogger(__name__)

REPORT_JOB = "report-run"
EXPORT_JOB = "export-run"


class JobBusy(RuntimeError):
    """The job's lock is held by another run; the queue retries later."""


def log_progress(stats: RunStats) -> None:
    idle = stats.events == 0 and stats.reports_built == 0
    log.log(logging.DEBUG if idle else logging.INFO, "report run %s", stats.line())


def refresh_reports(
    db: Database[Any],
    project: str | None = None,
    *,
    full: bool = False,
    progress: Progress = log_progress,
) -> list[RunStats]:
    """Run the reports of `project`, or of every project with events."""
    projects = [project] if project is not None else EventSource(db).projects()
    runs = []
    for name in projects:
        try:
            runs.append(run_project(db, name, full=full, progress=progress))
        except Exception:
            if project is not None:
                raise
            log.exception("report run of project %r failed; the next run retries it", name)
    return runs


def export_reports(
    db: Database[Any],
    settings: Settings,
    project: str | None = None,
    *,
    now: datetime | None = None,
) -> list[ExportFile]:
    """Export `project`, or every project with analytics, into EXPORT_DIR."""
    projects = [project] if project is not None else ReportStore(db).projects()
    moment = now or clock.now()
    files = []
    for name in projects:
        try:
            written = export_project(
                db,
                name,
                settings.export_dir,
                now=moment,
                retention_days=settings.export_retention,
            )
        except Exception:
            if project is not None:
                raise
            log.exception("export of project %r failed; the next export retries it", name)
            continue
        files.extend(written)
        log.info("exported %s: %s", name, ", ".join(f.name for f in written))
    return files


def run_reports(project: str | None = None) -> int:
    """Queue job: a report run now; returns how many projects ran."""
    return len(_locked(REPORT_JOB, partial(refresh_reports, project=project)))


def run_exports(project: str | None = None) -> int:
    """Queue job: an export now; returns how many files were written."""
    settings = job_clients().settings
    return len(_locked(EXPORT_JOB, partial(export_reports, settings=settings, project=project)))


def _locked(name: str, job: Callable[[Database[Any]], list[Any]]) -> list[Any]:
    done: list[list[Any]] = []
    if not run_locked(job_clients(), name, lambda db: done.append(job(db)), scheduler_id()):
        raise JobBusy(f"job {name} is running elsewhere; retried later")
    return done[0]
