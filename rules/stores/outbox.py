"""Webhook notifications: what to tell the app, the outbox that keeps it, the delivery log.

A notification is decided with the state change that causes it: `notifications_for` runs on
the event's outcome and the result rides in the user's pending record (rules.usecases.unit_of_work),
so it is written to the `notifications` outbox exactly when the change is, crash or no crash. Only
types some active webhook of the project subscribes to are recorded.

From the outbox, a dispatch (jobs.webhooks) creates one `deliveries` document per subscribed
webhook, with a deterministic id (`<notification id>:<webhook id>`, also the
`X-Laurel-Delivery` header, stable across retries) and queues its delivery job; the
notification is then marked dispatched. A dispatch that could not queue (Redis down) leaves it
pending, and the sweep dispatches it again: every step is idempotent.

Payload (version 1), the body sent as JSON:
`{id, type, version, project, userId, eventId, points, occurredAt, createdAt, data}` —
`points` what this notification is about (an award, a milestone, a challenge reward, an
adjustment's delta), `occurredAt` the event's time, `data` type-specific fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

from core.indexes import sync_indexes
from rules.engine.evaluation import Outcome
from rules.stores.storage import insert_missing

PAYLOAD_VERSION = 1
# Notifications (from their dispatch) and deliveries (from their creation) are kept this long,
# then MongoDB's TTL monitor deletes them: their payloads name users. A notification never
# dispatched has no `dispatchedAt` and stays until the sweep dispatches it.
KEEP_FOR = timedelta(days=30)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _payload(
    notification_id: str,
    kind: str,
    project: str,
    user_id: str,
    event_id: str | None,
    points: int,
    occurred_at: datetime,
    created_at: datetime,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "id": notification_id,
        "type": kind,
        "version": PAYLOAD_VERSION,
        "project": project,
        "userId": user_id,
        "eventId": event_id,
        "points": points,
        "occurredAt": iso(occurred_at),
        "createdAt": iso(created_at),
        "data": dict(data),
    }


def notifications_for(
    record_id: Any,
    project: str,
    outcome: Outcome,
    subscribed: frozenset[str],
    now: datetime,
) -> list[dict[str, Any]]:
    """The outbox documents an event's outcome calls for (only subscribed types)."""
    documents = []
    # Numbered among all the outcome's notifications, so that an id never depends on who
    # subscribed to what.
    for number, (kind, points, data) in enumerate(_notable(outcome)):
        if kind not in subscribed:
            continue
        notification_id = f"{record_id}:{number}"
        payload = _payload(
            notification_id,
            kind,
            project,
            outcome.user_id,
            outcome.event_id,
            points,
            outcome.timestamp,
            now,
            data,
        )
        documents.append(outbox_document(project, outcome.user_id, payload, now))
    return documents


def _notable(outcome: Outcome) -> list[tuple[str, int, dict[str, Any]]]:
    """What the outcome has to tell, subscribed or not, in a fixed order: each notification's
    type, the points it reports and its data."""
    found: list[tuple[str, int, dict[str, Any]]] = []
    if outcome.rewarded:
        found.append(
            (
                "event.rewarded",
                outcome.points_awarded,
                {
                    "pointsAwarded": outcome.points_awarded,
                    "totalPointsAwarded": outcome.total_points_awarded,
                    "balance": outcome.balance,
                },
            )
        )
    for streak in outcome.streaks:
        if streak.milestone_reached:
            found.append(
                (
                    "streak.milestone",
                    streak.points_awarded,
                    {"streakId": streak.streak_id, "currentCount": streak.current_count},
                )
            )
    for challenge in outcome.challenges:
        if challenge.completed:
            found.append(
                (
                    "challenge.completed",
                    challenge.points_awarded,
                    {"challengeId": challenge.challenge_id, "badge": challenge.badge},
                )
            )
    if outcome.level is not None and outcome.level.level_up:
        found.append(
            ("level.changed", 0, {"level": outcome.level.level, "name": outcome.level.name})
        )
    return found


