"""What the rule stores share: idempotent inserts and the list of index owners."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000


def insert_missing(collection: Collection[Any], documents: Sequence[Mapping[str, Any]]) -> None:
    """Insert documents whose `_id` is not stored yet; those already there are left alone.

    The ids are deterministic, so finishing a half-done event twice writes each document once.
    """
    if not documents:
        return
    try:
        collection.insert_many([dict(document) for document in documents], ordered=False)
    except BulkWriteError as error:
        others = [e for e in error.details.get("writeErrors", []) if e["code"] != DUPLICATE_KEY]
        if others:
            raise


def ensure_indexes(db: Database[Any]) -> list[str]:
    """Create the indexes of every collection rules/ owns; return the collection names."""
    from rules.definition_store import DefinitionStore
    from rules.eventlog import EventLog
    from rules.ledger import Ledger
    from rules.users import UserStore

    owners = (DefinitionStore(db), UserStore(db), EventLog(db), Ledger(db))
    for owner in owners:
        owner.ensure_indexes()
    return sorted(db.list_collection_names())
