"""Owner of the `audit` collection: who did what to a user by hand, and what it changed.

Support actions (rules.usecases.support: points adjustments, streak restores, freeze grants) carry
their audit entry in the user's pending record, written by the same conditional update that applies
the action; whoever finishes the record writes it (rules.usecases.unit_of_work.finish_records:
the action's own request, or the user's next request or the sweep should it die). The entry's
`_id` is the record's, so writing it twice is harmless.

An entry: `{_id, project, userId, action, actor, at, details, before, after}` — `action` one
of ACTIONS, `actor` the token's `sub`, `before`/`after` the fields the action changed.
Erasing a user (rules.usecases.erasure) removes their entries too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

from core.indexes import sync_indexes
from rules.stores.storage import insert_missing

ACTIONS = ("points.adjusted", "streak.restored", "streak.freezes_granted", "usergroup.changed")


def audit_entry(
    record_id: Any,
    project: str,
    user_id: str,
    action: str,
    actor: str | None,
    at: datetime,
    *,
    details: Mapping[str, Any],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> dict[str, Any]:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return {
        "_id": record_id,
        "project": project,
        "userId": user_id,
        "action": action,
        "actor": actor,
        "at": at,
        "details": dict(details),
        "before": dict(before),
        "after": dict(after),
    }


class AuditLog:
    def __init__(self, db: Database[Any]) -> None:
        self._entries = db["audit"]

    def ensure_indexes(self) -> None:
        sync_indexes(
            self._entries,
            [
                IndexModel(
                    [("project", ASCENDING), ("userId", ASCENDING), ("at", DESCENDING)],
                    name="project_user_at",
                )
            ],
        )

    def insert(self, entry: Mapping[str, Any]) -> None:
        self.insert_many([entry])

    def insert_many(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Entries not stored yet, in one write."""
        insert_missing(self._entries, entries)

    def for_user(self, project: str, user_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The user's entries, newest first."""
        cursor = (
            self._entries.find({"project": project, "userId": user_id})
            .sort("at", DESCENDING)
            .limit(limit)
        )
        return [dict(entry) for entry in cursor]

    def erase_user(self, project: str, user_id: str) -> int:
        """Delete the user's entries (rules.usecases.erasure); how many there were."""
        return self._entries.delete_many({"project": project, "userId": user_id}).deleted_count