def adjustment_notification(
    record_id: Any,
    project: str,
    user_id: str,
    delta: int,
    balance: int,
    reason: str,
    actor: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The `points.adjusted` outbox document of a manual adjustment."""
    notification_id = f"{record_id}:0"
    payload = _payload(
        notification_id,
        "points.adjusted",
        project,
        user_id,
        None,
        delta,
        now,
        now,
        {"delta": delta, "balance": balance, "reason": reason, "actor": actor},
    )
    return outbox_document(project, user_id, payload, now)


def outbox_document(
    project: str, user_id: str, payload: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        "_id": payload["id"],
        "project": project,
        "userId": user_id,
        "type": payload["type"],
        "payload": dict(payload),
        "status": "pending",
        "createdAt": now,
    }


class Outbox:
    """Owner of `notifications`."""

    def __init__(self, db: Database[Any]) -> None:
        self._notifications = db["notifications"]

    def ensure_indexes(self) -> None:
        sync_indexes(
            self._notifications,
            [
                IndexModel(
                    [("status", ASCENDING), ("createdAt", ASCENDING)], name="status_created"
                ),
                IndexModel([("project", ASCENDING), ("userId", ASCENDING)], name="project_user"),
                IndexModel(
                    [("dispatchedAt", ASCENDING)],
                    expireAfterSeconds=int(KEEP_FOR.total_seconds()),
                    name="expires",
                ),
            ],
        )

    def insert(self, documents: Sequence[Mapping[str, Any]]) -> None:
        insert_missing(self._notifications, documents)

    def get(self, notification_id: str) -> dict[str, Any] | None:
        document = self._notifications.find_one({"_id": notification_id})
        return None if document is None else dict(document)

    def mark_dispatched(self, notification_ids: Sequence[str], now: datetime) -> None:
        if notification_ids:
            self._notifications.update_many(
                {"_id": {"$in": list(notification_ids)}},
                {"$set": {"status": "dispatched", "dispatchedAt": now}},
            )

    def pending(self, older_than: datetime) -> Iterator[dict[str, Any]]:
        cursor = self._notifications.find(
            {"status": "pending", "createdAt": {"$lte": older_than}}
        ).sort("createdAt", ASCENDING)
        for document in cursor:
            yield dict(document)

    def backlog(self) -> tuple[int, datetime | None]:
        """How many notifications wait to be dispatched, and since when the oldest has
        (both served by status_created; for the on-call metrics)."""
        count = self._notifications.count_documents({"status": "pending"})
        oldest = self._notifications.find_one(
            {"status": "pending"}, {"_id": 0, "createdAt": 1}, sort=[("createdAt", ASCENDING)]
        )
        return count, None if oldest is None else oldest["createdAt"]

    def erase_user(self, project: str, user_id: str) -> int:
        """Delete the user's notifications, payloads included (rules.usecases.erasure); how many
        there were."""
        mine = {"project": project, "userId": user_id}
        return self._notifications.delete_many(mine).deleted_count


class Deliveries:
    """Owner of `deliveries`: one per (notification, webhook), with every attempt."""

    def __init__(self, db: Database[Any]) -> None:
        self._deliveries = db["deliveries"]

    def ensure_indexes(self) -> None:
        sync_indexes(
            self._deliveries,
            [
                IndexModel(
                    [("project", ASCENDING), ("webhookId", ASCENDING), ("createdAt", DESCENDING)],
                    name="project_webhook_created",
                ),
                IndexModel([("project", ASCENDING), ("userId", ASCENDING)], name="project_user"),
                IndexModel([("status", ASCENDING), ("dueAt", ASCENDING)], name="status_due"),
                IndexModel(
                    [("createdAt", ASCENDING)],
                    expireAfterSeconds=int(KEEP_FOR.total_seconds()),
                    name="expires",
                ),
            ],
        )

    def create(
        self, notification: Mapping[str, Any], webhook_id: str, now: datetime
    ) -> dict[str, Any]:
        created = self.create_many([(notification, webhook_id)], now)
        return created[0] if created else {}  # ({}: erased meanwhile)

    def create_many(
        self, pairs: Sequence[tuple[Mapping[str, Any], str]], now: datetime
    ) -> list[dict[str, Any]]:
        """The deliveries of (notification, webhook id) pairs, in their order: created when
        missing (one insert), as stored when already there (one read), so that creating them
        again, after a crash or by the sweep, leaves each delivery's progress alone."""
        documents = [
            {
                "_id": f"{notification['_id']}:{webhook_id}",
                "project": notification["project"],
                "userId": notification["userId"],
                "webhookId": webhook_id,
                "notificationId": notification["_id"],
                "type": notification["type"],
                "status": "pending",
                "attempts": [],
                "dueAt": now,  # when the next attempt should have started
                "createdAt": now,
                "updatedAt": now,
            }
            for notification, webhook_id in pairs
        ]
        if not documents:
            return []
        insert_missing(self._deliveries, documents)
        ids = [document["_id"] for document in documents]
        stored = {d["_id"]: dict(d) for d in self._deliveries.find({"_id": {"$in": ids}})}
        return [stored[delivery_id] for delivery_id in ids if delivery_id in stored]

    def get(self, delivery_id: str) -> dict[str, Any] | None:
        document = self._deliveries.find_one({"_id": delivery_id})
        return None if document is None else dict(document)

    def lease(self, delivery_id: str, now: datetime, hold: timedelta) -> dict[str, Any] | None:
        """Take the right to attempt: None when it succeeded, failed for good, or another
        worker holds it (a duplicated job waits its turn instead of sending twice). The
        document returned carries the lease's `leaseToken`."""
        token = uuid.uuid4().hex
        document = self._deliveries.find_one_and_update(
            {
                "_id": delivery_id,
                "status": "pending",
                "$or": [{"leaseUntil": {"$exists": False}}, {"leaseUntil": {"$lte": now}}],
            },
            {"$set": {"leaseUntil": now + hold, "leaseToken": token}},
        )
        return None if document is None else {**document, "leaseToken": token}

    def record_attempt(
        self,
        delivery_id: str,
        token: str,
        attempt: Mapping[str, Any],
        status: str,
        due: datetime | None,
        now: datetime,
    ) -> bool:
        """Log an attempt and release the lease, if the lease is still ours (a holder that
        outlived its lease must not overwrite what the next holder recorded)."""
        changes: dict[str, Any] = {"status": status, "updatedAt": now}
        if due is not None:
            changes["dueAt"] = due
        result = self._deliveries.update_one(
            {"_id": delivery_id, "leaseToken": token, "status": "pending"},
            {
                "$push": {"attempts": dict(attempt)},
                "$set": changes,
                "$unset": {"leaseUntil": "", "leaseToken": ""},
            },
        )
        return result.modified_count == 1

    def overdue(self, before: datetime) -> Iterator[dict[str, Any]]:
        """Pending deliveries whose next attempt should have started before `before`: their
        job was lost (Redis restarted empty, a worker was killed mid-attempt, a process
        holding an in-memory queue stopped)."""
        cursor = self._deliveries.find({"status": "pending", "dueAt": {"$lte": before}}).sort(
            "dueAt", ASCENDING
        )
        for document in cursor:
            yield dict(document)

    def for_webhook(
        self, project: str, webhook_id: str, limit: int, before: datetime | None = None
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"project": project, "webhookId": webhook_id}
        if before is not None:
            query["createdAt"] = {"$lt": before}
        cursor = self._deliveries.find(query, {"project": False}).sort("createdAt", DESCENDING)
        return [dict(document) for document in cursor.limit(limit)]

    def erase_user(self, project: str, user_id: str) -> int:
        """Delete the user's deliveries (rules.usecases.erasure); how many there were."""
        return self._deliveries.delete_many({"project": project, "userId": user_id}).deleted_count
