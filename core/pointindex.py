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

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import mongomock
from mongomock import filtering

from core.pointmatch import matches
from core.rangeindex import RangeIndex
from core.uniquekeys import MAX_CHOICES, UniqueKeys, choices

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


class PointIndex:
    def __init__(self, collection: Any) -> None:
        self._collection = collection
        # core.inmemory serialises reads and writes, but not every pass-through call; the
        # index keeps itself consistent on its own.
        self._lock = threading.RLock()
        self.dirty: set[Any] = set()
        self._documents: _Documents | None = None
        self._signature: tuple[Any, ...] | None = None
        self._uniques: list[UniqueKeys] = []
        self._ranges: list[RangeIndex] = []  # the collection's other indexes (core.rangeindex)
        self._indexes: _Indexes | None = None  # the definitions planned for, at this version
        self._indexes_version = -1

    def iter_documents(self, filter: Mapping[str, Any]) -> Iterator[Any]:
        """mongomock's `Collection._iter_documents`, reading only the candidates of a point
        query (every document otherwise)."""
        store = self._collection._store
        documents = self._point(store, filter)
        if documents is None:
            if store.is_empty:
                _applies(filter, {})  # validates the filter, as mongomock does
            return self._marked(list(store.documents), filter)
        return self._marked(documents, filter)

    def first(self, filter: Mapping[str, Any]) -> Any:
        """The first document `iter_documents` yields (None if none), for a caller that will
        not change it in place: not marked to be indexed again."""
        documents = self._point(self._collection._store, filter)
        if documents is None:
            return next(self.iter_documents(filter), None)
        for document in documents:
            if matches(filter, document):
                return document
        return None

    def _point(self, store: Any, filter: Mapping[str, Any]) -> list[Any] | None:
        """The live candidates of a point query; None for another query."""
        with self._lock:
            self._refresh(store)
            candidates = self._candidates(filter) if isinstance(filter, Mapping) else None
            documents = None if candidates is None else self._live(store, candidates)
        if documents is not None and not documents:
            _applies(filter, {})  # validates the filter, as mongomock does
        return documents

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
        ids = choices(filter, "_id")
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
            UniqueKeys(fields)
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
