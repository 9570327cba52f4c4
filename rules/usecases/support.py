"""Support actions on one user (DESIGN §6): adjust points, restore a streak, grant freezes,
set the usergroup.

Each is applied exactly once by the machinery events use (rules.usecases.record): one
version-guarded
save of the user document that also pushes a `pending` record — here without an event record:
the ledger entries (an adjustment's one entry, none for the streak tools), the audit entry
(rules.stores.audit), the `points.adjusted` notification when a webhook subscribes to it, and the
idempotency key with the response to replay — then `finish_record` writes them, runs the
effects and pulls the record. A crash after the save leaves the record for the user's next
request or the outbox sweep to finish; a lost race re-reads the user and decides again.

Idempotency, as for events: a completed key replays its response; the key is bound to the
request only once the request passed validation (unknown user → UserNotFound, unknown streak →
DefinitionNotFound, balance too low → InsufficientBalance store nothing, so a corrected retry
may reuse the key), and checked again after each load of the user.

Decisions:

- `actor` is the token's `sub`, recorded on the ledger entry and the audit entry.
- An adjustment changes the balance only. `lifetime` counts points earned through rules
  (levels follow it), so a bonus granted by hand does not level a user up, and a correction
  downwards does not take a level away. Leaderboards rank points earned, so they ignore
  adjustments too (rules.usecases.leaderboards). The balance never goes below 0.
- The streak tools change no balance: their audit entry is the record of who did what.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import PyMongoError

from rules.engine import streak_tools
from rules.engine.definitions import StreakRule
from rules.engine.evaluation import LedgerLine
from rules.engine.periods import zone
from rules.engine.state import UserState
from rules.errors import InsufficientBalance, RulesError, UpdateContention, UserNotFound
from rules.stores.audit import audit_entry, write_pending_audit
from rules.stores.definitions import DefinitionStore
from rules.stores.idempotency import IdempotencyKey, IdempotencyStore
from rules.stores.ledger import Ledger
from rules.stores.outbox import adjustment_notification
from rules.stores.users import StoredUser, UserStore
from rules.usecases.catalog import CatalogCache, load_catalog
from rules.usecases.record import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    MAX_ATTEMPTS,
    Effect,
    finish_pending,
    finish_record,
)

log = logging.getLogger(__name__)

ADJUSTMENT_SOURCE = "adjustment"
ADJUSTED = "points.adjusted"


@dataclass(frozen=True)
class Applied:
    """The response document of a support action (BSON-clean: an idempotent replay answers
    with it as stored)."""

    result: dict[str, Any]
    replayed: bool = False  # an earlier request with the same idempotency key applied it


@dataclass(frozen=True)
class _Step:
    """What an action does to the user it loaded."""

    state: UserState
    result: dict[str, Any]
    audit: dict[str, Any]
    ledger: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)


# Decides the action for a freshly loaded user and a new record id; raises a RulesError when
# the action is refused.
_Plan = Callable[[StoredUser, ObjectId], _Step]


def adjust_points(
    db: Database[Any],
    project: str,
    user_id: str,
    *,
    delta: int,
    reason: str,
    actor: str | None,
    now: datetime,
    idempotency: IdempotencyKey | None = None,
    effects: Sequence[Effect] = (),
    catalogs: CatalogCache | None = None,
) -> Applied:
    """Add `delta` (negative to take points away) to the user's balance, with a ledger entry
    of source "adjustment" recording `reason` and `actor`.

    Raises UserNotFound, InsufficientBalance (the balance would go below 0),
    IdempotencyConflict or UpdateContention; nothing is stored when one is raised."""
    catalog = catalogs.get(db, project) if catalogs is not None else load_catalog(db, project)
    notify = ADJUSTED in catalog.webhook_events

    def plan(stored: StoredUser, record_id: ObjectId) -> _Step:
        before = stored.state
        balance = before.balance + delta
        if balance < 0:
            raise InsufficientBalance(
                f"delta: would take the balance ({before.balance}) below 0",
                {"delta": [f"would take the balance ({before.balance}) below 0"]},
            )
        ledger = Ledger.entries(
            record_id,
            project,
            user_id,
            None,
            [LedgerLine(delta, ADJUSTMENT_SOURCE, reason)],
            now,
            actor=actor,
        )
        result = {
            "userId": user_id,
            "entryId": ledger[0]["_id"],
            "delta": delta,
            "reason": reason,
            "actor": actor,
            "balance": balance,
            "lifetime": before.lifetime,
            "createdAt": now,
        }
        audit = audit_entry(
            record_id,
            project,
            user_id,
            ADJUSTED,
            actor,
            now,
            details={"delta": delta, "reason": reason, "entryId": ledger[0]["_id"]},
            before={"balance": before.balance},
            after={"balance": balance},
        )
        notifications = (
            [
                adjustment_notification(
                    record_id, project, user_id, delta, balance, reason, actor, now
                )
            ]
            if notify
            else []
        )
        return _Step(replace(before, balance=balance), result, audit, ledger, notifications)

    return _apply(db, project, user_id, plan, now=now, idempotency=idempotency, effects=effects)


def restore_streak(
    db: Database[Any],
    project: str,
    user_id: str,
    streak_id: str,
    *,
    count: int,
    actor: str | None,
    now: datetime,
    idempotency: IdempotencyKey | None = None,
    effects: Sequence[Effect] = (),
) -> Applied:
    """Set the user's streak to `count`, alive (rules.engine.streak_tools.restore).

    Raises UserNotFound, DefinitionNotFound (no such streak), IdempotencyConflict or
    UpdateContention."""
    rule = _streak_rule(db, project, streak_id)

    def change(state: UserState) -> UserState:
        current = state.streaks.get(streak_id)
        where = zone(state.timezone or rule.timezone)
        restored = streak_tools.restore(rule, current, count, now, where)
        return replace(state, streaks={**state.streaks, streak_id: restored})

    plan = _streak_plan(project, user_id, streak_id, "streak.restored", change, actor, now, count)
    return _apply(db, project, user_id, plan, now=now, idempotency=idempotency, effects=effects)


def grant_streak_freezes(
    db: Database[Any],
    project: str,
    user_id: str,
    streak_id: str,
    *,
    count: int,
    actor: str | None,
    now: datetime,
    idempotency: IdempotencyKey | None = None,
    effects: Sequence[Effect] = (),
) -> Applied:
    """Give the user `count` more freezes of the streak (rules.engine.streak_tools.grant_freezes).

    Raises UserNotFound, DefinitionNotFound (no such streak), IdempotencyConflict or
    UpdateContention."""
    rule = _streak_rule(db, project, streak_id)

    def change(state: UserState) -> UserState:
        granted = streak_tools.grant_freezes(rule, state.streaks.get(streak_id), count)
        return replace(state, streaks={**state.streaks, streak_id: granted})

    plan = _streak_plan(
        project, user_id, streak_id, "streak.freezes_granted", change, actor, now, count
    )
    return _apply(db, project, user_id, plan, now=now, idempotency=idempotency, effects=effects)


def set_usergroup(
    db: Database[Any],
    project: str,
    user_id: str,
    *,
    usergroup: str | None,
    actor: str | None,
    now: datetime,
    effects: Sequence[Effect] = (),
) -> Applied:
    """Set (None: clear) the user's usergroup, which picks their groupRewards multiplier.

    The way to set it when the project trusts no event with it (rules.stores.project_settings).
    Setting the value it has is a no-op that still answers. Raises UserNotFound or
    UpdateContention."""

    def plan(stored: StoredUser, record_id: ObjectId) -> _Step:
        before = stored.state.usergroup
        result = {
            "userId": user_id,
            "usergroup": usergroup,
            "previous": before,
            "actor": actor,
            "at": now,
        }
        audit = audit_entry(
            record_id,
            project,
            user_id,
            "usergroup.changed",
            actor,
            now,
            details={"usergroup": usergroup},
            before={"usergroup": before},
            after={"usergroup": usergroup},
        )
        return _Step(replace(stored.state, usergroup=usergroup), result, audit)

    return _apply(db, project, user_id, plan, now=now, idempotency=None, effects=effects)


def _streak_rule(db: Database[Any], project: str, streak_id: str) -> StreakRule:
    """The streak's definition, active or not (raises DefinitionNotFound)."""
    return StreakRule.from_document(DefinitionStore(db).streaks.get(project, streak_id))


