"""Point lookups for the in-memory store at a cost that does not grow with the collection.

mongomock answers every query, and every unique-index check on a write, by testing the filter
against each stored document. The hot path of an event only ever asks for one document: by
`_id`, or by all the fields of a unique index (`project` + `userId` for a user). `PointIndex`
hands mongomock a short list of *candidates* for such filters instead of the whole collection;
mongomock still tests its full filter against each candidate, so query semantics stay
mongomock's own. The index only has to return a superset of the matches:

- by `_id`: the store's own dict is keyed by `_id`;
- by a unique index: a map from the indexed values to document ids, kept for indexes over
  top-level fields. A document whose indexed value is anything but a plain str, int, float or
  ObjectId (missing, null, an array, a sub-document, a date, NaN) goes to the index's
  *irregular* set, which is always among the candidates (an array matches any of its items,
  and null matches a missing field).

Documents change in place inside mongomock, so the map is refreshed lazily: each document
mongomock reads through the index, or stores or deletes, is marked dirty, and dirty documents
are re-indexed before the next lookup (mongomock checks unique indexes right after changing a
document, by another lookup, which therefore sees the change).

The index definitions are re-read when one is created or dropped (`_Indexes` counts the
changes), not at every lookup.

Attach with `attach(mongomock_collection)`; core.inmemory does that for every collection, below
its own checks, which therefore still see every call.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import mongomock
from bson import ObjectId
from mongomock import filtering

from core.pointmatch import matches
from core.rangeindex import RangeIndex

_PLAIN = (str, int, float, ObjectId)
_KEY_KINDS = frozenset({str, int, ObjectId})  # a key equal to one of these is the same key
# mongomock is untyped.
_applies: Callable[[Any, Any], bool] = filtering.filter_applies


def attach(collection: Any) -> PointIndex:
    """Serve `collection`'s point queries from a PointIndex (idempotent)."""
    index: PointIndex | None = collection.__dict__.get("_laurel_point_index")
    if index is None:
        index = PointIndex(collection)
        collection._laurel_point_index = index
        # An instance attribute shadows mongomock's method for this collection only.
        collection._iter_documents = index.iter_documents
    return index


def _plain(value: Any) -> bool:
    return isinstance(value, _PLAIN) and not (isinstance(value, float) and math.isnan(value))


def expired(store: Any, document: Mapping[str, Any]) -> bool:
    """Whether a TTL index of `store` has expired `document` (mongomock's sweep would delete
    it at its next read)."""
    # The clock mongomock's own sweep reads (core.inmemory points it at core.clock).
    now = mongomock.utcnow()  # type: ignore[attr-defined]  # untyped module attribute
    for index in store._ttl_indexes.values():
        try:
            expiry = int(index["expireAfterSeconds"])
        except ValueError:
            continue
        if len(index["key"]) > 1:
            continue
        field = next(iter(index["key"]))[0]
        if store._value_meets_expiry(document.get(field), expiry, now):
            return True
    return False


MAX_CHOICES = 1000  # combinations of `$in` values a lookup tries before it scans instead


def _choices(filter: Mapping[str, Any], field: str) -> list[Any] | None:
    """The values `filter` allows `field` to equal when they are plain values or null: one
    for an equality, those of an `$in` (a batch's users), None for anything else."""
    if field not in filter:
        return None
    value = filter[field]
    if isinstance(value, Mapping) and set(value) == {"$in"} and isinstance(value["$in"], list):
        values = value["$in"]
        return values if all(item is None or _plain(item) for item in values) else None
    if value is None or _plain(value):
        return [value]
    return None


class _Documents(OrderedDict[Any, Any]):
    """mongomock's document store, noting every `_id` stored or deleted, and each one's order
    of insertion (mongomock answers in that order)."""

    def __init__(self, documents: Mapping[Any, Any], index: PointIndex) -> None:
        self.index = index
        self.order: dict[Any, int] = {}
        self.next = 0
        self.sizes: dict[int, Any] = {}  # core.docsizes' bounds of documents' sizes
        super().__init__()
        for key, document in documents.items():
            self[key] = document

    def __setitem__(self, key: Any, value: Any) -> None:
        if key not in self.order:
            self.order[key] = self.next
            self.next += 1
        elif self.sizes:  # the bound of the document replaced: no longer of use
            self.sizes.pop(id(self.get(key)), None)
        super().__setitem__(key, value)
        self.index.mark(key)

    def __delitem__(self, key: Any) -> None:
        if self.sizes:
            self.sizes.pop(id(self.get(key)), None)
        super().__delitem__(key)
        self.order.pop(key, None)
        self.index.mark(key)


