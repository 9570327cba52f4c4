"""What the rule stores share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.collection import Collection
from pymongo.cursor import Cursor
from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000


def insert_missing(collection: Collection[Any], documents: Sequence[Mapping[str, Any]]) -> None:
    """Insert documents whose `_id` is not stored yet; those already there are left alone.

    The ids are deterministic, so finishing a half-done event twice writes each document once.

    A write concern error is raised even when every document was inserted or already there:
    the majority did not confirm the inserts, so a failover may roll them back. The caller
    keeps its pending record (rules.usecases.unit_of_work), and the sweep writes the documents
    again.
    """
    if not documents:
        return
    try:
        collection.insert_many([dict(document) for document in documents], ordered=False)
    except BulkWriteError as error:
        others = [e for e in error.details.get("writeErrors", []) if e["code"] != DUPLICATE_KEY]
        if others or error.details.get("writeConcernErrors"):
            raise


def newest_first(
    collection: Collection[Any],
    project: str,
    user_id: str,
    moment: str,
    time_range: Mapping[str, datetime],
    event_id: str | None,
    index: str,
) -> Cursor[Any]:
    """A user's documents newest first by their `moment` field (then `_id`), `moment` within
    `time_range` (a `$lte`/`$gte` filter), along `index` (an eventId is filtered on the
    documents it finds); the caller reads as many as it needs (rules.usecases.history)."""
    query: dict[str, Any] = {"project": project, "userId": user_id}
    if time_range:
        query[moment] = dict(time_range)
    if event_id is not None:
        query["eventId"] = event_id
    return collection.find(query).sort([(moment, DESCENDING), ("_id", DESCENDING)]).hint(index)
