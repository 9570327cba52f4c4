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
from rules.stores.storage import insert_missing, newest_first

HISTORY_INDEX = "project_user_timestamp"  # a user's events, newest first (rules.usecases.history)
# The report runs' reads (reports.source): events of eventIds over a time range, and events
# received since a time.
EVENT_TIME_INDEX = "project_event_timestamp"
RECEIVED_INDEX = "project_received"


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
                    name=EVENT_TIME_INDEX,
                ),
                IndexModel(
                    [("project", ASCENDING), ("receivedAt", ASCENDING)], name=RECEIVED_INDEX
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
        """A user's events newest first, `timestamp` within `time_range`, along HISTORY_INDEX
        (rules.stores.storage.newest_first)."""
        return newest_first(
            self._events, project, user_id, "timestamp", time_range, event_id, HISTORY_INDEX
        )

    def erase_user(self, project: str, user_id: str) -> int:
        """Delete the user's events (rules.usecases.erasure); how many there were."""
        return self._events.delete_many({"project": project, "userId": user_id}).deleted_count

    def of_user(self, project: str, user_id: str, projection: Mapping[str, Any]) -> Cursor[Any]:
        """Every event of the user, `projection`'s fields only, in no order (erasure's scan)."""
        return self._events.find({"project": project, "userId": user_id}, projection)

    def scan(
        self,
        query: Mapping[str, Any],
        projection: Mapping[str, Any],
        batch_size: int,
        hint: str | None = None,
    ) -> Cursor[Any]:
        """The events matching `query`, `projection`'s fields only, in no order, fetched
        `batch_size` at a time, along the index named `hint` when given (the report runs'
        reads, reports.source: their queries follow RECEIVED_INDEX or EVENT_TIME_INDEX)."""
        cursor = self._events.find(query, projection)
        if hint is not None:
            cursor = cursor.hint(hint)
        return cursor.batch_size(batch_size)

    def projects(self) -> list[str]:
        """Every project with events, in no order (a DISTINCT_SCAN of an index's prefix)."""
        return [str(project) for project in self._events.distinct("project")]
