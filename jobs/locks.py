"""Owner of the `job_locks` collection: at most one scheduler runs a job at a time.

A lock is a document per job name holding its owner and an expiry. Taking it is one atomic
upsert that matches only an expired lock or our own; a live lock held by another owner makes
the upsert collide with the existing `_id`, which is the "no". The expiry frees a lock whose
holder died mid-run.

`run_locked` runs a job under its lock: the scheduler's runs, the queued report and export
jobs (jobs.reports) and the CLI's runs all go through it, so none runs beside another.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from core import clock, metrics
from core.clients import Clients
from core.logs import bound_request_id, request_id

log = logging.getLogger(__name__)

# A lock outlives any sane run; should its holder die, the job is free again after this.
LOCK_TTL = timedelta(minutes=30)

Job = Callable[[Database[Any]], object]


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


def scheduler_id() -> str:
    """An owner name for locks, unique to this process: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_locked(clients: Clients, name: str, job: Job, owner: str) -> bool:
    """Run `job` if `owner` gets the lock `name`; return whether it ran."""
    with bound_request_id(request_id.get()):
        db = clients.mongo
        locks = JobLocks(db)
        if not locks.acquire(name, owner, LOCK_TTL, clock.now()):
            metrics.JOBS.labels(name, "skipped").inc()
            log.info("job %s is running elsewhere; skipped", name)
            return False
        try:
            with metrics.counting_job(name):
                job(db)
        finally:
            locks.release(name, owner)
        return True
