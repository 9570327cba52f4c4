"""mongomock's single-document reads and writes, without its per-document deep copies.

mongomock copies a document three times per read (`_copy_field`, then
`make_datetime_timezone_aware_in_document`, each a recursive walk with `copy.copy` on every
leaf) and deep-copies the whole stored document (`copy.deepcopy`) before every update, to
roll it back should a unique index refuse the change. On the request path of an event (one
user document of a few kilobytes, read and updated twice) those copies were most of the
store's time. The functions here do what mongomock does for `find_one`, `update_one` and
inserts, step by step and with mongomock's own helpers for everything but the copies, which
are done by a walk that copies dicts and lists and hands back the immutable leaves as they
are (what `copy.copy` of a str, int or ObjectId amounts to). The update operators of the
request path are applied by core.operators onto a new document, which replaces the stored
one once it passes the checks (no copy of the old one needed to undo it); the unique indexes
are checked again only when the update changed one of their keys.
tests/unit/core/test_fastpath.py checks on random operation sequences that they answer
exactly as plain mongomock does.

Two deliberate differences, towards a real server: an update that fails half-way (a `$inc`
of a string after a `$set` of another field) leaves the document as it was, where mongomock
keeps the operators applied before the failing one; and `$pull` removes the elements its
condition matched, where mongomock removes, for each, the first element equal to it in
Python (with `[true, 1, 1.0]` and `{"$gte": 1}`, MongoDB and this module keep `[true]`,
mongomock `[1.0]`). mongomock's own paths (see below) keep its behaviour.

core.inmemory calls these (and core.fastinserts' inserts) under its lock, after its own checks;
anything they do not cover (projections, sorts, upserts that insert, update pipelines,
options) goes to mongomock itself.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import mongomock.collection
import mongomock.helpers
import mongomock.results
from bson import ObjectId
from pymongo.errors import WriteError

from core import docsizes, operators, pointindex

# mongomock is partly typed, its internals not at all.
_mongomock: Any = mongomock.collection
_helpers: Any = mongomock.helpers
_results: Any = mongomock.results

# Leaves mongomock's copies hand back equal and unshared: immutable values.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), ObjectId, bytes})
# Unique-key values compared as they are (`object`: the missing-field marker).
_KEYS = _IMMUTABLE | {datetime, object}
_MISSING: Any = object()
_utc = _helpers.utc
_patch_leaf: Callable[[Any], Any] = _helpers.patch_datetime_awareness_in_document

# Checks a stored document before a write is kept (core.inmemory: the 16 MiB limit), given a
# bound of its BSON size (None: unknown); raises to refuse it, and the store is left as it was.
# Returns a bound of its size (core.docsizes).
Check = Callable[[Mapping[str, Any], int | None], int]


def copy_out(value: Any, tz_aware: bool) -> Any:
    """What mongomock's `find` hands out for a stored document: `_copy_field` (dicts, SON and
    OrderedDict become dicts, tuples stay, anything else `copy.copy`), then, on a tz-aware
    client, datetimes in UTC."""
    kind = type(value)
    if kind is dict:
        return {
            key: item if type(item) in _IMMUTABLE else copy_out(item, tz_aware)
            for key, item in value.items()
        }
    if kind is list:
        return [item if type(item) in _IMMUTABLE else copy_out(item, tz_aware) for item in value]
    if kind in _IMMUTABLE:
        return value
    if kind is datetime:
        return _aware(value) if tz_aware else value
    copied = _mongomock._copy_field(value, dict)
    return _helpers.make_datetime_timezone_aware_in_document(copied) if tz_aware else copied


# The last stored datetime read out, and as what: a document holds the same moment in many
# fields (one tuple, replaced whole, so that threads read a pair that goes together).
_last_aware: tuple[object, datetime] = (None, datetime.min)


def _aware(value: datetime) -> datetime:
    """A stored (naive UTC) datetime as a tz-aware client reads it."""
    global _last_aware
    last = _last_aware
    if last[0] is value:
        return last[1]
    aware = value.replace(tzinfo=_utc)
    _last_aware = (value, aware)
    return aware


def _patch(value: Any) -> Any:
    """mongomock's `patch_datetime_awareness_in_document` (what it stores or matches:
    datetimes naive UTC, to the millisecond; tuples as lists), walking dicts and lists
    without its isinstance tests of every value."""
    kind = type(value)
    if kind is dict:
        # Immutable leaves (most values) are kept without a call.
        return {
            key: item if type(item) in _IMMUTABLE else _patch(item) for key, item in value.items()
        }
    if kind is list:
        return [item if type(item) in _IMMUTABLE else _patch(item) for item in value]
    if kind in _IMMUTABLE:
        return value
    if kind is datetime:  # mongomock's own conversion, without its walk to get here
        millis = (value.microsecond // 1000) * 1000
        if value.tzinfo:
            return (value - value.utcoffset()).replace(tzinfo=None, microsecond=millis)
        return value.replace(microsecond=millis)
    return _patch_leaf(value)


def _snapshot(value: Any) -> Any:
    """An independent copy of a stored value, of the same types (what `copy.deepcopy` gives
    for the values a store holds)."""
    kind = type(value)
    if kind is dict:
        return {
            key: item if type(item) in _IMMUTABLE else _snapshot(item)
            for key, item in value.items()
        }
    if kind is list:
        return [item if type(item) in _IMMUTABLE else _snapshot(item) for item in value]
    if kind in _IMMUTABLE or kind is datetime:
        return value
    if kind is OrderedDict:
        return OrderedDict((key, _snapshot(item)) for key, item in value.items())
    return copy.deepcopy(value)


def find_one(collection: Any, filter: Mapping[str, Any]) -> Any:
    """mongomock's `find_one(filter)`: the first match in store order, copied out."""
    document = pointindex.attach(collection).first(_patch(filter))
    return None if document is None else copy_out(document, collection.codec_options.tz_aware)


