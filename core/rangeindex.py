"""Range lookups for the in-memory store (core.pointindex): the candidates of a query along a
non-unique index, so that a range of `project_event_timestamp` or `project_received` costs
what it returns, as on MongoDB, instead of a test of every stored document.

Like core.pointindex, an index here only narrows what mongomock looks at: mongomock still
tests its full filter against each candidate, so answers stay mongomock's own; the candidates
only have to hold every match. A query can use an index when it asks equality (or `$in`) on
the index's first fields and at most a range (`$gt`, `$gte`, `$lt`, `$lte`) on the next one,
two fields at least (or the only one), or, for `$or`, when every clause can.

Entries are (key, sequence, _id), sorted; a key is the index's values as (type rank, value)
pairs, so that values of different BSON types never compare (a range only matches values of
its bound's type, as on MongoDB). Documents whose indexed value is missing, null, an array, a
sub-document or a type not ranked here are *irregular*: always candidates. Documents stored or
changed since the entries were sorted are *fresh*: always candidates too, until the entries
are merged again (when they pass an eighth of the indexed documents).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

MAX_EXPANSION = 64  # ranges one query may expand into through `$in`
MERGE_AFTER = 1024  # fresh (changed or new) documents kept beside the entries before a merge
_RANGE_OPS = frozenset({"$gt", "$gte", "$lt", "$lte"})
Key = tuple[Any, ...]


class _Top:
    """Greater than any value: closes a range at the end of a key prefix."""

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return other is not self

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return 0


TOP = _Top()


_RANKS = {int: 2, float: 2, bool: 2, str: 3, ObjectId: 5}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def ranked(value: Any) -> tuple[int, Any] | None:
    """(rank, comparable value), or None for what the index does not order. Booleans rank
    with numbers (mongomock's equality takes true for 1: a superset is all an index owes it);
    moments become integer microseconds, naive ones read as UTC, as PyMongo does."""
    kind = type(value)
    rank = _RANKS.get(kind)
    if rank is not None:
        return None if kind is float and math.isnan(value) else (rank, value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (4, (moment - _EPOCH) // _MICROSECOND)
    return None


class RangeIndex:
    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.built = False
        self.entries: list[tuple[Key, int, Any]] = []
        self.fresh: set[Any] = set()
        self.irregular: set[Any] = set()
        self.values_of: dict[Any, tuple[Any, ...]] = {}  # _id -> its indexed values as read
        self._sequence = itertools.count()

    def key(self, document: Mapping[str, Any]) -> Key | None:
        parts: list[Any] = []
        for field in self.fields:
            value = ranked(document.get(field))
            if value is None:
                return None
            parts.extend(value)
        return tuple(parts)

    def build(self, documents: Mapping[Any, Mapping[str, Any]]) -> None:
        self.entries, self.fresh, self.irregular, self.values_of = [], set(), set(), {}
        self._add(documents.items())
        self.entries.sort()
        self.built = True

    def _add(self, items: Iterable[tuple[Any, Mapping[str, Any]]]) -> None:
        for document_id, document in items:
            self.values_of[document_id] = tuple(map(document.get, self.fields))
            key = self.key(document)
            if key is None:
                self.irregular.add(document_id)
            else:
                self.entries.append((key, next(self._sequence), document_id))

    def touch(self, document_id: Any, document: Mapping[str, Any] | None) -> None:
        """`document_id` was stored, changed or deleted (None) since the last lookup."""
        if document is None:
            # Its stale entry is dropped by the caller's check that it is still stored; its
            # values are forgotten, so that a document stored again under its _id is indexed.
            self.values_of.pop(document_id, None)
            self.fresh.discard(document_id)
            self.irregular.discard(document_id)
            return
        values = tuple(map(document.get, self.fields))
        if values == self.values_of.get(document_id):
            return  # read, not changed (core.pointindex marks what it hands out); equal values
            # have equal keys (1 == 1.0 == true, one instant in two offsets: one key each)
        self.values_of[document_id] = values
        key = self.key(document)
        if key is None:
            self.irregular.add(document_id)
        elif not self._holds(key, document_id):
            self.fresh.add(document_id)

    def _holds(self, key: Key, document_id: Any) -> bool:
        at = bisect.bisect_left(self.entries, (key,))
        while at < len(self.entries) and self.entries[at][0] == key:
            if self.entries[at][2] == document_id:
                return True
            at += 1
        return False

    def settle(self, documents: Mapping[Any, Mapping[str, Any]]) -> None:
        """Merge the fresh documents into the entries once they are many; build the entries
        anew once the stale ones (of documents changed or deleted since) would outnumber the
        stored documents, so that neither memory nor lookups grow with the writes."""
        if len(self.fresh) <= max(MERGE_AFTER, len(documents) // 8):
            return
        if len(self.entries) + len(self.fresh) > 2 * len(documents):
            self.build(documents)
            return
        fresh, self.fresh = self.fresh, set()
        self._add((i, documents[i]) for i in fresh if i in documents)
        self.entries.sort()  # two sorted runs: timsort merges them in linear time

    def plan(self, filter: Mapping[str, Any]) -> tuple[int, list[tuple[Key, Key]]] | None:
        """(fields of the index the filter narrows, the key spans to read), or None when the
        filter does not narrow this index's first field."""
        return self._spans(filter)

    def candidates(
        self, spans: list[tuple[Key, Key]], documents: Mapping[Any, Mapping[str, Any]]
    ) -> set[Any] | None:
        """Every stored document within `spans` (a plan's; and some deleted ones), fresh and
        irregular ones included, or None when that is most of them (a scan is cheaper). The
        index is built on the first query it serves."""
        if not self.built:
            self.build(documents)
        self.settle(documents)
        slices = []
        for low, high in spans:
            start = bisect.bisect_left(self.entries, (low,))
            slices.append((start, bisect.bisect_right(self.entries, (high,))))
        if sum(stop - start for start, stop in slices) > len(self.entries) // 2:
            return None
        found = set(self.fresh) | self.irregular
        for start, stop in slices:
            found.update(entry[2] for entry in self.entries[start:stop])
        return found

    def _spans(self, filter: Mapping[str, Any]) -> tuple[int, list[tuple[Key, Key]]] | None:
        prefixes: list[list[Any]] = [[]]
        for used, field in enumerate(self.fields):
            if field not in filter:
                break
            wanted = filter[field]
            if isinstance(wanted, Mapping) and set(wanted) <= _RANGE_OPS and wanted:
                bounds = _bounds(wanted)
                if bounds is None:
                    break
                low, high = bounds
                return used + 1, [(tuple(p + low), tuple(p + high)) for p in prefixes]
            choices = _choices(wanted)
            if choices is None or len(prefixes) * len(choices) > MAX_EXPANSION:
                break
            prefixes = [p + list(choice) for p in prefixes for choice in choices]
        used = len(prefixes[0]) // 2
        # One field of several narrows little here (a project's events: all of them, in a store
        # of one project); a scan is cheaper than building the index for it.
        if used < min(2, len(self.fields)):
            return None
        return used, [(tuple(p), (*p, TOP)) for p in prefixes]


def _choices(wanted: Any) -> list[tuple[int, Any]] | None:
    """The ranked values an equality (or `$in`) accepts, or None when it cannot be indexed."""
    if isinstance(wanted, Mapping):
        if set(wanted) != {"$in"} or not isinstance(wanted["$in"], list | tuple):
            return None
        values = [ranked(v) for v in wanted["$in"]]
        kept = [v for v in values if v is not None]
        return kept if kept and len(kept) == len(values) else None
    value = ranked(wanted)
    return None if value is None else [value]


def _bounds(wanted: Mapping[str, Any]) -> tuple[list[Any], list[Any]] | None:
    """The (low, high) key suffixes of a range: inclusive ends (a superset of $gt and $lt)."""
    ends = {op: ranked(wanted[op]) for op in ("$gt", "$gte", "$lt", "$lte") if op in wanted}
    known = {op: end for op, end in ends.items() if end is not None}
    if len(known) != len(ends) or len({rank for rank, _ in known.values()}) != 1:
        return None
    rank = next(iter(known.values()))[0]
    lows = [value for op, (_, value) in known.items() if op.startswith("$g")]
    highs = [value for op, (_, value) in known.items() if op.startswith("$l")]
    low = [rank, min(lows)] if lows else [rank]
    high = [rank, max(highs), TOP] if highs else [rank, TOP]
    return low, high
