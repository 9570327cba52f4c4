"""Owner of the `idempotency_keys` collection: Stripe's semantics for retried requests.

A key is scoped to its project and bound, on first use, to the fingerprint of the request it
came with; the same key with another request is a conflict. Once the request is applied, the
key holds its outcome document (the response to replay, in the shape its use case stores) for
at least KEEP_FOR, and a repeat answers with that document.

Exactly-once does not rest on this collection. The key also travels in the user's `pending`
record (rules.usecases.unit_of_work), written by the same conditional update that applies the
request, with its outcome (an event's is its event record's), and the outcome is copied here
before that record is pulled. So
whoever loads the user after the request was applied either finds the pending record (and
finishes it, completing the key) or finds the key completed — two concurrent requests with one
key, or a retry after a crash at any point, apply the request once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from core.indexes import sync_indexes
from rules.errors import IdempotencyConflict
from rules.stores.storage import DUPLICATE_KEY

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255

# A key to complete: (key, fingerprint, outcome document).
Completion = tuple[str, str, Mapping[str, Any]]


@dataclass(frozen=True)
class IdempotencyKey:
    key: str
    fingerprint: str  # of the request the key was sent with


def fingerprint(request: Mapping[str, Any]) -> str:
    """A digest of a JSON request, independent of the order of its object keys."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, db: Database[Any]) -> None:
        self._keys = db["idempotency_keys"]

    def ensure_indexes(self) -> None:
        sync_indexes(
            self._keys,
            [
                IndexModel(
                    [("project", ASCENDING), ("key", ASCENDING)], unique=True, name="project_key"
                ),
                # MongoDB's TTL monitor deletes a key once `expiresAt` has passed.
                IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="expires"),
            ],
        )

    def bind(self, project: str, key: IdempotencyKey, now: datetime) -> bool:
        """Bind `key` to its request; False when it was bound before (then `stored_outcome`
        tells whether that request was applied, or conflicts)."""
        try:
            self._keys.insert_one(_binding(project, key, now))
        except DuplicateKeyError:
            return False
        return True

    def bind_many(self, project: str, keys: Sequence[IdempotencyKey], now: datetime) -> set[str]:
        """`bind` for distinct keys in one insert; returns the keys bound now."""
        documents = [_binding(project, key, now) for key in keys]
        if not documents:
            return set()
        try:
            self._keys.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            errors = error.details.get("writeErrors", [])
            if error.details.get("writeConcernErrors") or any(
                e["code"] != DUPLICATE_KEY for e in errors
            ):
                raise
            taken = {documents[e["index"]]["key"] for e in errors}
            return {key.key for key in keys} - taken
        return {key.key for key in keys}

    def stored_outcome(self, project: str, key: IdempotencyKey) -> dict[str, Any] | None:
        """The outcome document as stored, None while the key's request has not been applied.

        Raises IdempotencyConflict when the key was first used with another request."""
        return outcome_of(self._keys.find_one({"project": project, "key": key.key}), key)

    def stored_many(
        self, project: str, keys: Sequence[IdempotencyKey]
    ) -> dict[str, dict[str, Any]]:
        """The stored documents of these keys, by key, in one read (see `outcome_of`)."""
        if not keys:
            return {}
        wanted = sorted({key.key for key in keys})
        return {d["key"]: d for d in self._keys.find({"project": project, "key": {"$in": wanted}})}

    def release(self, project: str, key: IdempotencyKey) -> None:
        """Unbind a key whose request was refused, unless its outcome was recorded."""
        self._keys.delete_one(
            {
                "project": project,
                "key": key.key,
                "fingerprint": key.fingerprint,
                "outcome": {"$exists": False},
            }
        )

    def complete(
        self, project: str, key: str, fingerprint: str, outcome: Mapping[str, Any], now: datetime
    ) -> None:
        """Record the outcome of the key's request. An upsert, so a key that expired meanwhile
        is written again; if another request took the expired key since, it stays theirs."""
        try:
            self._keys.update_one(
                {"project": project, "key": key, "fingerprint": fingerprint},
                {
                    "$set": {"outcome": dict(outcome), "expiresAt": now + KEEP_FOR},
                    "$setOnInsert": {"createdAt": now},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            # Either a concurrent finisher of the same record won (same outcome), or the key
            # belongs to another request now: nothing of ours to write.
            pass

    def complete_many(self, project: str, completions: Sequence[Completion], now: datetime) -> None:
        """`complete` for several keys (key, fingerprint, outcome), in one write (a batch's)."""
        if len(completions) == 1:
            self.complete(project, *completions[0], now)
            return
        if not completions:
            return
        requests = [
            UpdateOne(
                {"project": project, "key": key, "fingerprint": fingerprint},
                {
                    "$set": {"outcome": dict(outcome), "expiresAt": now + KEEP_FOR},
                    "$setOnInsert": {"createdAt": now},
                },
                upsert=True,
            )
            for key, fingerprint, outcome in completions
        ]
        try:
            self._keys.bulk_write(requests, ordered=False)
        except BulkWriteError as error:
            # As in `complete`, a key another request holds now is not ours to write.
            errors = error.details.get("writeErrors", [])
            if error.details.get("writeConcernErrors") or any(
                e["code"] != DUPLICATE_KEY for e in errors
            ):
                raise

    def erase_user(self, project: str, user_id: str) -> int:
        """Delete the keys whose stored outcome concerns the user (rules.usecases.erasure):
        keys live KEEP_FOR and are read by project, so this looks at one project's recent keys.
        How many there were."""
        keys = self._keys.delete_many({"project": project, "outcome.userId": user_id})
        return keys.deleted_count


def outcome_of(document: Mapping[str, Any] | None, key: IdempotencyKey) -> dict[str, Any] | None:
    """What a key's stored document says of the request `key` came with: its outcome
    document, None while no request with the key was applied (or the key is not stored).

    Raises IdempotencyConflict when the key was first used with another request."""
    if document is None:
        return None
    if document["fingerprint"] != key.fingerprint:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different request",
            {"idempotencyKey": ["already used with a different request body"]},
        )
    stored = document.get("outcome")
    return None if stored is None else dict(stored)


def _binding(project: str, key: IdempotencyKey, now: datetime) -> dict[str, Any]:
    return {
        "project": project,
        "key": key.key,
        "fingerprint": key.fingerprint,
        "createdAt": now,
        "expiresAt": now + KEEP_FOR,
    }
