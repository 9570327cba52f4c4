"""Every collection rules/ owns declares its indexes; this creates them all (`db init`)."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from rules.audit import AuditLog
from rules.definition_store import DefinitionStore
from rules.eventlog import EventLog
from rules.idempotency import IdempotencyStore
from rules.ledger import Ledger
from rules.notifications import Deliveries, Outbox
from rules.users import UserStore
from rules.webhooks import WebhookStore


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
