"""Scheduled upkeep of the points ledger (rules.usecases.reconcile), with a log line per run."""

from __future__ import annotations

import logging
import time
from typing import Any

from pymongo.database import Database

from core import clock
from jobs.effects import effects_for
from jobs.runtime import clients as job_clients
from jobs.webhooks import sweep_notifications
from rules.stores.ledger import Ledger
from rules.usecases.leaderboards import rebuild
from rules.usecases.reconcile import sweep_pending, verify_balances

log = logging.getLogger(__name__)


def sweep_outbox(db: Database[Any]) -> int:
    """Finish events whose request died after applying them, then dispatch the webhook
    notifications that could not be queued (Redis was down); returns how many records."""
    finished = sweep_pending(db, clock.now(), effects=effects_for(job_clients()))
    if finished:
        log.warning("outbox sweep finished %d half-done event record(s)", finished)
    dispatched = sweep_notifications(job_clients())
    if dispatched:
        log.warning("outbox sweep dispatched %d late webhook notification(s)", dispatched)
    return finished


def rebuild_leaderboards(db: Database[Any]) -> int:
    """Recompute every project's current leaderboards from the ledger; returns how many
    projects (rules.usecases.leaderboards: catches up what a Redis outage kept off the boards)."""
    clients = job_clients()
    projects = Ledger(db).projects()
    for project in projects:
        try:
            rebuild(db, clients.boards, project, clock.now(), effects_for(clients))
        except Exception:
            log.exception("cannot rebuild the leaderboards of project %r", project)
    return len(projects)


def verify_ledger(db: Database[Any]) -> int:
    """Check (and repair) balance == Σ ledger for every user; returns how many drifted."""
    started = time.monotonic()
    checked = verify_balances(
        db,
        effects=effects_for(job_clients()),
        progress=lambda line: log.info("ledger check: %s, %.1fs", line, time.monotonic() - started),
    )
    for drift in checked.drifts:
        log.error(
            "ledger drift repaired: project=%s user=%s balance=%d ledger=%d",
            drift.project,
            drift.user_id,
            drift.balance,
            drift.ledger_total,
        )
    log.info(
        "ledger check: %d user(s), %d drifted, %.1fs",
        checked.users_checked,
        len(checked.drifts),
        time.monotonic() - started,
    )
    return len(checked.drifts)