class _Indexes(dict[str, Any]):
    """mongomock's index definitions of a collection (name -> definition), counting the changes
    mongomock makes (it sets and deletes names, and replaces the whole dict to drop them all),
    so that a lookup re-reads them only when one was created or dropped."""

    version = 0

    def __setitem__(self, name: str, definition: Any) -> None:
        self.version += 1
        super().__setitem__(name, definition)

    def __delitem__(self, name: str) -> None:
        self.version += 1
        super().__delitem__(name)

    def pop(self, *arguments: Any) -> Any:
        self.version += 1
        return super().pop(*arguments)

    def clear(self) -> None:
        self.version += 1
        super().clear()


class _UniqueKeys:
    """One unique index over top-level fields: indexed values -> `_id`s."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.ids: dict[tuple[Any, ...], set[Any]] = {}
        self.irregular: set[Any] = set()
        self.key_of: dict[Any, tuple[Any, ...] | None] = {}  # _id -> its key (None: irregular)

    def remove(self, document_id: Any) -> None:
        if document_id not in self.key_of:
            return
        key = self.key_of.pop(document_id)
        if key is None:
            self.irregular.discard(document_id)
            return
        bucket = self.ids[key]
        bucket.discard(document_id)
        if not bucket:
            del self.ids[key]

    def reindex(self, document_id: Any, document: Mapping[str, Any] | None) -> None:
        """Index `document_id` again, as `document` (None: deleted); a document still holding
        the str, int or ObjectId values it is indexed by (most reads and updates) stays."""
        if document is not None and self.key_of.get(document_id) is not None:
            values = tuple(document.get(field, None) for field in self.fields)
            if values == self.key_of[document_id] and _KEY_KINDS.issuperset(map(type, values)):
                return
        self.remove(document_id)
        if document is not None:
            self.add(document_id, document)

    def add(self, document_id: Any, document: Mapping[str, Any]) -> None:
        values = tuple(document.get(field, None) for field in self.fields)
        if all(_plain(value) for value in values):
            self.ids.setdefault(values, set()).add(document_id)
            self.key_of[document_id] = values
        else:
            self.irregular.add(document_id)
            self.key_of[document_id] = None

    def candidates(self, filter: Mapping[str, Any]) -> set[Any] | None:
        choices = []
        for field in self.fields:
            allowed = _choices(filter, field)
            if allowed is None:
                return None
            choices.append(allowed)
        if math.prod(len(allowed) for allowed in choices) > MAX_CHOICES:
            return None
        found = set(self.irregular)  # null matches a missing field, and those hold the rest
        for values in itertools.product(*choices):
            if all(value is not None for value in values):
                found |= self.ids.get(values, set())
        return found


class PointIndex:
    def __init__(self, collection: Any) -> None:
        self._collection = collection
        # core.inmemory serialises reads and writes, but not every pass-through call; the
        # index keeps itself consistent on its own.
        self._lock = threading.RLock()
        self.dirty: set[Any] = set()
        self._documents: _Documents | None = None
        self._signature: tuple[Any, ...] | None = None
        self._uniques: list[_UniqueKeys] = []
        self._ranges: list[RangeIndex] = []  # the collection's other indexes (core.rangeindex)
        self._indexes: _Indexes | None = None  # the definitions planned for, at this version
        self._indexes_version = -1

    def iter_documents(self, filter: Mapping[str, Any]) -> Iterator[Any]:
        """mongomock's `Collection._iter_documents`, reading only the candidates of a point
        query (every document otherwise)."""
        store = self._collection._store
        with self._lock:
            self._refresh(store)
            candidates = self._candidates(filter) if isinstance(filter, Mapping) else None
            documents = None if candidates is None else self._live(store, candidates)
        if documents is None:
            if store.is_empty:
                _applies(filter, {})  # validates the filter, as mongomock does
            return self._marked(list(store.documents), filter)
        if not documents:
            _applies(filter, {})
        return self._marked(documents, filter)

    def _marked(self, documents: list[Any], filter: Mapping[str, Any]) -> Iterator[Any]:
        for document in documents:
            if matches(filter, document):
                # The caller may change it in place (an update): index it again before the
                # next lookup.
                self.mark(document["_id"])
                yield document

    def mark(self, document_id: Any) -> None:
        """Index `document_id` again before the next lookup."""
        with self._lock:
            self.dirty.add(document_id)

    def _live(self, store: Any, candidates: set[Any]) -> list[Any]:
        """The candidates still stored (expired ones deleted, as mongomock's sweep would), in
        insertion order."""
        assert self._documents is not None
        documents = self._documents
        found = [key for key in candidates if key in documents]
        if len(found) > 1:
            found.sort(key=documents.order.__getitem__)
        ttl = store._ttl_indexes
        live = []
        for key in found:
            document = documents[key]
            if ttl and expired(store, document):
                del store[key]
                continue
            live.append(document)
        return live

    def _candidates(self, filter: Mapping[str, Any]) -> set[Any] | None:
        ids = _choices(filter, "_id")
        if ids is not None and len(ids) <= MAX_CHOICES and None not in ids:
            return set(ids)
        for unique in self._uniques:
            found = unique.candidates(filter)
            if found is not None:
                return found
        found = self._range_candidates(filter)
        if found is not None:
            return found
        clauses = filter.get("$and")
        if isinstance(clauses, list):
            # mongomock's unique check on a partial index asks {$and: [partial, keys]}.
            for clause in clauses:
                if isinstance(clause, Mapping):
                    found = self._candidates(clause)
                    if found is not None:
                        return found
        return None

    def _range_candidates(self, filter: Mapping[str, Any]) -> set[Any] | None:
        """Along a range index: the first that can narrow `filter`, or the union over the
        clauses of its `$or` when each can."""
        clauses = filter.get("$or")
        if isinstance(clauses, list) and clauses:
            union: set[Any] = set()
            for clause in clauses:
                found = self._one_range(clause) if isinstance(clause, Mapping) else None
                if found is None:
                    break
                union |= found
            else:
                return union
        return self._one_range(filter)

    def _one_range(self, filter: Mapping[str, Any]) -> set[Any] | None:
        """Along the range index that narrows the most of its fields."""
        assert self._documents is not None
        best = None
        for index in self._ranges:
            plan = index.plan(filter)
            if plan is not None and (best is None or plan[0] > best[0]):
                best = (plan[0], plan[1], index)
        return None if best is None else best[2].candidates(best[1], self._documents)

    def _refresh(self, store: Any) -> None:
        indexes = store.indexes
        if (
            store._documents is not self._documents
            or self._indexes is None
            or indexes is not self._indexes
            or self._indexes.version != self._indexes_version
        ):
            signature = tuple(
                (name, tuple(field for field, _ in index["key"]), bool(index.get("unique")))
                for name, index in indexes.items()
            )
            if store._documents is not self._documents or signature != self._signature:
                self._rebuild(store, signature)
                return
            self._watch_indexes(store)
        if not self.dirty:
            return
        dirty, self.dirty = self.dirty, set()
        documents = self._documents
        for document_id in dirty:
            document = documents.get(document_id)  # None: deleted
            for unique in self._uniques:
                unique.reindex(document_id, document)
            for index in self._ranges:
                if index.built:
                    index.touch(document_id, documents.get(document_id))

    def _rebuild(self, store: Any, signature: tuple[Any, ...]) -> None:
        """From scratch: on the first lookup, after a drop, or when unique indexes changed."""
        self.dirty = set()
        documents = store._documents
        if not isinstance(documents, _Documents) or documents.index is not self:
            documents = _Documents(documents, self)
            store._documents = documents
        self._documents = documents
        self._signature = signature
        self._uniques = [
            _UniqueKeys(fields)
            for _, fields, unique in signature
            if unique and not any("." in field or field == "_id" for field in fields)
        ]
        # Partial indexes hold some documents only: a range along one could miss the others.
        partial = {
            name for name, index in store.indexes.items() if "partialFilterExpression" in index
        }
        self._ranges = [
            RangeIndex(fields)
            for name, fields, unique in signature
            if not unique
            and name != "_id_"
            and name not in partial
            and not any("." in f for f in fields)
        ]
        for unique in self._uniques:
            for document_id, document in documents.items():
                unique.add(document_id, document)
        self._watch_indexes(store)

    def _watch_indexes(self, store: Any) -> None:
        """Note the store's index definitions as planned for (counting their changes)."""
        indexes = store.indexes
        if type(indexes) is not _Indexes:
            indexes = store.indexes = _Indexes(indexes)
        self._indexes, self._indexes_version = indexes, indexes.version
