"""Owner of the insight collections (docs/api.md#insights): `insight_days` and `user_firsts`.

- `insight_days`: one insight day (reports.insights.days) per (project, eventId, UTC day), `_id`
  `"{project}/{eventId}/{day}"`, plus `runId` and `updatedAt`, replaced whole when a run
  recomputes its day. Breakdowns read one eventId's window (index project_event_day), retention
  the users of its range (project_day), each projected on the fields it reads.
- `user_firsts`: when each user first did each eventId (and `"*"`, any event), stored columnar
  in SHARDS documents per (project, eventId), merged with a minimum per user and written back
  under a `version` compare-and-set.
Why: docs/decisions/0011-users-first-times-stored-columnar.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from bson.binary import Binary
from pymongo import ASCENDING, IndexModel
from pymongo.database import Database

from reports.analytics.store import Pair
from reports.insights.hashes import EMPTY, Hashes, from_binary, to_binary

ANY_EVENT = "*"  # eventIds never hold '*'
SHARD_BITS = 4
SHARDS = 1 << SHARD_BITS
MAX_SHARD_USERS = (8 * 1024 * 1024) // 16
CAS_ATTEMPTS = 20

Times = npt.NDArray[np.int64]


class FirstsTooLarge(ValueError):
    """A user_firsts shard would pass MAX_SHARD_USERS users."""


class ConcurrentUpdate(RuntimeError):
    """A user_firsts document kept changing under this run."""


def insight_id(project: str, event_id: str, day: str) -> str:
    return f"{project}/{event_id}/{day}"


def firsts_id(project: str, event_id: str, shard: int) -> str:
    return f"{project}/{event_id}/{shard}"


def shard_of(hashes: Hashes) -> npt.NDArray[np.int64]:
    return (hashes >> np.uint64(64 - SHARD_BITS)).astype(np.int64)


def merge_firsts(
    hashes: Hashes, times: Times, more_hashes: Hashes, more_times: Times
) -> tuple[Hashes, Times]:
    """Both sets of (hash, first time) as one: sorted by hash, the earliest time of each."""
    all_hashes = np.concatenate([hashes, more_hashes])
    all_times = np.concatenate([times, more_times])
    if not len(all_hashes):
        return EMPTY, np.zeros(0, dtype=np.int64)
    order = np.lexsort((all_times, all_hashes))
    all_hashes, all_times = all_hashes[order], all_times[order]
    first = np.ones(len(all_hashes), dtype=bool)
    first[1:] = all_hashes[1:] != all_hashes[:-1]
    return all_hashes[first], all_times[first]


class InsightStore:
    def __init__(self, db: Database[Any]) -> None:
        self._days = db["insight_days"]
        self._firsts = db["user_firsts"]

    def ensure_indexes(self) -> None:
        self._days.create_indexes(
            [
                IndexModel(
                    [("project", ASCENDING), ("eventId", ASCENDING), ("day", ASCENDING)],
                    name="project_event_day",
                    unique=True,
                ),
                IndexModel([("project", ASCENDING), ("day", ASCENDING)], name="project_day"),
            ]
        )
        self._firsts.create_indexes(
            [
                IndexModel([("project", ASCENDING), ("eventId", ASCENDING)], name="project_event"),
                # An erasure visits the one shard of every eventId that may hold the user.
                IndexModel([("project", ASCENDING), ("shard", ASCENDING)], name="project_shard"),
            ]
        )

    # --- insight days

    def save_day(self, day: Mapping[str, Any], run_id: str, now: datetime) -> None:
        doc_id = insight_id(day["project"], day["eventId"], day["day"])
        doc = {"_id": doc_id, **day, "runId": run_id, "updatedAt": now}
        self._days.replace_one({"_id": doc_id}, doc, upsert=True)

    def delete_days(self, project: str, pairs: Iterable[Pair]) -> int:
        ids = [insight_id(project, event_id, day) for event_id, day in pairs]
        if not ids:
            return 0
        return int(self._days.delete_many({"_id": {"$in": ids}}).deleted_count)

    def delete_days_before(self, project: str, started: datetime) -> int:
        """A full run's leftovers (see ReportStore.delete_partials_before)."""
        query = {"project": project, "updatedAt": {"$lt": started}}
        return int(self._days.delete_many(query).deleted_count)

    def first_day(self, project: str, event_id: str) -> str | None:
        doc = self._days.find_one(
            {"project": project, "eventId": event_id},
            {"_id": 0, "day": 1},
            sort=[("eventId", ASCENDING), ("day", ASCENDING)],
        )
        return None if doc is None else str(doc["day"])

    def breakdown_days(
        self, project: str, event_id: str, first: str, last: str, by: str, field: str | None
    ) -> list[dict[str, Any]]:
        """The days of one eventId from `first` to `last`, with `by`'s listing and `field`'s
        figures only."""
        projection: dict[str, Any] = {
            "_id": 0,
            "day": 1,
            "count": 1,
            "users": 1,
            "droppedFields": 1,
            "usersDropped": 1,
            f"fields.{by}.truncated": 1,
            f"fields.{by}.values.value": 1,
            f"fields.{by}.values.count": 1,
            f"fields.{by}.values.users": 1,
        }
        if field is not None:
            projection[f"numbers.{field}"] = 1
            projection[f"fields.{by}.values.numbers.{field}"] = 1
        cursor = self._days.find(
            {"project": project, "eventId": event_id, "day": {"$gte": first, "$lte": last}},
            projection,
        ).sort([("day", ASCENDING)])
        days = []
        for doc in cursor:
            doc.setdefault("fields", {})
            doc.setdefault("numbers", {})
            for entry in doc["fields"].get(by, {}).get("values", []):
                entry.setdefault("users", None)
                entry.setdefault("numbers", {})
            days.append(doc)
        return days

    def timelines(
        self, project: str, event_ids: Iterable[str], first: str, last: str
    ) -> list[tuple[str, dict[str, Any] | None]]:
        """(eventId, timeline) of the insight days of `event_ids` from `first` to `last` (a
        timeline is None when its day had to drop it: reports.insights.days._fit)."""
        query = {
            "project": project,
            "eventId": {"$in": sorted(set(event_ids))},
            "day": {"$gte": first, "$lte": last},
        }
        projection = {"_id": 0, "eventId": 1, "timeline": 1}
        return [
            (str(doc["eventId"]), doc.get("timeline")) for doc in self._days.find(query, projection)
        ]

    def user_days(
        self, project: str, first: str, last: str, event_id: str | None = None
    ) -> list[dict[str, Any]]:
        """{eventId, day, users, userCount} of the project's insight days from `first` to `last`
        (of `event_id` only, when given)."""
        query: dict[str, Any] = {"project": project, "day": {"$gte": first, "$lte": last}}
        if event_id is not None:
            query["eventId"] = event_id
        projection = {"_id": 0, "eventId": 1, "day": 1, "users": 1, "userCount": 1}
        return list(self._days.find(query, projection))

    # --- user firsts

    def firsts(self, project: str, event_id: str) -> tuple[Hashes, Times]:
        """Every user's first time (epoch ms) of `event_id` (ANY_EVENT: of any event)."""
        hashes, times = [EMPTY], [np.zeros(0, dtype=np.int64)]
        for doc in self._firsts.find({"project": project, "eventId": event_id}):
            hashes.append(from_binary(doc["hashes"]))
            times.append(_times(doc["times"]))
        return np.concatenate(hashes), np.concatenate(times)

    def merge_firsts(self, project: str, event_id: str, hashes: Hashes, times: Times) -> int:
        """Merge (hash, first time) pairs into the eventId's shards; return documents written."""
        shards = shard_of(hashes)
        written = 0
        for shard in np.unique(shards).tolist():
            chosen = shards == shard
            self._update_shard(project, event_id, int(shard), hashes[chosen], times[chosen])
            written += 1
        return written

    def forget_user(self, project: str, user_hash: int) -> None:
        """Remove one user from every eventId's firsts (an erasure)."""
        shard = int(shard_of(np.array([user_hash], dtype=np.uint64))[0])
        target = np.uint64(user_hash)
        for doc in self._firsts.find({"project": project, "shard": shard}, {"eventId": 1}):
            self._update_shard(
                project, str(doc["eventId"]), shard, EMPTY, np.zeros(0, np.int64), remove=target
            )

    def _update_shard(
        self,
        project: str,
        event_id: str,
        shard: int,
        hashes: Hashes,
        times: Times,
        remove: np.uint64 | None = None,
    ) -> None:
        doc_id = firsts_id(project, event_id, shard)
        for _ in range(CAS_ATTEMPTS):
            doc = self._firsts.find_one({"_id": doc_id})
            version = 0 if doc is None else int(doc["version"])
            stored_hashes = EMPTY if doc is None else from_binary(doc["hashes"])
            stored_times = np.zeros(0, np.int64) if doc is None else _times(doc["times"])
            merged_hashes, merged_times = merge_firsts(stored_hashes, stored_times, hashes, times)
            if remove is not None:
                keep = merged_hashes != remove
                merged_hashes, merged_times = merged_hashes[keep], merged_times[keep]
            if len(merged_hashes) > MAX_SHARD_USERS:
                raise FirstsTooLarge(f"{doc_id} would hold {len(merged_hashes):,} users")
            replacement = {
                "project": project,
                "eventId": event_id,
                "shard": shard,
                "hashes": to_binary(merged_hashes),
                "times": Binary(merged_times.astype("<i8").tobytes()),
                "version": version + 1,
            }
            if doc is None:
                result = self._firsts.update_one(
                    {"_id": doc_id}, {"$setOnInsert": replacement}, upsert=True
                )
                if result.upserted_id is not None:
                    return
            elif self._firsts.replace_one(
                {"_id": doc_id, "version": version}, replacement
            ).matched_count:
                return
        raise ConcurrentUpdate(f"{doc_id} kept changing; the next run merges again")


def _times(data: bytes) -> Times:
    return np.frombuffer(bytes(data), dtype="<i8").astype(np.int64)
