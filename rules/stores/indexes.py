"""Every collection rules/ owns declares its indexes; this creates them all (`db init`)."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from rules.stores.audit import AuditLog
from rules.stores.definitions import DefinitionStore
from rules.stores.eventlog import EventLog
from rules.stores.idempotency import IdempotencyStore
from rules.stores.ledger import Ledger
from rules.stores.outbox import Deliveries, Outbox
from rules.stores.users import UserStore
from rules.stores.webhooks import WebhookStore


def ensure_indexes(db: Database[Any]) -> list[str]:
    """Create the indexes of every collection rules/ owns; return the collection names."""
    owners = (
        DefinitionStore(db),
        UserStore(db),
        EventLog(db),
        Ledger(db),
        IdempotencyStore(db),
        WebhookStore(db),
        Outbox(db),
        Deliveries(db),
        AuditLog(db),
    )
    for owner in owners:
        owner.ensure_indexes()
    return sorted(db.list_collection_names())
