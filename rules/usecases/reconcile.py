"""Recovery: finish what crashed requests left pending, and prove balance == Σ ledger.

`sweep_pending` is the outbox sweep: a user document's `pending` records are requests already
applied to the user whose event record, ledger entries, audit entry or idempotency outcome may
not be written yet (rules.usecases.unit_of_work). Finishing them is idempotent, so the sweep
may race a live request harmlessly; the grace period only spares it work a request is about
to do itself.

`verify_balances` compares every user's balance with the sum of their ledger entries. A
mismatch is confirmed on a fresh read of that one user (events keep arriving meanwhile) and
repaired with a version-guarded update that sets the balance to the ledger's sum: the ledger
is the history support staff read, so it is the side that is trusted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database

from rules.effects import Effect
from rules.stores.ledger import Ledger
from rules.stores.users import UserStore
from rules.usecases.unit_of_work import finish_pending

log = logging.getLogger(__name__)

SWEEP_GRACE = timedelta(seconds=30)
CONFIRM_ATTEMPTS = 5
PROGRESS_EVERY = 10_000

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Drift:
    project: str
    user_id: str
    balance: int
    ledger_total: int
    repaired: bool


@dataclass
class Verification:
    users_checked: int = 0
    drifts: list[Drift] = field(default_factory=list)
    failures: int = 0  # users that could not be checked (logged)


def sweep_pending(
    db: Database[Any],
    now: datetime,
    *,
    grace: timedelta = SWEEP_GRACE,
    project: str | None = None,
    effects: Sequence[Effect] = (),
) -> int:
    """Finish the pending records of users holding one since before `now - grace`.

    Returns how many records were finished."""
    users = UserStore(db)
    finished = 0
    for stored in users.with_pending(now - grace, project):
        try:
            finished += finish_pending(db, [stored], effects)
            if not stored.pending:  # a stale marker: the records were finished meanwhile
                users.forget_pending_marker(stored)
        except Exception:
            # One user's broken record must not stall everyone queued behind it.
            log.exception("cannot finish the pending records of user %r", stored.state.user_id)
    return finished


def verify_balances(
    db: Database[Any],
    *,
    project: str | None = None,
    repair: bool = True,
    progress: Progress | None = None,
    effects: Sequence[Effect] = (),
) -> Verification:
    """Check balance == Σ ledger for every user (of `project`, else of every project)."""
    result = Verification()
    projects = [project] if project is not None else UserStore(db).projects()
    for name in projects:
        totals = Ledger(db).totals_by_user(name)
        for user_id, balance in UserStore(db).balances(name):
            result.users_checked += 1
            if progress and result.users_checked % PROGRESS_EVERY == 0:
                progress(f"checked {result.users_checked} users")
            if balance != totals.get(user_id, 0):
                try:
                    drift = _confirm(db, name, user_id, repair, effects)
                except Exception:
                    log.exception("cannot check the balance of user %r in %r", user_id, name)
                    result.failures += 1
                    continue
                if drift is not None:
                    result.drifts.append(drift)
    return result


def _confirm(
    db: Database[Any], project: str, user_id: str, repair: bool, effects: Sequence[Effect]
) -> Drift | None:
    """Re-read one user until a read sees no concurrent change; repair a confirmed drift."""
    users = UserStore(db)
    for _ in range(CONFIRM_ATTEMPTS):
        stored = users.load(project, user_id)
        if stored is None:  # erased meanwhile
            return None
        if finish_pending(db, [stored], effects):
            continue
        total = Ledger(db).balance(project, user_id)
        if stored.state.balance == total:
            return None
        if repair:
            if users.set_balance(stored, total):  # version-guarded: a new event wins
                return Drift(project, user_id, stored.state.balance, total, repaired=True)
            continue
        # The sum may include entries of an event that landed after our read: judge only if
        # the user is still as we read it.
        again = users.load(project, user_id)
        if again is not None and again.version == stored.version and not again.pending:
            return Drift(project, user_id, stored.state.balance, total, repaired=False)
    return None  # too busy to judge now; the next run looks again
