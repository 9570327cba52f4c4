"""Owner of the analytics collections: `report_partials`, `reports` and `report_watermarks`.

- `report_partials`: one day partial (reports.analytics.partials) per (project, eventId, UTC day),
  `_id` `"{project}/{eventId}/{day}"` (ids never hold '/'), plus `runId` and `updatedAt` of the run
  that last recomputed it. A recomputed day replaces its document whole.
- `reports`: the metadata report (reports.analytics.merge.window_report) of each (project, eventId,
  window), `_id` `"{project}/{eventId}/{window}"`, plus `window`, `runId` and `generatedAt`.
  Its `to` is the day it was built for: a report built on an earlier day is stale (a 7d
  window slides every day) and is rebuilt from the partials, by the next run or on read.
- `report_watermarks`: per project (`_id`), the `receivedAt` time up to which events have been
  aggregated (reports.analytics.runner), with the summary of the run that set it.

Every document is BSON-clean (the partials and reports are, by construction of the pure layer;
this module adds strings and datetimes only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database

from core.indexes import sync_indexes
from reports.windows import WINDOWS

Pair = tuple[str, str]  # eventId, day

# GET /analytics/events needs the totals of a partial, not its fields and segments.
SUMMARY_PROJECTION = {
    "_id": 0,
    "eventId": 1,
    "day": 1,
    "count": 1,
    "users": 1,
    "pointsAwarded": 1,
    "totalPointsAwarded": 1,
}
# Exports read every day of a project; user ids are the bulky part and are not exported.
EXPORT_PROJECTION = {"_id": 0, "users.ids": 0, "users.sketch": 0, "segments": 0}
_STORE_FIELDS = ("_id", "runId", "updatedAt", "generatedAt", "window")


def partial_id(project: str, event_id: str, day: str) -> str:
    return f"{project}/{event_id}/{day}"


def report_id(project: str, event_id: str, window: str) -> str:
    return f"{project}/{event_id}/{window}"


def without_store_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored partial or report as the pure layer made it."""
    return {k: v for k, v in doc.items() if k not in _STORE_FIELDS}


