"""The in-memory MongoDB of the embedded default and the tests: mongomock, made as strict as a
real server where it matters to Laurel.

- Every document, filter and update is checked as BSON before mongomock sees it
  (core.storable), so numpy scalars, `datetime.date`, `Decimal` or integers beyond 64 bits
  fail here exactly as they would against `mongod`, whatever mongomock itself checks; and, as
  there, no document may pass 16 MiB of BSON, whether inserted, replaced or grown by an update
  (an update of the fast path encodes its result only when core.docsizes' bound of it does
  not settle that).
- Point reads, updates and inserts (`find_one`, `update_one` of an existing document,
  `insert_one`, `insert_many`) skip mongomock's deep copies (core.fastpath); the walk that
  checks a document also makes the copy they store or match with.
- Writes and reads run under one process-wide lock: a real server applies each
  single-document write atomically, and the conditional updates of `rules.stores.users` rely on
  that. mongomock alone interleaves the read and the write of `update_one` across threads, and it
  applies an update operator by operator to the stored document, so an unguarded read could
  see a `$set` without the `$push` of the same update.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import bson
import mongomock
from pymongo import IndexModel
from pymongo.database import Database
from pymongo.errors import OperationFailure, WriteError

from core import (
    bulkwrites,
    clock,
    docsizes,
    fastinserts,
    fastpath,
    pointindex,
    query_audit,
    server_rules,
    storable,
)
from core.storable import MAX_DOCUMENT_BYTES
from core.storable import ensure_bson as ensure_bson  # the store's check, for tests of others

_LOCK = threading.RLock()
_STORES_WHOLE = frozenset({"insert_one", "insert_many", "replace_one", "find_one_and_replace"})
_UPDATES = frozenset({"update_one", "update_many", "find_one_and_update"})


def in_memory_database(name: str) -> Database[Any]:
    """A fresh, empty in-memory database that rejects what real MongoDB would reject."""
    # mongomock's TTL indexes delete documents as of `mongomock.utcnow()` (its documented
    # hook): make that the one clock, so that a test which fixes the moment fixes what has
    # expired too, on whatever date the suite runs.
    mongomock.utcnow = _clock_utcnow  # type: ignore[attr-defined, unused-ignore]
    return cast("Database[Any]", GuardedDatabase(mongomock.MongoClient(tz_aware=True)[name]))


def _clock_utcnow() -> datetime:
    return clock.now().astimezone(UTC).replace(tzinfo=None)  # mongomock keeps naive UTC


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
            self._collections[name] = GuardedCollection(collection, self)
        return self._collections[name]

    def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        """mongomock knows `ping` only; `collMod` changing an index's TTL is what `db init`
        sends (core.indexes), so it is answered here as a server would."""
        if isinstance(command, Mapping) and "collMod" in command:
            return self._collection_mod(command)
        return self._database.command(command, *args, **kwargs)

    def _collection_mod(self, command: Mapping[str, Any]) -> dict[str, Any]:
        change = dict(command.get("index") or {})
        if set(change) != {"name", "expireAfterSeconds"}:
            raise NotImplementedError(f"collMod {command!r}: only an index's TTL is supported")
        with _LOCK:
            indexes = self._database[command["collMod"]]._store.indexes
            index = indexes.get(change["name"])
            if index is None:
                raise OperationFailure(f"cannot find index {change['name']!r}", code=27)
            if "expireAfterSeconds" not in index:
                raise OperationFailure("no expireAfterSeconds field to update", code=72)
            old = index["expireAfterSeconds"]
            index["expireAfterSeconds"] = change["expireAfterSeconds"]
        return {
            "expireAfterSeconds_old": old,
            "expireAfterSeconds_new": change["expireAfterSeconds"],
            "ok": 1.0,
        }

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._database, name)
        if isinstance(attribute, mongomock.Collection):
            return self.get_collection(name)
        return attribute


_READS = frozenset({"find_one", "count_documents", "estimated_document_count", "distinct"})


class GuardedCollection:
    def __init__(self, collection: Any, database: GuardedDatabase | None = None) -> None:
        self._collection = collection
        self._database = database

    @property
    def database(self) -> Any:
        return self._database if self._database is not None else self._collection.database

    def create_indexes(self, indexes: Iterable[IndexModel], *args: Any, **kwargs: Any) -> Any:
        """mongomock's `create_indexes` drops `partialFilterExpression`; its `create_index`
        keeps it (and, like a server, refuses a name taken by an index of other options)."""
        names = []
        for model in indexes:
            options = {k: v for k, v in model.document.items() if k != "key"}
            names.append(
                self._collection.create_index(list(model.document["key"].items()), **options)
            )
        return names

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if name not in _READS:
            return attribute

        def read(*args: Any, **kwargs: Any) -> Any:
            self._screen(name, args, kwargs)
            with _LOCK:
                return attribute(*args, **kwargs)

        return read

    def find(self, *args: Any, **kwargs: Any) -> GuardedCursor:
        hint = kwargs.pop("hint", None)
        cursor = GuardedCursor(self._collection.find(*args, **kwargs), self)
        cursor._filter = args[0] if args else kwargs.get("filter")
        cursor._sort_spec = kwargs.get("sort")
        return cursor.hint(hint) if hint is not None else cursor

    def aggregate(self, *args: Any, **kwargs: Any) -> Any:
        self._screen("aggregate", args, kwargs)
        with _LOCK:
            return list(self._collection.aggregate(*args, **kwargs))

    def find_one(self, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not isinstance(filter, Mapping):
            return self.__getattr__("find_one")(filter, *args, **kwargs)
        self._screen("find_one", (filter,), {})
        with _LOCK:
            return fastpath.find_one(self._collection, filter)

    def _write(
        self, method: str, documents: Iterable[Mapping[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        forms = storable.checked(documents)
        if method in _STORES_WHOLE:
            storable.refuse_sizes(forms)
        self._screen(method, args, kwargs)
        with _LOCK:
            fast = self._fast_write(method, args, kwargs, forms)
            if fast is not None:
                return fast
            # mongomock may change stored documents in place: their known sizes are void.
            docsizes.forget_all(self._collection._store._documents)
            if method not in _UPDATES:
                return getattr(self._collection, method)(*args, **kwargs)
            # mongod refuses an update whose resulting document passes 16 MiB, leaving the
            # stored one as it was: apply it, measure, and put the old one back if so.
            many = method == "update_many"
            before = list(self._collection.find(args[0])) if many else []
            if not many:
                found = self._collection.find_one(args[0])
                before = [found] if found is not None else []
            result = getattr(self._collection, method)(*args, **kwargs)
            upserted = getattr(result, "upserted_id", None)
            for doc_id in [d["_id"] for d in before] + ([upserted] if upserted is not None else []):
                self._refuse_grown(doc_id, next((d for d in before if d["_id"] == doc_id), None))
            return result

    def _fast_write(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], forms: list[Any]
    ) -> Any:
        """core.fastpath's answer to the write, None when it leaves it to mongomock. `forms`:
        what core.storable's check found of the write's documents (stored form, size)."""
        if method == "insert_one" and len(args) == 1 and not kwargs:
            return fastinserts.insert_one(self._collection, args[0], forms[0])
        if method == "insert_many" and len(args) == 1 and set(kwargs) <= {"ordered"}:
            return fastinserts.insert_many(self._collection, args[0], checked=forms, **kwargs)
        if method == "update_one" and len(args) == 2 and set(kwargs) <= {"upsert"}:
            (spec, _), (update, size) = forms
            return fastpath.update_one(
                self._collection, args[0], args[1], storable.refuse_large, (spec, update), size
            )
        return None

    def _refuse_grown(self, doc_id: Any, before: Mapping[str, Any] | None) -> None:
        store = self._collection._store
        if doc_id not in store or len(bson.encode(store[doc_id])) <= MAX_DOCUMENT_BYTES:
            return
        if before is None:
            self._collection.delete_one({"_id": doc_id})
        else:
            self._collection.replace_one({"_id": doc_id}, before)
        raise WriteError(
            f"Resulting document after update is larger than {MAX_DOCUMENT_BYTES}", code=17419
        )

    def _screen(self, method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        """Refuse what a server refuses (core.server_rules) and record the query's shape
        (core.query_audit) before mongomock runs `method` with these arguments."""
        hint = kwargs.get("hint")
        if hint is not None:
            server_rules.check_hint(self._collection, hint)
        if method in ("replace_one", "find_one_and_replace"):
            server_rules.check_replacement(args[1])
        elif method in ("update_one", "update_many", "find_one_and_update"):
            server_rules.check_update(args[1])
        if method in ("insert_one", "insert_many", "estimated_document_count"):
            return
        name = self._collection.name
        if method == "aggregate":
            pipeline = list(args[0] if args else kwargs.get("pipeline", []))
            match = pipeline[0].get("$match") if pipeline else None
            following = pipeline[1].get("$sort") if match and len(pipeline) > 1 else None
            query_audit.observe(name, "aggregate", match, following, hint)
            return
        if query_audit.recorder() is None:
            return  # (the rest refuses nothing: it only finds what `observe` records)
        filter = kwargs.get("filter")
        if method == "distinct":  # distinct(key, filter)
            filter = args[1] if len(args) > 1 else filter
        elif args:
            filter = args[0]
        query_audit.observe(
            name,
            method,
            filter,
            kwargs.get("sort"),
            hint,
            bool(kwargs.get("upsert")),
            distinct=(args[0] if args else kwargs.get("key")) if method == "distinct" else None,
        )

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

    def bulk_write(self, requests: Iterable[Any], ordered: bool = True) -> Any:
        """UpdateOne requests, each through `update_one`'s guard (core.bulkwrites)."""
        return bulkwrites.update_each(self.update_one, list(requests), ordered)


