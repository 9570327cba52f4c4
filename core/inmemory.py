"""The in-memory MongoDB of the embedded default and the tests: mongomock, made as strict as a
real server where it matters to Laurel.

- Every document, filter and update is BSON-encoded before mongomock sees it, so numpy
  scalars, `datetime.date`, `Decimal` or integers beyond 64 bits fail here exactly as they would
  against `mongod`, whatever mongomock itself checks.
- Writes and reads run under one process-wide lock: a real server applies each
  single-document write atomically, and the conditional updates of `rules.users` rely on that.
  mongomock alone interleaves the read and the write of `update_one` across threads, and it
  applies an update operator by operator to the stored document, so an unguarded read could
  see a `$set` without the `$push` of the same update.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

import bson
import mongomock
from bson.errors import InvalidDocument
from pymongo.database import Database

from core import pointindex

_LOCK = threading.RLock()
_PLAIN = (int, float, str, bool)


def in_memory_database(name: str) -> Database[Any]:
    """A fresh, empty in-memory database that rejects what real MongoDB would reject."""
    return cast("Database[Any]", GuardedDatabase(mongomock.MongoClient(tz_aware=True)[name]))


def ensure_bson(*documents: Mapping[str, Any]) -> None:
    """Raise `bson.errors.InvalidDocument` (or OverflowError) as pymongo would when sending.

    Stricter than pymongo in one way: subclasses of int, float and str (numpy.float64 is a
    float) are refused too, so numpy scalars never reach a document whatever their type.
    """
    for document in documents:
        bson.encode(document)
        _refuse_lookalikes(document)


def _refuse_lookalikes(value: Any) -> None:
    if isinstance(value, Mapping):
        for item in value.values():
            _refuse_lookalikes(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_lookalikes(item)
    elif isinstance(value, int | float | str) and type(value) not in _PLAIN:
        raise InvalidDocument(
            f"cannot store {value!r} of type {type(value).__module__}.{type(value).__name__}: "
            "convert it to a plain int, float or str first"
        )


class GuardedDatabase:
    def __init__(self, database: Any) -> None:
        self._database = database
        self._collections: dict[str, GuardedCollection] = {}

    def __getitem__(self, name: str) -> GuardedCollection:
        return self.get_collection(name)

    def get_collection(self, name: str, **_options: Any) -> GuardedCollection:
        if name not in self._collections:
            collection = self._database[name]
            # Point queries (by _id, by a unique key) cost the same at any collection size.
            pointindex.attach(collection)
            self._collections[name] = GuardedCollection(collection)
        return self._collections[name]

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._database, name)
        if isinstance(attribute, mongomock.Collection):
            return self.get_collection(name)
        return attribute


_READS = frozenset({"find_one", "count_documents", "estimated_document_count", "distinct"})


class GuardedCollection:
    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if name not in _READS:
            return attribute

        def read(*args: Any, **kwargs: Any) -> Any:
            with _LOCK:
                return attribute(*args, **kwargs)

        return read

    def find(self, *args: Any, **kwargs: Any) -> GuardedCursor:
        return GuardedCursor(self._collection.find(*args, **kwargs))

    def aggregate(self, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return list(self._collection.aggregate(*args, **kwargs))

    def _write(
        self, method: str, documents: Iterable[Mapping[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        ensure_bson(*documents)
        with _LOCK:
            return getattr(self._collection, method)(*args, **kwargs)

    def insert_one(self, document: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        return self._write("insert_one", [document], document, *args, **kwargs)

    def insert_many(self, documents: Iterable[Mapping[str, Any]], *args: Any, **kwargs: Any) -> Any:
        documents = list(documents)
        return self._write("insert_many", documents, documents, *args, **kwargs)

    def replace_one(
        self, filter: Mapping[str, Any], replacement: Mapping[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        return self._write(
            "replace_one", [filter, replacement], filter, replacement, *args, **kwargs
        )

    def update_one(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        return self._write("update_one", [filter, update], filter, update, *args, **kwargs)

    def update_many(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        return self._write("update_many", [filter, update], filter, update, *args, **kwargs)

    def find_one_and_update(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        return self._write("find_one_and_update", [filter, update], filter, update, *args, **kwargs)

    def find_one_and_replace(
        self, filter: Mapping[str, Any], replacement: Mapping[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        return self._write(
            "find_one_and_replace", [filter, replacement], filter, replacement, *args, **kwargs
        )

    def find_one_and_delete(self, filter: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        return self._write("find_one_and_delete", [filter], filter, *args, **kwargs)

    def delete_one(self, filter: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        return self._write("delete_one", [filter], filter, *args, **kwargs)

    def delete_many(self, filter: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        return self._write("delete_many", [filter], filter, *args, **kwargs)

    def bulk_write(self, *_args: Any, **_kwargs: Any) -> Any:
        raise NotImplementedError("bulk_write bypasses the BSON guard; use the single writes")


class GuardedCursor:
    """mongomock's cursor reads the whole result on the first `next`: do that under the lock,
    once. (mongomock itself slices its result list again at every `next`, which makes reading
    a large collection quadratic; iterating our own copy keeps it linear.)"""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._results: Iterator[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._cursor, name)
        if not callable(attribute):
            return attribute

        def chained(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            return self if result is self._cursor else result

        return chained

    def __iter__(self) -> GuardedCursor:
        return self

    def __next__(self) -> Any:
        if self._results is None:
            with _LOCK:
                # The whole result, computed once (mongomock's own `next` would slice it anew
                # for every document it hands out).
                self._results = iter(list(self._cursor._compute_results(with_limit_and_skip=True)))
        return next(self._results)