def find(cursor: Any) -> list[Any]:
    """What mongomock's `cursor` hands out, all at once: copied out here when it asks for whole
    documents in store order (no sort, projection, skip or limit), else by mongomock."""
    if cursor._sort or cursor._projection is not None or cursor._skip or cursor._limit:
        return list(cursor._compute_results(with_limit_and_skip=True))
    collection = cursor.collection
    tz_aware = collection.codec_options.tz_aware
    return [copy_out(document, tz_aware) for document in collection._iter_documents(cursor._spec)]


def update_one(
    collection: Any,
    filter: Mapping[str, Any],
    update: Mapping[str, Any],
    check: Check,
    forms: Sequence[Any] = (None, None),
    size: int | None = None,
) -> Any:
    """mongomock's `update_one(filter, update)` when a document matches; None when none does
    (the caller then lets mongomock answer: nothing, or an upsert). `forms`: `_patch` of the
    filter and of the update, where the caller has made them (None where not); `size`: the
    length of the update's BSON encoding, where the caller knows it."""
    if not _operators_first(update):
        _mongomock.validate_ok_for_update(update)  # raises what mongomock raises
    spec, document = forms
    spec = _patch(filter) if spec is None else spec
    document = _patch(update) if document is None else document
    if _server_version(collection.database.client) < [5]:
        return None  # mongomock refuses empty operators there: let it
    existing = pointindex.attach(collection).first(spec)
    if existing is None:
        return None
    result = operators.updated(existing, document)
    if result is None:
        modified = _update_in_place(collection, existing, spec, document, check)
    else:
        growth = None if size is None else docsizes.growth(document, size)
        modified = _replace(collection, existing, result, check, growth)
    return _results.UpdateResult(
        {
            "connectionId": collection.database.client._id,
            "err": None,
            "n": 1,
            "nModified": modified,
            "ok": 1,
            "upserted": None,
            "updatedExisting": True,
        },
        acknowledged=True,
    )


def _operators_first(update: Any) -> bool:
    """An update mongomock's `validate_ok_for_update` takes: a dict led by an operator."""
    if type(update) is not dict or not update:
        return False
    first = next(iter(update))
    return type(first) is str and first[:1] == "$"


def _server_version(client: Any) -> list[int]:
    """mongomock's `server_info()["versionArray"]`, read once per client."""
    version: list[int] | None = client.__dict__.get("_laurel_version_array")
    if version is None:
        version = client._laurel_version_array = client.server_info()["versionArray"]
    return version


def _update_in_place(
    collection: Any, existing: dict[str, Any], spec: Any, update: Any, check: Check
) -> int:
    """mongomock applies the update to the stored document; undone if it fails."""
    before = _snapshot(existing)
    pointindex.attach(collection).mark(before["_id"])  # to be indexed again, as changed
    documents = collection._store._documents
    docsizes.forget(documents, existing)
    try:
        if operators.plain_pulls(update):
            operators.pull(existing, update["$pull"])
        else:
            collection._apply_update_document(existing, spec, update, False)
        if existing == before:
            return 0
        _refuse_changed_id(before, existing)
        collection._ensure_uniques(existing)
        docsizes.remember(documents, existing, check(existing, None))
    except BaseException:
        collection._store[before["_id"]] = before  # as mongomock rolls back, and as mongod
        raise
    return 1


def _replace(
    collection: Any,
    existing: dict[str, Any],
    result: dict[str, Any],
    check: Check,
    growth: int | None,
) -> int:
    """Store `result` (core.operators' update of `existing`, which can add at most `growth`
    bytes to it, None if unknown) in its place; `existing` back if the result is refused.
    mongomock checks unique indexes with the new document stored."""
    # The store's own dict, past mongomock's reader-writer lock (core.inmemory's lock is held):
    # a value replaced under an existing key disturbs no reader.
    documents = collection._store._documents
    known = None if growth is None else docsizes.bound(documents, existing)
    estimate = None if known is None or growth is None else known + growth
    documents[existing["_id"]] = result
    if result == existing:
        if estimate is not None:
            docsizes.remember(documents, result, estimate)
        return 0
    try:
        _refuse_changed_id(existing, result)
        if _unique_keys_changed(collection, existing, result):
            collection._ensure_uniques(result)
        docsizes.remember(documents, result, check(result, estimate))
    except BaseException:
        documents[existing["_id"]] = existing
        raise
    return 1


def _refuse_changed_id(before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    old, new = before.get("_id"), after.get("_id")
    if old is not new and old != new:  # (the same object: most updates keep it)
        raise WriteError(
            "After applying the update, the (immutable) field '_id' was found to have "
            f"been altered to _id: {after.get('_id')}"
        )


def _unique_keys_changed(
    collection: Any, before: Mapping[str, Any], after: Mapping[str, Any]
) -> bool:
    """Whether the update may have changed what a unique index holds. Unchanged plain
    top-level values of every unique index's fields cannot create a duplicate the stored
    document did not already have (and the store has none); anything else is checked."""
    for index in collection._store.indexes.values():
        if not index.get("unique"):
            continue
        if "partialFilterExpression" in index:
            return True
        for field, _ in index["key"]:
            old, new = before.get(field, _MISSING), after.get(field, _MISSING)
            if "." in field or type(old) is not type(new) or type(new) not in _KEYS or old != new:
                return True
    return False
