"""Owner of the `job_locks` collection: at most one scheduler runs a job at a time.

A lock is a document per job name holding its owner and an expiry. Taking it is one atomic
upsert that matches only an expired lock or our own; a live lock held by another owner makes
the upsert collide with the existing `_id`, which is the "no". The expiry frees a lock whose
holder died mid-run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError


class JobLocks:
    def __init__(self, db: Database[Any]) -> None:
        self._locks = db["job_locks"]

    def acquire(self, name: str, owner: str, ttl: timedelta, now: datetime) -> bool:
        try:
            self._locks.update_one(
                {"_id": name, "$or": [{"expiresAt": {"$lte": now}}, {"owner": owner}]},
                {"$set": {"owner": owner, "expiresAt": now + ttl, "acquiredAt": now}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    def release(self, name: str, owner: str) -> None:
        self._locks.delete_one({"_id": name, "owner": owner})

    def held_by(self, owner: str) -> list[str]:
        return [doc["_id"] for doc in self._locks.find({"owner": owner}, {"_id": 1})]

    def release_all(self, owner: str) -> int:
        """Release every lock of `owner` (a scheduler shutting down); returns how many."""
        return self._locks.delete_many({"owner": owner}).deleted_count