class GuardedCursor:
    """mongomock's cursor reads the whole result on the first `next`: do that under the lock,
    once. (mongomock itself slices its result list again at every `next`, which makes reading
    a large collection quadratic; iterating our own copy keeps it linear.)"""

    def __init__(self, cursor: Any, collection: GuardedCollection | None = None) -> None:
        self._cursor = cursor
        self._results: Iterator[Any] | None = None
        self._collection = collection
        self._filter: Mapping[str, Any] | None = None
        self._sort_spec: Any = None
        self._hint: Any = None

    def sort(self, key_or_list: Any, direction: Any = None) -> GuardedCursor:
        self._cursor.sort(key_or_list, direction)
        self._sort_spec = (
            [(key_or_list, direction or 1)] if isinstance(key_or_list, str) else (key_or_list)
        )
        return self

    def hint(self, index: Any) -> GuardedCursor:
        """mongomock ignores a hint; a server refuses one naming no index (server_rules)."""
        if self._collection is not None:
            server_rules.check_hint(self._collection._collection, index)
        self._cursor.hint(index)
        self._hint = index
        return self

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
            if self._collection is not None:
                query_audit.observe(
                    self._collection._collection.name,
                    "find",
                    self._filter,
                    self._sort_spec,
                    self._hint,
                )
            with _LOCK:
                # The whole result, computed once (mongomock's own `next` would slice it anew
                # for every document it hands out).
                self._results = iter(fastpath.find(self._cursor))
        return next(self._results)
