"""Commands for people at a terminal: `flask --app wsgi <group> <command> --help`."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from werkzeug.serving import run_simple

from core import clock, interpreter
from jobs.effects import effects_for
from jobs.locks import scheduler_id
from jobs.scheduler import build_scheduler
from jobs.scheduler import stop as stop_scheduler
from jobs.worker import serve_metrics
from reports.indexes import ensure_indexes as ensure_report_indexes
from rules.stores.indexes import ensure_indexes
from rules.usecases.reconcile import SWEEP_GRACE, sweep_pending, verify_balances
from web.auth import SCOPES, mint_token
from web.cli_reports import reports_cli
from web.cli_support import register_support_cli
from web.context import app_state
from web.demo import banner, seed_demo
from web.requestlimits import EnvelopeRequestHandler

token_cli = AppGroup("token", help="Mint API tokens (JWT, HS256).")
db_cli = AppGroup("db", help="Manage the MongoDB database.")
ledger_cli = AppGroup("ledger", help="Check and repair points balances against the ledger.")


@token_cli.command("create")
@click.option("--project", required=True, help="Tenant id the token acts for, e.g. demo.")
@click.option(
    "--scope",
    required=True,
    help=f'Space-separated scopes, e.g. "events:write". Known: {" ".join(SCOPES)}.',
)
@click.option(
    "--sub",
    default=None,
    help="Who uses it (an app or a staff member); recorded on manual actions.",
)
@click.option(
    "--ttl",
    type=click.IntRange(min=1),
    default=3600,
    show_default=True,
    help="Lifetime in seconds.",
)
def create_token(project: str, scope: str, sub: str | None, ttl: int) -> None:
    """Print a signed token, alone on stdout."""
    try:
        settings = app_state().settings
        token = mint_token(
            settings.signing_keys(),
            project,
            scope.split(),
            subject=sub,
            ttl=ttl,
            max_age=settings.jwt_max_age,
        )
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    click.echo(token)


@db_cli.command("init")
def init_db() -> None:
    """Create every collection's indexes (safe to run again)."""
    ensure_report_indexes(app_state().clients.mongo)
    collections = ensure_indexes(app_state().clients.mongo)
    click.echo(f"indexes ensured on: {', '.join(collections)}")


@ledger_cli.command("reconcile")
@click.option("--project", default=None, help="Only this project (default: every project).")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Report drift without repairing it (exit status 1 when there is some).",
)
@click.option(
    "--grace",
    type=click.IntRange(min=0),
    default=int(SWEEP_GRACE.total_seconds()),
    show_default=True,
    help="Leave records younger than this many seconds to the requests writing them.",
)
def reconcile_ledger(project: str | None, dry_run: bool, grace: int) -> None:
    """Finish half-done events, then check every balance equals the sum of its ledger.

    A drifted balance is set to the ledger's sum (the ledger is the history) unless
    --dry-run is given. Safe to run while the API serves traffic; also scheduled. Exits 1
    when a drift was left unrepaired or a user could not be checked.
    """
    db = app_state().clients.mongo
    started = time.monotonic()
    effects = effects_for(app_state().clients)
    finished = sweep_pending(
        db, clock.now(), grace=timedelta(seconds=grace), project=project, effects=effects
    )
    click.echo(f"finished {finished} pending event record(s)")
    checked = verify_balances(
        db,
        effects=effects,
        project=project,
        repair=not dry_run,
        progress=lambda line: click.echo(f"  {line}, {time.monotonic() - started:.1f}s", err=True),
    )
    for drift in checked.drifts:
        action = "repaired" if drift.repaired else "not repaired"
        click.echo(
            f"drift: project={drift.project} user={drift.user_id} balance={drift.balance} "
            f"ledger={drift.ledger_total} ({action})"
        )
    click.echo(
        f"checked {checked.users_checked} user(s) in {time.monotonic() - started:.1f}s: "
        f"{len(checked.drifts)} drifted"
        + (f", {checked.failures} could not be checked (see the log)" if checked.failures else "")
    )
    if checked.failures or any(not drift.repaired for drift in checked.drifts):
        raise SystemExit(1)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Defaults to PORT (8000).")
def serve_demo(host: str, port: int | None) -> None:
    """Seed the demo project, print tokens and a curl, and serve (the `make run` target)."""
    state = app_state()
    port = port or state.settings.port
    seed_demo(state.clients.mongo)
    click.echo(banner(state.settings, f"http://{host}:{port}"))
    build_scheduler(state.clients).start()  # the embedded default's scheduled jobs
    interpreter.settle()  # the app is loaded and seeded: what exists now stays
    # One process on purpose: in the embedded default the data lives in this process.
    # (Flask's app.run refuses to run under the flask CLI, so call werkzeug directly.)
    run_simple(
        host,
        port,
        current_app._get_current_object(),  # type: ignore[attr-defined]  # a LocalProxy's
        threaded=True,
        use_reloader=False,
        request_handler=EnvelopeRequestHandler,  # its own 414/431 in the error envelope too
    )


@click.command("scheduler")
@with_appcontext
def run_scheduler() -> None:
    """Run the scheduled jobs (outbox sweep, ledger check) until stopped (`make scheduler`).

    Run one per deployment; a lock document keeps a second one from running a job twice.
    """
    state = app_state()
    owner = scheduler_id()
    scheduler = build_scheduler(state.clients, blocking=True, owner=owner)
    if state.settings.metrics_port is not None:
        serve_metrics(state.settings.metrics_port)
    stopping = threading.Event()

    def on_sigterm(*_: object) -> None:
        stopping.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        else:  # not started yet, or starting: leave start() before it blocks for ever
            raise KeyboardInterrupt

    # SIGTERM (docker stop, systemd) ends the loop like Ctrl+C; `stop` then releases the locks.
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        for job in scheduler.get_jobs():
            click.echo(f"scheduled {job.id}: {job.trigger}")
        if not stopping.is_set():
            scheduler.start()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    if stop_scheduler(scheduler, state.clients, owner):
        os._exit(0)  # runs cut short still hold threads the interpreter would wait for


def register_cli(app: Flask) -> None:
    app.cli.add_command(token_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(serve_demo)
    app.cli.add_command(run_scheduler)
    register_support_cli(app)
    app.cli.add_command(reports_cli)
