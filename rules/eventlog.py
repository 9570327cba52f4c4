"""Owner of the `events` collection: every accepted event with its metadata and outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

from rules.engine import Event, Outcome
from rules.outcomes import outcome_to_document
from rules.storage import insert_missing


class EventLog:
    def __init__(self, db: Database[Any]) -> None:
        self._events = db["events"]

    def ensure_indexes(self) -> None:
        self._events.create_indexes(
            [
                IndexModel(
                    [
                        ("project", ASCENDING),
                        ("userId", ASCENDING),
                        ("timestamp", DESCENDING),
                        ("_id", DESCENDING),
                    ],
                    name="project_user_timestamp",
                ),
                IndexModel(
                    [("project", ASCENDING), ("eventId", ASCENDING), ("timestamp", ASCENDING)],
                    name="project_event_timestamp",
                ),
                IndexModel(
                    [("project", ASCENDING), ("receivedAt", ASCENDING)], name="project_received"
                ),
            ]
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
        insert_missing(self._events, [record])
