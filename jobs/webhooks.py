"""Webhook delivery (docs/architecture.md#side-effects-and-jobs): dispatch notifications from the
outbox, deliver them signed.

- `dispatch_effect(clients)` is the rules.effects effect that dispatches a record's
  notifications right after they reach the outbox; `sweep_notifications` (scheduled) dispatches
  what stayed pending, e.g. while Redis was down.
- `deliver(delivery_id)` is the RQ job: one signed POST, every attempt logged on the delivery,
  an exception on failure so that the queue retries it on its schedule, the delivery marked
  failed after the last attempt. A lease on the delivery keeps a duplicated job from sending in
  parallel, and a succeeded delivery is never sent again.

Signature: `X-Laurel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.database import Database
from rq import get_current_job

from core import clock, metrics
from core.clients import Clients
from core.logs import request_id
from jobs import http_post
from jobs.delivery_slots import DEFER, free_slot, take_slot
from jobs.queue import (
    JOB_TIMEOUT,
    RETRY_INTERVALS,
    JobQueue,
    QueueUnavailable,
    RedisQueue,
    queue_for,
    retries_left,
)
from jobs.runtime import clients as job_clients
from rules.effects import Effect
from rules.stores.outbox import Deliveries, Outbox
from rules.stores.webhooks import WebhookStore

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0  # seconds
DEADLINE = 10.0  # seconds for a whole attempt: connect, send, read the answer
# A holder that outlives its lease may not record (rules.stores.outbox); the margin keeps an
# attempt bounded by the timeouts below well inside it.
LEASE = timedelta(seconds=JOB_TIMEOUT + 30)
SWEEP_GRACE = timedelta(seconds=30)
OVERDUE = timedelta(minutes=5)
USER_AGENT = "Laurel-Webhooks/1"


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; the queue retries the job."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def body_of(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def dispatch(db: Database[Any], queue: JobQueue, notifications: Sequence[Mapping[str, Any]]) -> int:
    """Create the deliveries of notifications (of one project) and queue them; returns how
    many were queued. The webhooks are read once, the deliveries created in one insert and
    the notifications marked dispatched in one update, whatever their number.

    Raises when the queue is unreachable: the notifications whose deliveries were not all
    queued stay pending for the sweep (those before them are marked dispatched)."""
    if not notifications:
        return 0
    now = clock.now()
    webhooks = WebhookStore(db).active(notifications[0]["project"])
    pairs = [(n, w.webhook_id) for n in notifications for w in webhooks if n["type"] in w.events]
    by_notification: dict[str, list[dict[str, Any]]] = {n["_id"]: [] for n in notifications}
    for delivery in Deliveries(db).create_many(pairs, now):
        by_notification[delivery["notificationId"]].append(delivery)
    queued, dispatched = 0, []
    try:
        for notification_id, deliveries in by_notification.items():
            for delivery in deliveries:
                if delivery.get("status") == "pending":
                    queue.enqueue(deliver, delivery["_id"], lane=delivery["project"])
                    queued += 1
            dispatched.append(notification_id)
    finally:
        Outbox(db).mark_dispatched(dispatched, now)
    return queued


class DispatchEffect:
    """The rules.effects effect that dispatches finished records' notifications; `many`
    dispatches a batch's in one go (see `dispatch`)."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients

    def __call__(self, project: str, user_id: str, pending: Mapping[str, Any]) -> None:
        self.many(project, [(user_id, pending)])

    def many(self, project: str, records: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        notifications = [n for _, pending in records for n in pending.get("notifications", [])]
        try:
            dispatch(self._clients.mongo, queue_for(self._clients), notifications)
        except QueueUnavailable:
            pass  # they wait in the outbox; the sweep dispatches them once Redis is back


def dispatch_effect(clients: Clients) -> Effect:
    return DispatchEffect(clients)


def sweep_notifications(clients: Clients, grace: timedelta = SWEEP_GRACE) -> int:
    """Dispatch notifications still pending after `grace`, and queue again the deliveries
    whose job was lost (overdue by more than OVERDUE); returns how many were queued."""
    db, queue = clients.mongo, queue_for(clients)
    now = clock.now()
    queued = 0
    try:
        for notification in Outbox(db).pending(now - grace):
            dispatch(db, queue, [notification])
            queued += 1
        for delivery in Deliveries(db).overdue(now - OVERDUE):
            lease = delivery.get("leaseUntil")
            if lease is not None and _aware(lease) > now:
                continue  # being attempted right now
            queue.enqueue(deliver, delivery["_id"], lane=delivery["project"])
            queued += 1
    except QueueUnavailable:
        log.warning("cannot queue webhook deliveries yet; the next sweep tries again")
    return queued


def deliver(delivery_id: str) -> str:
    """RQ job: one attempt at a delivery. Returns its status; raises to have it retried.

    On RQ, the attempt waits for one of its project's slots (jobs.delivery_slots): when they
    are all taken, the delivery is queued again a few seconds later ("deferred")."""
    job = get_current_job()
    if job is None:  # the in-process queue: it runs one delivery per project at a time itself
        return _deliver(delivery_id)
    delivery = Deliveries(job_clients().mongo).get(delivery_id)
    if delivery is None:
        return "skipped"
    token = uuid.uuid4().hex
    if not take_slot(job.connection, delivery["project"], token, LEASE):
        RedisQueue(job.connection).enqueue_later(DEFER, deliver, delivery_id)
        return "deferred"
    try:
        return _deliver(delivery_id)
    finally:
        free_slot(job.connection, delivery["project"], token)


def _deliver(delivery_id: str) -> str:
    db = job_clients().mongo
    deliveries = Deliveries(db)
    delivery = deliveries.lease(delivery_id, clock.now(), LEASE)
    if delivery is None:
        metrics.WEBHOOK_DELIVERIES.labels("skipped").inc()
        return "skipped"  # succeeded, given up, or another worker is sending it right now
    token = delivery["leaseToken"]
    left = retries_left()
    last = left == 0 if left is not None else len(delivery["attempts"]) >= len(RETRY_INTERVALS)
    started = time.monotonic()
    attempt: dict[str, Any] = {"at": clock.now()}
    outcome = "pending"
    try:
        outcome = _attempt(db, delivery, attempt)
    except BaseException:  # a bug, a database error, the job's timeout: logged, not shown
        log.exception("delivery %s: the attempt failed unexpectedly", delivery_id)
        attempt["error"] = "internal error; retried"
        raise
    finally:
        attempt["durationMs"] = round((time.monotonic() - started) * 1000)
        retryable = outcome == "pending"
        if retryable and last:
            outcome = "failed"
        due = None
        if outcome == "pending":
            wait = RETRY_INTERVALS[min(len(delivery["attempts"]), len(RETRY_INTERVALS) - 1)]
            due = clock.now() + timedelta(seconds=wait)
        deliveries.record_attempt(delivery_id, token, attempt, outcome, due, clock.now())
        metrics.WEBHOOK_DELIVERIES.labels("retried" if outcome == "pending" else outcome).inc()
        log.info("delivery %s: %s after %dms", delivery_id, outcome, attempt["durationMs"])
    if retryable:  # retried by the queue, or after the last one left in RQ's failed registry
        raise DeliveryFailed(
            f"delivery {delivery_id}: {attempt.get('statusCode', attempt.get('error'))}"
        )
    return outcome  # succeeded, or failed for a reason no retry can fix


def _attempt(db: Database[Any], delivery: Mapping[str, Any], attempt: dict[str, Any]) -> str:
    """POST once; fill in `attempt`; return succeeded, failed (never retried) or pending."""
    notification = Outbox(db).get(delivery["notificationId"])
    webhook = WebhookStore(db).find(delivery["project"], delivery["webhookId"])
    if notification is None or webhook is None or not webhook.active:
        attempt["error"] = "webhook deleted or inactive"
        return "failed"
    body = body_of(notification["payload"])
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Laurel-Delivery": delivery["_id"],
        "X-Laurel-Event": notification["type"],
        "X-Laurel-Signature": sign(webhook.secret, int(clock.timestamp()), body),
    }
    if request_id.get() is not None:  # the request that caused it, for the receiver's logs
        headers["X-Request-ID"] = str(request_id.get())
    try:
        status = http_post.post(
            webhook.url,
            body,
            headers,
            may_reach_private=job_clients().settings.webhooks_may_reach_private,
            connect_timeout=CONNECT_TIMEOUT,
            deadline=DEADLINE,
        )
    except http_post.PostFailed as failure:
        attempt["error"] = failure.message
        return "pending" if failure.retryable else "failed"
    attempt["statusCode"] = status
    return "succeeded" if 200 <= status < 300 else "pending"


def destination_refusal(url: str, may_reach_private: bool) -> str | None:
    """Why `url` must not be called (a message for the webhook's owner), or None. Unless
    allowed, a webhook may not reach loopback, private, link-local or otherwise reserved
    addresses (cloud metadata services, the database next door); an unresolvable name is left
    to the attempt to report."""
    try:
        target = http_post.parse_target(url)
        http_post.checked_address(target, may_reach_private)
    except http_post.PostFailed as failure:
        return None if failure.retryable else failure.message
    return None


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
