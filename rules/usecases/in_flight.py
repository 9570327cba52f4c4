"""The pending records this process has saved and is finishing right now.

Every load of a user finishes the records it finds pending (rules.usecases.unit_of_work), young
ones included, so that a crashed request is made whole by the next one. But most young records
belong to a request that has not crashed: it saved them a moment ago and is writing their
documents now. Finishing them a second time is harmless (the writes are idempotent) and, when
requests of one process keep meeting on the same users (8 threads posting batches over 100
users: 85 of every 100 events were finished twice), it is a large part of what a batch costs.

So a request leaves alone the records that another request of this very process holds: that
request is alive and finishes them, and should it fail before, it lets go of them first (it
releases them in a `finally`). Records held by other processes are finished as before, and so
are records carrying an idempotency key the loading request is about to check:
its check must see every earlier application of its key completed (docs/architecture.md,
"exactly once"). The recovery sweep finishes everything, so a request stuck for good leaves its
records to the sweep's grace, as one of another process would.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from typing import Any

_held: set[Any] = set()  # record ids
_lock = threading.Lock()


def hold(records: Sequence[Mapping[str, Any]]) -> None:
    """Mark saved `records` as this process's own: the caller finishes them, then `release`s
    them, whatever stopped it (in a `finally`)."""
    with _lock:
        _held.update(record["id"] for record in records)


def release(records: Sequence[Mapping[str, Any]]) -> None:
    with _lock:
        _held.difference_update(record["id"] for record in records)


def left_to_owner(record: Mapping[str, Any], keys: Collection[str]) -> bool:
    """Whether a loader checking `keys` may leave this pending record to the request of this
    process that holds it."""
    with _lock:
        held = record["id"] in _held
    if not held:
        return False
    key = record.get("idempotency")
    return key is None or key["key"] not in keys
