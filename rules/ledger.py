"""Owner of the `ledger` collection: one entry per change of a user's balance.

For every user, balance == the sum of their entries' `delta` once pending events are finished
(rules.service). Entry ids derive from the event record id, so writing them twice is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

from rules.engine import LedgerLine
from rules.storage import insert_missing


class Ledger:
    def __init__(self, db: Database[Any]) -> None:
        self._entries = db["ledger"]

    def ensure_indexes(self) -> None:
        self._entries.create_indexes(
            [
                IndexModel(
                    [("project", ASCENDING), ("userId", ASCENDING), ("createdAt", DESCENDING)],
                    name="project_user_created",
                ),
            ]
        )

    @staticmethod
    def entries(
        record_id: Any,
        project: str,
        user_id: str,
        event_id: str,
        lines: Iterable[LedgerLine],
        at: datetime,
    ) -> list[dict[str, Any]]:
        return [
            {
                "_id": f"{record_id}:{number}",
                "project": project,
                "userId": user_id,
                "delta": line.delta,
                "source": line.source,
                "reason": line.reason,
                "eventId": event_id,
                "ref": record_id,
                "createdAt": at,
            }
            for number, line in enumerate(lines)
        ]

    def insert(self, entries: Sequence[dict[str, Any]]) -> None:
        insert_missing(self._entries, entries)

    def balance(self, project: str, user_id: str) -> int:
        totals = list(
            self._entries.aggregate(
                [
                    {"$match": {"project": project, "userId": user_id}},
                    {"$group": {"_id": None, "total": {"$sum": "$delta"}}},
                ]
            )
        )
        return int(totals[0]["total"]) if totals else 0

    def totals_by_user(self, project: str) -> dict[str, int]:
        """Σ delta per user of `project` (one pass over the project's entries)."""
        return {
            row["_id"]: int(row["total"])
            for row in self._entries.aggregate(
                [
                    {"$match": {"project": project}},
                    {"$group": {"_id": "$userId", "total": {"$sum": "$delta"}}},
                ]
            )
        }
