"""mongomock's inserts (`insert_one`, `insert_many`) without its copies: core.fastpath's
way (see its docstring), for documents the store has checked as BSON already.
tests/unit/core/test_fastpath.py compares them with plain mongomock's on random operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import mongomock.collection
import mongomock.helpers
import mongomock.results
from bson import ObjectId
from bson.errors import InvalidDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError

from core import docsizes, pointindex
from core.fastpath import _IMMUTABLE, _patch  # the copies' walks, shared

# mongomock is partly typed, its internals not at all.
_mongomock: Any = mongomock.collection
_helpers: Any = mongomock.helpers
_results: Any = mongomock.results

# What core.storable's check found of a document: its stored form (None where it made none)
# and the length of its BSON encoding.
Checked = tuple[dict[str, Any] | None, int | None]


def insert_one(collection: Any, document: Any, checked: Checked = (None, None)) -> Any:
    """mongomock's `insert_one`; the caller has checked the document as BSON already."""
    _mongomock.validate_is_mutable_mapping("document", document)
    return _results.InsertOneResult(_insert(collection, document, *checked), acknowledged=True)


def insert_many(
    collection: Any,
    documents: Iterable[Any],
    ordered: bool = True,
    checked: Sequence[Checked] | None = None,
) -> Any:
    """mongomock's `insert_many`, with its BulkWriteError on duplicates; `checked`: what the
    caller's check found of each document."""
    if not isinstance(documents, Iterable) or not documents:
        raise TypeError("documents must be a non-empty list")
    documents = list(documents)
    for document in documents:
        if type(document) is not dict:
            _mongomock.validate_is_mutable_mapping("document", document)
    checked = checked if checked is not None else [(None, None)] * len(documents)
    ids, errors = [], []
    for index, document in enumerate(documents):
        try:
            ids.append(_insert(collection, document, *checked[index]))
        except WriteError as error:
            errors.append(
                {"index": index, "code": error.code, "errmsg": str(error), "op": document}
            )
            if ordered:
                break
    if errors:
        raise BulkWriteError({"writeErrors": errors, "nInserted": len(ids)})
    return _results.InsertManyResult(ids, acknowledged=True)


def _validate_fields(data: Mapping[str, Any]) -> None:
    """mongomock's `_validate_data_fields`: no null character in a field name at any depth of
    sub-documents, no `$` at the start of a top-level one."""
    _refuse_null_characters(data)
    _refuse_operator_names(data)


def _refuse_operator_names(data: Mapping[str, Any]) -> None:
    for key in data:
        if key.startswith("$"):
            raise InvalidDocument(
                f'Top-level field names cannot start with the "$" sign (found: {key})'
            )


def _refuse_null_characters(data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if "\0" in key:
            raise InvalidDocument(f"Field names cannot contain the null character (found: {key})")
        kind = type(value)
        if kind is dict or (
            kind not in _IMMUTABLE and kind is not list and isinstance(value, Mapping)
        ):
            _refuse_null_characters(value)


def _insert(
    collection: Any, data: Any, form: dict[str, Any] | None = None, size: int | None = None
) -> Any:
    """mongomock's `Collection._insert` of one document, less its BSON encoding (done by the
    caller) and its sweep of every expired document (only a clash with an expired document
    matters here, and that one is deleted, as the sweep would). `form`: `_patch(data)`, made
    by the caller's check (core.storable), which found every name a str without a null
    character, and `size` the length of its encoding; None where it did not."""
    if form is None:
        if not all(isinstance(key, str) for key in data):
            raise ValueError("Document keys must be strings")
        _validate_fields(data)
    else:
        _refuse_operator_names(data)
    if "_id" not in data:
        data["_id"] = ObjectId()
    if form is not None and "_id" not in form:  # (or added since the form was made)
        form["_id"] = data["_id"]  # an ObjectId, as `_patch` would copy it
        # Type byte, "_id" and its null, 12 bytes (an id of another type: size unknown).
        size = size + 17 if size is not None and type(data["_id"]) is ObjectId else None
    object_id = data["_id"]
    if isinstance(object_id, dict):
        object_id = _helpers.hashdict(object_id)
    store = collection._store
    documents = store._documents
    if object_id in documents:
        if not (store._ttl_indexes and pointindex.expired(store, documents[object_id])):
            raise DuplicateKeyError("E11000 Duplicate Key Error", 11000)
        del store[object_id]
    stored = _patch(data) if form is None else form
    # The store's own dict, past mongomock's reader-writer lock, as core.fastpath's `_replace`
    # does: core.inmemory's lock is held, and every read of the store takes it.
    documents[object_id] = stored
    try:
        collection._ensure_uniques(stored)
    except DuplicateKeyError:
        del store[object_id]
        raise
    if form is not None and size is not None:
        docsizes.remember(documents, stored, size)
    return data["_id"]
