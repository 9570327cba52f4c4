"""Owner of the `ledger` collection: one entry per change of a user's balance.

For every user, balance == the sum of their entries' `delta` once pending events are finished
(rules.usecases.unit_of_work). Entry ids derive from the event record id, so writing them twice is
harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.cursor import Cursor
from pymongo.database import Database

from core.indexes import sync_indexes
from rules.engine.evaluation import LedgerLine
from rules.stores.storage import insert_missing, newest_first

HISTORY_INDEX = "project_user_created_id"
# The two whole-project passes (the hourly balance check's Σ delta per user, the leaderboard
# rebuild's earned points per user) read only these fields: along this index they are covered
# scans of index keys, never fetching an entry (reason, ref, actor…). Equality on project,
# then source ($in) and the range on delta (the rebuild counts positive entries of rules).
TOTALS_INDEX = "project_source_delta_user_created"


class Ledger:
    def __init__(self, db: Database[Any]) -> None:
        self._entries = db["ledger"]

    def ensure_indexes(self) -> None:
        sync_indexes(
            self._entries,
            [
                IndexModel(
                    [("project", ASCENDING), ("userId", ASCENDING), ("createdAt", DESCENDING)],
                    name="project_user_created",
                ),
                # A user's history, newest first (rules.usecases.history): `_id` orders the entries
                # of one record, which share their `createdAt`.
                IndexModel(
                    [
                        ("project", ASCENDING),
                        ("userId", ASCENDING),
                        ("createdAt", DESCENDING),
                        ("_id", DESCENDING),
                    ],
                    name=HISTORY_INDEX,
                ),
                IndexModel(
                    [
                        ("project", ASCENDING),
                        ("source", ASCENDING),
                        ("delta", ASCENDING),
                        ("userId", ASCENDING),
                        ("createdAt", ASCENDING),
                    ],
                    name=TOTALS_INDEX,
                ),
            ],
        )

    @staticmethod
    def entries(
        record_id: Any,
        project: str,
        user_id: str,
        event_id: str | None,
        lines: Iterable[LedgerLine],
        at: datetime,
        actor: str | None = None,
    ) -> list[dict[str, Any]]:
        """`actor`: who made a manual change (the token's `sub`); events have none."""
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
                **({"actor": actor} if actor is not None else {}),
            }
            for number, line in enumerate(lines)
        ]

    def insert(self, entries: Sequence[dict[str, Any]]) -> None:
        insert_missing(self._entries, entries)

    def newest_for_user(
        self,
        project: str,
        user_id: str,
        time_range: Mapping[str, datetime],
        event_id: str | None = None,
    ) -> Cursor[Any]:
        """A user's entries newest first, `createdAt` within `time_range`, along HISTORY_INDEX
        (rules.stores.storage.newest_first)."""
        return newest_first(
            self._entries, project, user_id, "createdAt", time_range, event_id, HISTORY_INDEX
        )

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

    def projects(self) -> list[str]:
        return sorted(self._entries.distinct("project"))

    def earned_by_user(
        self, project: str, sources: Sequence[str], windows: Mapping[str, datetime | None]
    ) -> Iterator[tuple[str, dict[str, tuple[int, datetime]]]]:
        """Per user of `project`, for each window (name → start, None for all time): the sum of
        their positive entries of `sources` created since its start, and when the latest was
        created. One pass over the project's entries; windows a user earned nothing in are
        left out."""
        group: dict[str, Any] = {"_id": "$userId"}
        for name, start in windows.items():
            inside: Any = True if start is None else {"$gte": ["$createdAt", start]}
            group[f"{name}_points"] = {"$sum": {"$cond": [inside, "$delta", 0]}}
            group[f"{name}_at"] = {"$max": {"$cond": [inside, "$createdAt", None]}}
        rows = self._entries.aggregate(
            [
                {
                    "$match": {
                        "project": project,
                        "delta": {"$gt": 0},
                        "source": {"$in": list(sources)},
                    }
                },
                {"$group": group},
            ],
            hint=TOTALS_INDEX,
        )
        for row in rows:
            earned = {
                name: (int(row[f"{name}_points"]), row[f"{name}_at"])
                for name in windows
                if row[f"{name}_at"] is not None
            }
            yield row["_id"], earned

    def totals_by_user(self, project: str) -> dict[str, int]:
        """Σ delta per user of `project` (one pass over the project's entries)."""
        return {
            row["_id"]: int(row["total"])
            for row in self._entries.aggregate(
                [
                    {"$match": {"project": project}},
                    {"$group": {"_id": "$userId", "total": {"$sum": "$delta"}}},
                ],
                hint=TOTALS_INDEX,
            )
        }

    def erase_user(self, project: str, user_id: str) -> int:
        """Delete the user's entries (rules.usecases.erasure); how many there were."""
        return self._entries.delete_many({"project": project, "userId": user_id}).deleted_count
