"""Webhook delivery (DESIGN §7): dispatch notifications from the outbox, deliver them signed.

- `dispatch_effect(clients)` is the rules.service effect that dispatches a record's
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
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from pymongo.database import Database

from core.clients import Clients
from jobs.queue import JOB_TIMEOUT, RETRY_INTERVALS, JobQueue, queue_for, retries_left
from jobs.runtime import clients as job_clients
from rules.notifications import Deliveries, Outbox
from rules.service import Effect
from rules.webhooks import WebhookStore

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0  # seconds
READ_TIMEOUT = 10.0
LEASE = timedelta(seconds=JOB_TIMEOUT)
SWEEP_GRACE = timedelta(seconds=30)
USER_AGENT = "Laurel-Webhooks/1"


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; the queue retries the job."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def body_of(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def dispatch(db: Database[Any], queue: JobQueue, notification: Mapping[str, Any]) -> int:
    """Create the deliveries of one notification and queue them; returns how many queued.

    Raises when the queue is unreachable: the notification stays pending for the sweep."""
    now = datetime.now(UTC)
    deliveries = Deliveries(db)
    queued = 0
    for webhook in WebhookStore(db).active(notification["project"]):
        if notification["type"] not in webhook.events:
            continue
        delivery = deliveries.create(notification, webhook.webhook_id, now)
        if delivery.get("status") == "pending":
            queue.enqueue(deliver, delivery["_id"])
            queued += 1
    Outbox(db).mark_dispatched(notification["_id"], now)
    return queued


def dispatch_effect(clients: Clients) -> Effect:
    def dispatch_notifications(project: str, user_id: str, pending: Mapping[str, Any]) -> None:
        for notification in pending.get("notifications", []):
            dispatch(clients.mongo, queue_for(clients), notification)

    return dispatch_notifications


def sweep_notifications(clients: Clients, grace: timedelta = SWEEP_GRACE) -> int:
    """Dispatch notifications still pending after `grace`; returns how many were dispatched."""
    dispatched = 0
    for notification in Outbox(clients.mongo).pending(datetime.now(UTC) - grace):
        try:
            dispatch(clients.mongo, queue_for(clients), notification)
        except Exception:
            log.warning("cannot dispatch notification %s yet", notification["_id"], exc_info=True)
            break  # the queue is most likely down: the next sweep tries again
        dispatched += 1
    return dispatched


def deliver(delivery_id: str) -> str:
    """RQ job: one attempt at a delivery. Returns its status; raises DeliveryFailed to retry."""
    db = job_clients().mongo
    deliveries = Deliveries(db)
    delivery = deliveries.lease(delivery_id, datetime.now(UTC), LEASE)
    if delivery is None:
        return "skipped"  # succeeded, given up, or another worker is sending it right now
    notification = Outbox(db).get(delivery["notificationId"])
    webhook = WebhookStore(db).find(delivery["project"], delivery["webhookId"])
    if notification is None or webhook is None or not webhook.active:
        attempt = {"at": datetime.now(UTC), "error": "webhook deleted or inactive", "durationMs": 0}
        deliveries.record_attempt(delivery_id, attempt, "failed", datetime.now(UTC))
        return "failed"

    body = body_of(notification["payload"])
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Laurel-Delivery": delivery_id,
        "X-Laurel-Event": notification["type"],
        "X-Laurel-Signature": sign(webhook.secret, int(time.time()), body),
    }
    started = time.monotonic()
    attempt: dict[str, Any] = {"at": datetime.now(UTC)}
    try:
        response = requests.post(
            webhook.url,
            data=body,
            headers=headers,
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            allow_redirects=False,
        )
        attempt["statusCode"] = response.status_code
        ok = 200 <= response.status_code < 300
    except requests.RequestException as error:
        attempt["error"] = f"{type(error).__name__}: {error}"[:300]
        ok = False
    attempt["durationMs"] = round((time.monotonic() - started) * 1000)

    left = retries_left()
    last = left == 0 if left is not None else len(delivery["attempts"]) >= len(RETRY_INTERVALS)
    status = "succeeded" if ok else ("failed" if last else "pending")
    deliveries.record_attempt(delivery_id, attempt, status, datetime.now(UTC))
    if not ok:
        raise DeliveryFailed(
            f"delivery {delivery_id}: {attempt.get('statusCode', attempt.get('error'))}"
        )
    return status
