"""Erasing a user (docs/api.md#users-support-and-leaderboards, `DELETE /users/{userId}`): every
document about them, everywhere.

For one project and userId, each collection keyed by the user (`_user_stores`) is erased
through its owner's `erase_user`, `users` first (it holds the pending records a finisher could
write again); then the idempotency keys naming the user and the user's leaderboard entries.
`settle` later, it erases once more, catching a request that was past its save. Not atomic: a
repeat removes what a crash left. `Erased.report_days` lists the analytics days to recompute.
Why: docs/decisions/0008-erasure-scope-and-settle.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import redis
from pymongo.database import Database

from rules.stores import boards
from rules.stores.audit import AuditLog
from rules.stores.boards import Redis
from rules.stores.eventlog import EventLog
from rules.stores.idempotency import IdempotencyStore
from rules.stores.ledger import Ledger
from rules.stores.outbox import Deliveries, Outbox
from rules.stores.users import UserStore


class _UserEraser(Protocol):
    def erase_user(self, project: str, user_id: str) -> int: ...


def _user_stores(db: Database[Any]) -> list[tuple[str, _UserEraser]]:
    """The owners of the collections whose documents belong to one user, in the order they are
    erased, each by the name of its collection (the key of `Erased.documents`, which the API
    reports)."""
    return [
        ("users", UserStore(db)),
        ("events", EventLog(db)),
        ("ledger", Ledger(db)),
        ("audit", AuditLog(db)),
        ("notifications", Outbox(db)),
        ("deliveries", Deliveries(db)),
        ("idempotency_keys", IdempotencyStore(db)),
    ]


@dataclass
class Erased:
    documents: dict[str, int] = field(default_factory=dict)  # by collection
    # (eventId, UTC day "YYYY-MM-DD") of the erased events: the analytics days to re-aggregate.
    report_days: set[tuple[str, str]] = field(default_factory=set)
    # When the first of the erased events was received: nothing written before held the user.
    first_received: datetime | None = None
    leaderboard_keys: int = 0  # Redis keys that held the user
    redis_error: str | None = None  # the boards could not be cleaned (Redis down)

    @property
    def found(self) -> bool:
        return any(self.documents.values()) or self.leaderboard_keys > 0


def erase_user(
    db: Database[Any], client: Redis | None, project: str, user_id: str, *, settle: float = 0.0
) -> Erased:
    """Delete the user's documents and leaderboard entries; see the module's docstring.

    With `settle`, erase a second time that many seconds later, for requests that were
    finishing their writes. A Redis failure is reported in `redis_error` (the MongoDB part is
    done by then): the erasure is incomplete until repeated (a repeat finds the boards still
    holding the user).
    """
    erased = _erase_once(db, client, project, user_id)
    if settle and erased.found:
        time.sleep(settle)
        again = _erase_once(db, client, project, user_id)
        for name, count in again.documents.items():
            erased.documents[name] = erased.documents.get(name, 0) + count
        erased.report_days |= again.report_days
        if erased.first_received is None:
            erased.first_received = again.first_received
        erased.leaderboard_keys += again.leaderboard_keys
        erased.redis_error = erased.redis_error or again.redis_error
    return erased


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _erase_once(db: Database[Any], client: Redis | None, project: str, user_id: str) -> Erased:
    erased = Erased()
    projection = {"eventId": True, "timestamp": True, "receivedAt": True}
    for event in EventLog(db).of_user(project, user_id, projection):
        moment = event["timestamp"]
        day = (moment if moment.tzinfo is None else moment.astimezone(UTC)).strftime("%Y-%m-%d")
        erased.report_days.add((event["eventId"], day))
        received = _aware(event.get("receivedAt") or moment)
        if erased.first_received is None or received < erased.first_received:
            erased.first_received = received
    for name, store in _user_stores(db):
        erased.documents[name] = store.erase_user(project, user_id)
    if client is not None:
        try:
            erased.leaderboard_keys = boards.erase_user(client, project, user_id)
        except redis.RedisError as error:
            erased.redis_error = f"{type(error).__name__}: {error}"
    return erased