def _streak_plan(
    project: str,
    user_id: str,
    streak_id: str,
    action: str,
    change: Callable[[UserState], UserState],
    actor: str | None,
    now: datetime,
    count: int,
) -> _Plan:
    def plan(stored: StoredUser, record_id: ObjectId) -> _Step:
        state = change(stored.state)
        before = _counts(streak_tools.Counts.of(stored.state.streaks.get(streak_id)))
        after = _counts(streak_tools.Counts.of(state.streaks[streak_id]))
        result = {
            "userId": user_id,
            "streakId": streak_id,
            **after,
            "previous": before,
            "actor": actor,
            "at": now,
        }
        audit = audit_entry(
            record_id,
            project,
            user_id,
            action,
            actor,
            now,
            details={"streakId": streak_id, "count": count},
            before=before,
            after=after,
        )
        return _Step(state, result, audit)

    return plan


def _counts(counts: streak_tools.Counts) -> dict[str, Any]:
    return {
        "currentCount": counts.current_count,
        "longestCount": counts.longest_count,
        "freezes": counts.freezes,
        "lastUpdate": counts.last_update,
    }


def _apply(
    db: Database[Any],
    project: str,
    user_id: str,
    plan: _Plan,
    *,
    now: datetime,
    idempotency: IdempotencyKey | None,
    effects: Sequence[Effect],
) -> Applied:
    keys = IdempotencyStore(db)
    users = UserStore(db)
    if idempotency is not None:
        earlier = keys.stored_outcome(project, idempotency)
        if earlier is not None:
            return Applied(earlier, replayed=True)
    # Judge the request on the user as they are once earlier records are finished (one may be
    # this very request, applied before a crash): refused requests leave no key behind.
    current = _load(users, project, user_id)
    if finish_pending(db, current, effects):
        current = _load(users, project, user_id)
    if idempotency is not None:
        earlier = keys.stored_outcome(project, idempotency)
        if earlier is not None:
            return Applied(earlier, replayed=True)
    plan(current, ObjectId())
    if idempotency is not None and not keys.bind(project, idempotency, now):
        earlier = keys.stored_outcome(project, idempotency)
        if earlier is not None:
            return Applied(earlier, replayed=True)

    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))
        stored = _load(users, project, user_id)
        finish_pending(db, stored, effects)
        if idempotency is not None:
            # As in rules.usecases.record: an application of this key before the load is complete by
            # now, and one after it changes the version, so our save fails.
            earlier = keys.stored_outcome(project, idempotency)
            if earlier is not None:
                return Applied(earlier, replayed=True)
        record_id = ObjectId()
        try:
            step = plan(stored, record_id)
        except RulesError:
            # Refused after all (another change landed since the check): free the key, so
            # that a corrected retry may use it.
            if idempotency is not None:
                keys.release(project, idempotency)
            raise
        pending: dict[str, Any] = {"id": record_id, "ledger": step.ledger, "audit": step.audit}
        if step.notifications:
            pending["notifications"] = step.notifications
        if idempotency is not None:
            pending["idempotency"] = {
                "key": idempotency.key,
                "fingerprint": idempotency.fingerprint,
                "outcome": step.result,
            }
        if users.save(project, stored, step.state, pending, now):
            try:
                write_pending_audit(db, pending)
                finish_record(db, project, user_id, pending, effects)
            except PyMongoError:
                # Applied: the record finishes on the user's next load or the outbox sweep.
                log.exception("support action %s applied; its records finish later", record_id)
            return Applied(step.result)
    raise UpdateContention(f"user {user_id!r} is changing too fast; retry the request")


def _load(users: UserStore, project: str, user_id: str) -> StoredUser:
    stored = users.load(project, user_id)
    if stored is None:
        raise UserNotFound(
            f"no user {user_id!r} in this project", {"userId": ["no such user in this project"]}
        )
    return stored
