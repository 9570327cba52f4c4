"""Dispatching notifications (jobs.webhooks.dispatch): a batch's notifications take the same
few store operations as one, each (notification, webhook) pair gets one delivery however often
it is dispatched, and a queue that fails half-way leaves only the unqueued ones pending."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from core import clock
from core.inmemory import in_memory_database
from jobs.queue import QueueUnavailable
from jobs.webhooks import dispatch
from rules.stores.indexes import ensure_indexes
from rules.stores.outbox import Outbox, outbox_document
from rules.stores.webhooks import WebhookStore
from tests.support.watched import CountingDatabase

PROJECT = "p"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Queue:
    """Records what is enqueued; refuses from the `fail_at`-th job on."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.jobs: list[str] = []
        self.fail_at = fail_at

    def enqueue(self, job: Any, *args: Any, **options: Any) -> None:
        if self.fail_at is not None and len(self.jobs) + 1 >= self.fail_at:
            raise QueueUnavailable("down")
        self.jobs.append(args[0])


@pytest.fixture(autouse=True)
def held_clock() -> Any:
    """The outbox and the deliveries expire (TTL) on Laurel's clock: hold it at NOW."""
    with clock.using(clock.frozen(NOW)):
        yield


@pytest.fixture
def db() -> Any:
    store = in_memory_database("dispatch")
    ensure_indexes(store)
    secret = "s" * 32
    hooks = WebhookStore(store)
    hooks.save(PROJECT, "all", {"url": "https://a.example/h", "secret": secret,
               "events": ["event.rewarded", "level.changed"]}, NOW)  # fmt: skip
    hooks.save(PROJECT, "levels", {"url": "https://b.example/h", "secret": secret,
               "events": ["level.changed"]}, NOW)  # fmt: skip
    return store


def notifications(db: Any, types: list[str], first: int = 0) -> list[dict[str, Any]]:
    documents = [
        outbox_document(PROJECT, f"u{n}", {"id": f"r{n}:0", "type": kind}, NOW)
        for n, kind in enumerate(types, start=first)
    ]
    Outbox(db).insert(documents)
    return documents


def test_each_notification_reaches_the_webhooks_subscribed_to_its_type(db: Any) -> None:
    sent = notifications(db, ["event.rewarded", "level.changed", "event.rewarded"])
    queue = Queue()

    assert dispatch(db, queue, sent) == 4

    assert sorted(queue.jobs) == ["r0:0:all", "r1:0:all", "r1:0:levels", "r2:0:all"]
    assert db.deliveries.count_documents({"status": "pending"}) == 4
    assert db.notifications.count_documents({"status": "dispatched"}) == 3


def test_a_batch_of_notifications_takes_as_many_store_operations_as_one(db: Any) -> None:
    counted = CountingDatabase(db)
    dispatch(counted, Queue(), notifications(db, ["level.changed"]))  # type: ignore[arg-type]
    one = Counter(counted.log)
    counted.log.clear()
    many = notifications(db, ["level.changed", "event.rewarded"] * 25, first=1)
    queue = Queue()
    dispatch(counted, queue, many)  # type: ignore[arg-type]

    assert len(queue.jobs) == 75
    assert one == {
        "webhooks.find": 1,
        "deliveries.insert_many": 1,
        "deliveries.find": 1,
        "notifications.update_many": 1,
    }
    assert Counter(counted.log) == one


def test_dispatching_again_queues_the_pending_deliveries_without_creating_more(db: Any) -> None:
    sent = notifications(db, ["level.changed"])
    dispatch(db, Queue(), sent)
    db.deliveries.update_one({"_id": "r0:0:all"}, {"$set": {"status": "succeeded"}})
    again = Queue()
    dispatch(db, again, sent)

    assert again.jobs == ["r0:0:levels"]  # the succeeded delivery is not sent again
    assert db.deliveries.count_documents({}) == 2


def test_a_queue_failing_half_way_leaves_only_the_unqueued_notifications_pending(
    db: Any,
) -> None:
    sent = notifications(db, ["event.rewarded", "level.changed", "event.rewarded"])
    queue = Queue(fail_at=3)  # r0's delivery and r1's first are queued, then Redis goes

    with pytest.raises(QueueUnavailable):
        dispatch(db, queue, sent)

    status = {d["_id"]: d["status"] for d in db.notifications.find()}
    assert status == {"r0:0": "dispatched", "r1:0": "pending", "r2:0": "pending"}
    retry = Queue()
    dispatch(db, retry, [n for n in sent if status[n["_id"]] == "pending"])
    assert sorted(retry.jobs) == ["r1:0:all", "r1:0:levels", "r2:0:all"]
    assert db.deliveries.count_documents({}) == 4
