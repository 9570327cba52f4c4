"""Reading the `events` collection for a run, through its owner (rules.stores.eventlog's scan).

Three reads, each bounded by an index of rules.stores.eventlog and streamed in batches:
- `received_since`: which (eventId, day) an increment touches: events received since a time,
  along `project_received`, reading eventId and timestamp only;
- `days_of_project`: the same for every event of a project (a full run), a query the
  `project_event_timestamp` index covers on MongoDB (no document is fetched);
- `events_of_days`: whole days of some eventIds, with EVENT_PROJECTION, as `$or` clauses
  `{project, eventId, timestamp range}` that each are one range of `project_event_timestamp`.

No query sorts: each `events_of_days` answer is made of whole days, which is all that
reports.analytics.partials needs, and unsorted reads stay linear on the in-memory store too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pymongo.database import Database

from reports.analytics.frames import EVENT_PROJECTION
from reports.windows import day_key
from rules.stores.eventlog import EVENT_TIME_INDEX, RECEIVED_INDEX, EventLog

BATCH_SIZE = 5_000
_DAY_PROJECTION = {"_id": 0, "eventId": 1, "timestamp": 1}


@dataclass(frozen=True)
class DayRange:
    """Consecutive days of one eventId, both included."""

    event_id: str
    first: str
    last: str


def day_start(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(), tzinfo=UTC)


class EventSource:
    def __init__(self, db: Database[Any], batch_size: int = BATCH_SIZE) -> None:
        self._events = EventLog(db)
        self._batch_size = batch_size

    def received_since(self, project: str, since: datetime) -> Iterator[tuple[str, str]]:
        """(eventId, day) of every event received at or after `since`."""
        cursor = self._events.scan(
            {"project": project, "receivedAt": {"$gte": since}},
            _DAY_PROJECTION,
            self._batch_size,
            hint=RECEIVED_INDEX,
        )
        for doc in cursor:
            yield str(doc["eventId"]), day_key(doc["timestamp"])

    def days_of_project(self, project: str) -> Iterator[tuple[str, str]]:
        """(eventId, day) of every event of the project."""
        cursor = self._events.scan(
            {"project": project}, _DAY_PROJECTION, self._batch_size, hint=EVENT_TIME_INDEX
        )
        for doc in cursor:
            yield str(doc["eventId"]), day_key(doc["timestamp"])

    def events_of_days(self, project: str, ranges: Sequence[DayRange]) -> Iterator[dict[str, Any]]:
        """Every event of the given days, as EVENT_PROJECTION records, in no particular order."""
        if not ranges:
            return
        bounds = [(r, day_start(r.first), day_start(r.last) + timedelta(days=1)) for r in ranges]
        clauses: list[dict[str, Any]] = [
            {"project": project, "eventId": r.event_id, "timestamp": {"$gte": lo, "$lt": hi}}
            for r, lo, hi in bounds
        ]
        query = clauses[0]
        if len(clauses) > 1:
            # The outer range only repeats what the clauses say: it lets a store without
            # indexes (the in-memory one) drop most events on one comparison.
            query = {
                "project": project,
                "timestamp": {"$gte": min(b[1] for b in bounds), "$lt": max(b[2] for b in bounds)},
                "$or": clauses,
            }
        yield from self._events.scan(query, EVENT_PROJECTION, self._batch_size)

    def events_between(
        self,
        project: str,
        event_ids: Sequence[str],
        lo: datetime,
        hi: datetime,
        with_metadata: bool,
    ) -> Iterator[dict[str, Any]]:
        """{_id, userId, eventId, timestamp[, metadata]} of the events of `event_ids` with
        lo <= timestamp < hi: one range of project_event_timestamp per eventId."""
        projection = {"_id": 1, "userId": 1, "eventId": 1, "timestamp": 1}
        if with_metadata:
            projection["metadata"] = 1
        query = {
            "project": project,
            "eventId": {"$in": sorted(set(event_ids))},
            "timestamp": {"$gte": lo, "$lt": hi},
        }
        yield from self._events.scan(query, projection, self._batch_size)

    def projects(self) -> list[str]:
        """Every project with events (a DISTINCT_SCAN of an index's prefix on MongoDB)."""
        return sorted(self._events.projects())
