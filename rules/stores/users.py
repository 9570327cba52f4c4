"""Owner of the `users` collection: one document per (project, userId) holding everything an
event changes — balance, lifetime points, streaks, completion counts, badges, profile.

A save succeeds only if the `version` it read is still current (else the caller reads and
decides again), and it pushes a `pending` record of the writes due elsewhere, which whoever
loads the user next finishes first (rules.usecases.unit_of_work).
Why: docs/decisions/0001-exactly-once-without-transactions.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel, ReadPreference
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from core.indexes import sync_indexes
from rules.engine.challenges import challenge_state_from_document, challenge_state_to_document
from rules.engine.state import CompletionCounter, PointsTally, UserState
from rules.engine.streaks import streak_state_from_document, streak_state_to_document


@dataclass(frozen=True)
class StoredUser:
    id: Any
    project: str
    version: int
    state: UserState
    pending: list[dict[str, Any]] = field(default_factory=list)
    # No record has been pending since before this (None: nothing is pending).
    pending_since: datetime | None = None


class UserStore:
    def __init__(self, db: Database[Any]) -> None:
        # The exactly-once path reads a version and writes against it: always the primary's.
        self._users = db.get_collection("users", read_preference=ReadPreference.PRIMARY)

    def ensure_indexes(self) -> None:
        sync_indexes(
            self._users,
            [
                IndexModel(
                    [("project", ASCENDING), ("userId", ASCENDING)],
                    unique=True,
                    name="project_user",
                ),
                # The recovery sweep's query: users holding records older than a cutoff.
                IndexModel([("pendingSince", ASCENDING)], sparse=True, name="pending_since"),
                # The report run's: a project's oldest pending record. Partial, not sparse: a
                # compound sparse index holds every document with any of its keys, and every
                # user has a project, so it indexed them all.
                IndexModel(
                    [("project", ASCENDING), ("pendingSince", ASCENDING)],
                    partialFilterExpression={"pendingSince": {"$exists": True}},
                    name="project_pending_since",
                ),
            ],
        )

    def load(self, project: str, user_id: str) -> StoredUser | None:
        document = self._users.find_one({"project": project, "userId": user_id})
        return None if document is None else _stored(document)

    def load_many(self, project: str, user_ids: Sequence[str]) -> dict[str, StoredUser]:
        """The stored users among `user_ids` (a batch's), in one query."""
        documents = self._users.find({"project": project, "userId": {"$in": list(user_ids)}})
        return {document["userId"]: _stored(document) for document in documents}

    def save_records(
        self,
        project: str,
        stored: StoredUser | None,
        state: UserState,
        records: Sequence[Mapping[str, Any]],
        now: datetime,
    ) -> bool:
        """Write `state` and push the pending `records` (one request's, or a batch's events of
        one user) in one conditional write, if nobody changed the user since `stored` was read.

        Returns False on a lost race; the caller reloads and decides again.
        """
        if stored is None:
            try:
                self._users.insert_one(
                    {
                        "project": project,
                        "userId": state.user_id,
                        "version": 1,
                        "createdAt": now,
                        **state_to_fields(state),
                        "updatedAt": now,
                        "pending": [dict(record) for record in records],
                        "pendingSince": now,
                    }
                )
            except DuplicateKeyError:
                return False
            return True
        # Only what changed: the version guard means the document still holds the rest.
        changed = changed_fields(stored.state, state)
        result = self._users.update_one(
            # The shard key (project, userId) beside the _id: mongos targets one shard.
            {**_key(project, state.user_id), "_id": stored.id, "version": stored.version},
            {
                "$set": {**changed, "updatedAt": now, "version": stored.version + 1},
                "$push": {"pending": _pushed(records)},
                "$min": {"pendingSince": now},
            },
        )
        return result.modified_count == 1

    def clear_pending(self, project: str, user_id: str, pending_id: Any) -> None:
        """Pull a finished record. When it was the only one (the usual case), the same write
        also drops `pendingSince`, so the recovery sweep stops looking at this user."""
        user = {"project": project, "userId": user_id}
        emptied = self._users.update_one(
            {**user, "pending": {"$size": 1}, "pending.id": pending_id},
            {"$set": {"pending": []}, "$unset": {"pendingSince": ""}},
        )
        if emptied.matched_count == 0:
            self._users.update_one(user, {"$pull": {"pending": {"id": pending_id}}})

    def clear_records(self, project: str, user_id: str, record_ids: Sequence[Any]) -> None:
        """`clear_pending` for several finished records of one user, in one write when they are
        all that is pending (else two)."""
        if len(record_ids) == 1:
            self.clear_pending(project, user_id, record_ids[0])
            return
        user = {"project": project, "userId": user_id}
        emptied = self._users.update_one(
            {
                **user,
                "pending": {"$size": len(record_ids)},
                "pending.id": {"$all": list(record_ids)},
            },
            {"$set": {"pending": []}, "$unset": {"pendingSince": ""}},
        )
        if emptied.matched_count == 0:
            self._users.update_one(user, {"$pull": {"pending": {"id": {"$in": list(record_ids)}}}})

    def forget_pending_marker(self, stored: StoredUser) -> None:
        self._users.update_one(
            {
                **_key(stored.project, stored.state.user_id),
                "_id": stored.id,
                "pending": {"$size": 0},
            },
            {"$unset": {"pendingSince": ""}},
        )

    def set_balance(self, stored: StoredUser, balance: int) -> bool:
        """Overwrite the balance if nobody changed the user since `stored` was read."""
        result = self._users.update_one(
            {
                **_key(stored.project, stored.state.user_id),
                "_id": stored.id,
                "version": stored.version,
            },
            {"$set": {"points.balance": balance, "version": stored.version + 1}},
        )
        return result.modified_count == 1

    def with_pending(
        self, older_than: datetime, project: str | None = None
    ) -> Iterator[StoredUser]:
        """Users holding a pending record since before `older_than` (served by pending_since).

        `pendingSince` may be older than the records still pending: it only errs towards
        visiting a user once more."""
        query: dict[str, Any] = {"pendingSince": {"$lte": older_than}}
        if project is not None:
            query["project"] = project
        for document in self._users.find(query).sort("pendingSince", ASCENDING):
            yield _stored(document)

    def oldest_pending_since(self, project: str) -> datetime | None:
        """The oldest `pendingSince` of the project's users, None when nothing is pending: an
        event received earlier has its event record written (served by project_pending_since)."""
        document = self._users.find_one(
            {"project": project, "pendingSince": {"$exists": True}},
            {"_id": 0, "pendingSince": 1},
            sort=[("pendingSince", ASCENDING)],
        )
        return None if document is None else document["pendingSince"]

    def count(
        self,
        project: str,
        *,
        seen_since: datetime | None = None,
        lifetime_from: int | None = None,
        lifetime_below: int | None = None,
    ) -> int:
        """The project's users, optionally only those seen since a moment or whose lifetime
        points lie in [lifetime_from, lifetime_below)."""
        query: dict[str, Any] = {"project": project}
        if seen_since is not None:
            query["lastSeen"] = {"$gte": seen_since}
        lifetime: dict[str, int] = {}
        if lifetime_from is not None:
            lifetime["$gte"] = lifetime_from
        if lifetime_below is not None:
            lifetime["$lt"] = lifetime_below
        if lifetime:
            query["points.lifetime"] = lifetime
        return self._users.count_documents(query)

    def oldest_pending(self) -> datetime | None:
        """The oldest `pendingSince` of any user, None when nothing is pending (served by
        pending_since; for the on-call metrics)."""
        document = self._users.find_one(
            {"pendingSince": {"$exists": True}},
            {"_id": 0, "pendingSince": 1},
            sort=[("pendingSince", ASCENDING)],
        )
        return None if document is None else document["pendingSince"]

    def erase_user(self, project: str, user_id: str) -> int:
        """Delete the user's document (rules.usecases.erasure); how many there were."""
        return self._users.delete_many({"project": project, "userId": user_id}).deleted_count

    def projects(self) -> list[str]:
        """Every project with users, sorted (rules.usecases.reconcile walks them)."""
        return sorted(self._users.distinct("project"))

    def balances(self, project: str) -> Iterator[tuple[str, int]]:
        """(userId, balance) of every user of `project`, read in batches of 1,000."""
        cursor = self._users.find(
            {"project": project}, {"userId": 1, "points.balance": 1, "_id": 0}, batch_size=1000
        )
        for document in cursor:
            yield document["userId"], (document.get("points") or {}).get("balance", 0)


def _pushed(records: Sequence[Mapping[str, Any]]) -> Any:
    if len(records) == 1:
        return dict(records[0])
    return {"$each": [dict(record) for record in records]}


def _key(project: str, user_id: str) -> dict[str, str]:
    """The shard key of `users` (core.sharding)."""
    return {"project": project, "userId": user_id}


def _stored(document: Mapping[str, Any]) -> StoredUser:
    return StoredUser(
        id=document["_id"],
        project=document["project"],
        version=document["version"],
        state=state_from_document(document),
        pending=list(document.get("pending", [])),
        pending_since=document.get("pendingSince"),
    )


def state_to_fields(state: UserState) -> dict[str, Any]:
    return {name: write(state) for name, (_, write) in _FIELDS.items()}


def changed_fields(before: UserState, after: UserState) -> dict[str, Any]:
    """The fields of state_to_fields(after) whose parts of the state differ from `before`'s,
    written out: the others are neither written out nor compared as documents (an event
    changes a few; the engine hands the others on as they were, so comparing them stops at
    identity)."""
    return {
        name: write(after)
        for name, (parts, write) in _FIELDS.items()
        if any(getattr(before, part) != getattr(after, part) for part in parts)
    }


def _streaks(state: UserState) -> list[dict[str, Any]]:
    # Lists, not maps keyed by id: ids may contain "." which MongoDB paths would split.
    return [
        {"streakId": streak_id, **streak_state_to_document(s)}
        for streak_id, s in state.streaks.items()
    ]


def _completions(state: UserState) -> list[dict[str, Any]]:
    return [
        {
            "eventId": event_id,
            "total": c.total,
            "recent": list(c.recent),
            "droppedThrough": c.dropped_through,
        }
        for event_id, c in state.completions.items()
    ]


def _earned(state: UserState) -> list[dict[str, Any]]:
    return [
        {
            "eventId": event_id,
            "periods": [{"start": start, "points": points} for start, points in t.periods],
            "droppedThrough": t.dropped_through,
        }
        for event_id, t in state.earned.items()
    ]


def _challenges(state: UserState) -> list[dict[str, Any]]:
    return [
        {"challengeId": challenge_id, **challenge_state_to_document(c)}
        for challenge_id, c in state.challenges.items()
    ]


# Each field of a user document: the UserState attributes it is written from, and how.
_FIELDS: dict[str, tuple[tuple[str, ...], Callable[[UserState], Any]]] = {
    "usergroup": (("usergroup",), lambda state: state.usergroup),
    "timezone": (("timezone",), lambda state: state.timezone),
    "points": (
        ("balance", "lifetime"),
        lambda state: {"balance": state.balance, "lifetime": state.lifetime},
    ),
    "streaks": (("streaks",), _streaks),
    "completions": (("completions",), _completions),
    "earned": (("earned",), _earned),
    "challenges": (("challenges",), _challenges),
    "badges": (("badges",), lambda state: list(state.badges)),
    "firstSeen": (("first_seen",), lambda state: state.first_seen),
    "lastSeen": (("last_seen",), lambda state: state.last_seen),
    "eventCount": (("event_count",), lambda state: state.event_count),
}


def state_from_document(document: Mapping[str, Any]) -> UserState:
    points = document.get("points") or {}
    return UserState(
        user_id=document["userId"],
        usergroup=document.get("usergroup"),
        timezone=document.get("timezone"),
        balance=points.get("balance", 0),
        lifetime=points.get("lifetime", 0),
        streaks={s["streakId"]: streak_state_from_document(s) for s in document.get("streaks", [])},
        completions={
            c["eventId"]: CompletionCounter(
                total=c["total"],
                recent=tuple(c["recent"]),
                dropped_through=c.get("droppedThrough"),
            )
            for c in document.get("completions", [])
        },
        earned={
            t["eventId"]: PointsTally(
                periods=tuple((p["start"], p["points"]) for p in t["periods"]),
                dropped_through=t.get("droppedThrough"),
            )
            for t in document.get("earned", [])
        },
        challenges={
            c["challengeId"]: challenge_state_from_document(c)
            for c in document.get("challenges", [])
        },
        badges=tuple(document.get("badges", [])),
        first_seen=document.get("firstSeen"),
        last_seen=document.get("lastSeen"),
        event_count=document.get("eventCount", 0),
    )
