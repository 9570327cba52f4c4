"""Support actions on one user: adjust points, restore a streak, grant freezes, set the
usergroup.

Each is applied exactly once by the unit of work events use (rules.usecases.unit_of_work, see
docs/architecture.md): one version-guarded save of the user document that also pushes a
`pending` record — here without an event record: the ledger entries (an adjustment's one
entry, none for the streak tools), the audit entry (rules.stores.audit) and the
`points.adjusted` notification when a webhook subscribes to it — then the record is finished.
The response document is what an idempotency key stores and replays as it is. A request
refused (unknown user → UserNotFound, unknown streak → DefinitionNotFound, balance too low →
InsufficientBalance) stores nothing, so a corrected retry may reuse its key.

Decisions:

- `actor` is the token's `sub`, recorded on the ledger entry and the audit entry.
- An adjustment changes the balance only. `lifetime` counts points earned through rules
  (levels follow it), so a bonus granted by hand does not level a user up, and a correction
  downwards does not take a level away. Leaderboards rank points earned, so they ignore
  adjustments too (rules.usecases.leaderboards). The balance never goes below 0.
- The streak tools change no balance: their audit entry is the record of who did what.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from rules.effects import Effect
from rules.engine import streak_tools
from rules.engine.definitions import StreakRule
from rules.engine.evaluation import LedgerLine
from rules.engine.periods import zone
from rules.engine.state import UserState
from rules.errors import InsufficientBalance, UserNotFound
from rules.stores.audit import audit_entry
from rules.stores.definitions import DefinitionStore
from rules.stores.idempotency import IdempotencyKey
from rules.stores.ledger import Ledger
from rules.stores.outbox import adjustment_notification
from rules.stores.users import StoredUser
from rules.usecases.catalog import CatalogCache, load_catalog
from rules.usecases.unit_of_work import Decision, apply_once

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
    change = _Adjustment(
        project, user_id, delta, reason, actor, now, ADJUSTED in catalog.webhook_events
    )
    return _apply(
        db, project, user_id, change.plan, now=now, idempotency=idempotency, effects=effects
    )


@dataclass(frozen=True)
class _Adjustment:
    """An adjustment of a user's balance, to plan on the user as loaded."""

    project: str
    user_id: str
    delta: int
    reason: str
    actor: str | None
    now: datetime
    notify: bool  # a webhook subscribes to ADJUSTED

    def plan(self, stored: StoredUser, record_id: ObjectId) -> _Step:
        before = stored.state
        balance = before.balance + self.delta
        if balance < 0:
            raise InsufficientBalance(
                f"delta: would take the balance ({before.balance}) below 0",
                {"delta": [f"would take the balance ({before.balance}) below 0"]},
            )
        line = LedgerLine(self.delta, ADJUSTMENT_SOURCE, self.reason)
        ledger = Ledger.entries(
            record_id, self.project, self.user_id, None, [line], self.now, actor=self.actor
        )
        entry_id = ledger[0]["_id"]
        result = {
            "userId": self.user_id,
            "entryId": entry_id,
            "delta": self.delta,
            "reason": self.reason,
            "actor": self.actor,
            "balance": balance,
            "lifetime": before.lifetime,
            "createdAt": self.now,
        }
        audit = audit_entry(
            record_id,
            self.project,
            self.user_id,
            ADJUSTED,
            self.actor,
            self.now,
            details={"delta": self.delta, "reason": self.reason, "entryId": entry_id},
            before={"balance": before.balance},
            after={"balance": balance},
        )
        return _Step(
            replace(before, balance=balance),
            result,
            audit,
            ledger,
            self._notifications(record_id, balance),
        )

    def _notifications(self, record_id: ObjectId, balance: int) -> list[dict[str, Any]]:
        if not self.notify:
            return []
        return [
            adjustment_notification(
                record_id,
                self.project,
                self.user_id,
                self.delta,
                balance,
                self.reason,
                self.actor,
                self.now,
            )
        ]


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
    """Apply the planned action through the unit of work; a replay answers the stored result."""

    def decide(stored: StoredUser | None) -> Decision[dict[str, Any]]:
        if stored is None:
            raise UserNotFound(
                f"no user {user_id!r} in this project",
                {"userId": ["no such user in this project"]},
            )
        record_id = ObjectId()
        step = plan(stored, record_id)
        record: dict[str, Any] = {"id": record_id, "ledger": step.ledger, "audit": step.audit}
        if step.notifications:
            record["notifications"] = step.notifications
        return Decision(step.state, [record], step.result, response=step.result)

    applied = apply_once(
        db, project, user_id, decide, dict, now=now, idempotency=idempotency, effects=effects
    )
    return Applied(applied.result, replayed=applied.replayed)
