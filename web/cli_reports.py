"""`flask --app wsgi reports run|export`: analytics by hand, with a progress line.

Both take the scheduler's lock (jobs.locks.run_locked), so they never run beside a
scheduled run of the same job; they exit 1 when it is held.
"""

from __future__ import annotations

import time
from typing import Any

import click
from flask.cli import AppGroup
from pymongo.database import Database

from jobs.locks import run_locked, scheduler_id
from jobs.reports import EXPORT_JOB, REPORT_JOB, export_reports, refresh_reports
from reports.analytics.runner import RunStats
from web.context import app_state

reports_cli = AppGroup("reports", help="Run analytics reports and exports now.")


@reports_cli.command("run")
@click.option("--project", default=None, help="Only this project (default: every project).")
@click.option(
    "--full",
    is_flag=True,
    help="Recompute every day, not only those touched since the last run.",
)
def run_reports_now(project: str | None, full: bool) -> None:
    """Bring day partials and reports up to date (what the scheduler does every
    REPORT_INTERVAL seconds). Prints a progress line on long runs: events processed, days
    touched, elapsed."""
    started = time.monotonic()
    runs: list[RunStats] = []

    def progress(stats: RunStats) -> None:
        click.echo(f"  {stats.line()}", err=True)

    def job(db: Database[Any]) -> None:
        runs.extend(refresh_reports(db, project, full=full, progress=progress))

    if not run_locked(app_state().clients, REPORT_JOB, job, f"cli:{scheduler_id()}"):
        raise click.ClickException("a report run is in progress elsewhere; try again later")
    for stats in runs:
        kind = "full" if stats.full else f"{stats.new_events:,} new events"
        click.echo(
            f"{stats.project}: {kind}, {stats.events:,} events processed, "
            f"{stats.days_touched:,} days touched, {stats.reports_built} reports"
        )
    click.echo(f"{len(runs)} project(s) in {time.monotonic() - started:.1f}s")


@reports_cli.command("export")
@click.option("--project", default=None, help="Only this project (default: every project).")
def export_now(project: str | None) -> None:
    """Write the exports now (what the scheduler does on EXPORT_CRON) and print their paths."""
    state = app_state()
    written = []

    def job(db: Database[Any]) -> None:
        written.extend(export_reports(db, state.settings, project))

    if not run_locked(state.clients, EXPORT_JOB, job, f"cli:{scheduler_id()}"):
        raise click.ClickException("an export is in progress elsewhere; try again later")
    for export in written:
        click.echo(f"{export.path} ({export.size:,} bytes)")
    click.echo(f"{len(written)} file(s) written")