class ReportStore:
    def __init__(self, db: Database[Any]) -> None:
        self.database = db
        self._partials = db["report_partials"]
        self._reports = db["reports"]
        self._watermarks = db["report_watermarks"]

    def ensure_indexes(self) -> None:
        sync_indexes(
            self._partials,
            [
                IndexModel(
                    [("project", ASCENDING), ("eventId", ASCENDING), ("day", ASCENDING)],
                    name="project_event_day",
                    unique=True,
                ),
                IndexModel([("project", ASCENDING), ("day", ASCENDING)], name="project_day"),
            ],
        )
        sync_indexes(
            self._reports,
            [
                IndexModel(
                    [("project", ASCENDING), ("window", ASCENDING), ("to", ASCENDING)],
                    name="project_window_to",
                )
            ],
        )

    # --- partials

    def partial_counts(self, project: str, pairs: Iterable[Pair]) -> dict[Pair, int]:
        """The stored event count of each of `pairs` that has a partial."""
        ids = [partial_id(project, event_id, day) for event_id, day in pairs]
        counts: dict[Pair, int] = {}
        for start in range(0, len(ids), 1000):
            cursor = self._partials.find(
                {"_id": {"$in": ids[start : start + 1000]}},
                {"_id": 0, "eventId": 1, "day": 1, "count": 1},
            )
            for doc in cursor:
                counts[(doc["eventId"], doc["day"])] = int(doc["count"])
        return counts

    def save_partials(
        self, partials: Iterable[Mapping[str, Any]], run_id: str, now: datetime
    ) -> int:
        written = 0
        for partial in partials:
            doc_id = partial_id(partial["project"], partial["eventId"], partial["day"])
            doc = {"_id": doc_id, **partial, "runId": run_id, "updatedAt": now}
            self._partials.replace_one({"_id": doc_id}, doc, upsert=True)
            written += 1
        return written

    def pairs_with_user(self, project: str, user_id: str) -> list[Pair]:
        """The (eventId, day) of the project's partials that list `user_id` (a scan of the
        project's partials: erasures are rare, and an index of every id would be large)."""
        cursor = self._partials.find(
            {"project": project, "users.ids": user_id}, {"_id": 0, "eventId": 1, "day": 1}
        )
        return sorted((str(doc["eventId"]), str(doc["day"])) for doc in cursor)

    def delete_partials(self, project: str, pairs: Iterable[Pair]) -> int:
        ids = [partial_id(project, event_id, day) for event_id, day in pairs]
        if not ids:
            return 0
        return int(self._partials.delete_many({"_id": {"$in": ids}}).deleted_count)

    def delete_partials_before(self, project: str, started: datetime) -> set[str]:
        """Delete the project's partials not written since `started` (a full run's leftovers:
        days whose events are gone); return their eventIds. A run that started later may be
        writing beside this one: its partials are newer, so they stay."""
        query = {"project": project, "updatedAt": {"$lt": started}}
        event_ids = {str(doc["eventId"]) for doc in self._partials.find(query, {"eventId": 1})}
        if event_ids:
            self._partials.delete_many(query)
        return event_ids

    def event_partials(self, project: str, event_id: str) -> list[dict[str, Any]]:
        """Every partial of one eventId, oldest day first."""
        cursor = self._partials.find({"project": project, "eventId": event_id}).sort(
            [("day", ASCENDING)]
        )
        return [without_store_fields(doc) for doc in cursor]

    def day_summaries(self, project: str, first: str, last: str) -> list[dict[str, Any]]:
        """The totals (SUMMARY_PROJECTION) of the project's partials from `first` to `last`."""
        cursor = self._partials.find(
            {"project": project, "day": {"$gte": first, "$lte": last}}, SUMMARY_PROJECTION
        )
        return list(cursor)

    def export_partials(self, project: str) -> list[dict[str, Any]]:
        """Every partial of the project without user ids or segments, by day then eventId."""
        cursor = self._partials.find({"project": project}, EXPORT_PROJECTION)
        return sorted(cursor, key=lambda doc: (doc["day"], doc["eventId"]))

    def has_event(self, project: str, event_id: str) -> bool:
        return (
            self._partials.find_one({"project": project, "eventId": event_id}, {"_id": 1})
            is not None
        )

    def event_ids(self, project: str) -> list[str]:
        return sorted(str(e) for e in self._partials.distinct("eventId", {"project": project}))

    def projects(self) -> list[str]:
        return sorted(str(p) for p in self._partials.distinct("project"))

    # --- reports

    def save_report(
        self, report: Mapping[str, Any], window: str, run_id: str, now: datetime
    ) -> None:
        doc_id = report_id(report["project"], report["eventId"], window)
        doc = {"_id": doc_id, **report, "window": window, "runId": run_id, "generatedAt": now}
        self._reports.replace_one({"_id": doc_id}, doc, upsert=True)

    def delete_reports(self, project: str, event_id: str) -> None:
        self._reports.delete_many(
            {"_id": {"$in": [report_id(project, event_id, w) for w in WINDOWS]}}
        )

    def report(self, project: str, event_id: str, window: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = self._reports.find_one(
            {"_id": report_id(project, event_id, window)}
        )
        return doc

    def stale_event_ids(self, project: str, today: str) -> set[str]:
        """eventIds whose stored reports were built for a day before `today`."""
        cursor = self._reports.find(
            {"project": project, "window": {"$in": list(WINDOWS)}, "to": {"$lt": today}},
            {"eventId": 1},
        )
        return {str(doc["eventId"]) for doc in cursor}

    # --- watermarks

    def watermark(self, project: str) -> datetime | None:
        doc = self._watermarks.find_one({"_id": project})
        return None if doc is None else doc.get("watermark")

    def last_run(self, project: str) -> dict[str, Any] | None:
        """{watermark, lastRun} of the project, or None before its first run."""
        doc: dict[str, Any] | None = self._watermarks.find_one({"_id": project}, {"_id": 0})
        return doc

    def run_status(self) -> tuple[datetime | None, float | None]:
        """The oldest project watermark (how far behind the reports lag) and the longest last
        run in seconds, over every project; None for both before the first run."""
        oldest: datetime | None = None
        longest: float | None = None
        for doc in self._watermarks.find({}, {"watermark": 1, "lastRun.seconds": 1}):
            mark = doc.get("watermark")
            if mark is not None and (oldest is None or mark < oldest):
                oldest = mark
            seconds = (doc.get("lastRun") or {}).get("seconds")
            if isinstance(seconds, int | float) and (longest is None or seconds > longest):
                longest = float(seconds)
        return oldest, longest

    def advance_watermark(
        self, project: str, watermark: datetime, summary: Mapping[str, Any]
    ) -> None:
        """Move the watermark forward to `watermark`, never back (`$max`): a slower run that
        started earlier cannot undo a later one."""
        self._watermarks.update_one(
            {"_id": project},
            {"$max": {"watermark": watermark}, "$set": {"lastRun": dict(summary)}},
            upsert=True,
        )
