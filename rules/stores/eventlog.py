"""Owner of the `events` collection: every accepted event with its metadata and outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.cursor import Cursor
from pymongo.database import Database

from core.indexes import sync_indexes
from rules.engine.evaluation import Event, Outcome
from rules.engine.outcomes import outcome_to_document
from rules.stores.storage import insert_missing

HISTORY_INDEX = "project_user_timestamp"  # a user's events, newest first (rules.usecases.history)


class EventLog:
    def __init__(self, db: Database[Any]) -> None:
        self._events = db["events"]

    def ensure_indexes(self) -> None:
        sync_indexes(
            self._events,
            [
                IndexModel(
                    [
                        ("project", ASCENDING),
                        ("userId", ASCENDING),
                        ("timestamp", DESCENDING),
                        ("_id", DESCENDING),
                    ],
                    name=HISTORY_INDEX,
                ),
                IndexModel(
                    [("project", ASCENDING), ("eventId", ASCENDING), ("timestamp", ASCENDING)],
                    name="project_event_timestamp",
                ),
                IndexModel(
                    [("project", ASCENDING), ("receivedAt", ASCENDING)], name="project_received"
                ),
            ],
        )

    @staticmethod
    def record(
        record_id: Any, project: str, event: Event, outcome: Outcome, received_at: datetime
    ) -> dict[str, Any]:
        return {
            "_id": record_id,
            "project": project,
            "userId": event.user_id,
            "eventId": event.event_id,
            "timestamp": event.timestamp,
            "receivedAt": received_at,
            "metadata": dict(event.metadata),
            "outcome": outcome_to_document(outcome),
        }

    def insert(self, record: dict[str, Any]) -> None:
        self.insert_many([record])

    def insert_many(self, records: Sequence[dict[str, Any]]) -> None:
        """Records not stored yet, in one write (a batch's)."""
        insert_missing(self._events, records)

    def newest_for_user(
        self,
        project: str,
        user_id: str,
        time_range: Mapping[str, datetime],
        event_id: str | None = None,
    ) -> Cursor[Any]:
        """A user's events newest first, `timestamp` within `time_range` (a `$lte`/`$gte`
        filter), along HISTORY_INDEX (an eventId is filtered on the documents it finds); the
        caller reads as many as it needs."""
        query: dict[str, Any] = {"project": project, "userId": user_id}
        if time_range:
            query["timestamp"] = dict(time_range)
        if event_id is not None:
            query["eventId"] = event_id
        return (
            self._events.find(query)
            .sort([("timestamp", DESCENDING), ("_id", DESCENDING)])
            .hint(HISTORY_INDEX)
        )
