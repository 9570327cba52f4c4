"""Query shapes: what the code asks MongoDB, and whether a declared index serves it — the
`explain()` of a store that has none (the in-memory store records, tests/query_audit.py
judges at the end of the suite).

A shape is a collection, the operation, the fields its filter binds by equality (`$eq`,
`$in`, a plain value), the fields it filters otherwise (ranges, `$exists`, `$ne`, `$or`
branches…), its sort and its hint. Values never matter, so every event of the suite adds
to the same few dozen shapes.

An index serves a shape, as MongoDB's planner would use it without a blocking sort or a scan
of documents it does not need, when:
- `_id` is bound by equality (the `_id_` index), or a unique index's keys all are (a point
  lookup: whatever else the filter says is checked on one document); else
- its leading keys are exactly the equality fields (in any order), followed by the sort
  (in its directions, or all reversed), and, when the filter binds no equality and asks no
  sort, its first key is filtered by a range;
- a partial index (`$exists` filter) or sparse index is only usable when the filter names
  the field it depends on.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Sort = tuple[tuple[str, int], ...]

_EQUALITY_OPERATORS = frozenset({"$eq", "$in"})
_LOGICAL = frozenset({"$or", "$and", "$nor"})
_HERE = Path(__file__).resolve()
_ROOT = _HERE.parents[1]


@dataclass(frozen=True, order=True)
class QueryShape:
    collection: str
    operation: str  # find, find_one, count, distinct, aggregate, update, delete, find_and_modify
    equality: tuple[str, ...]  # sorted
    other: tuple[str, ...]  # sorted: ranges, $exists, $ne, $or branches, $size…
    sort: Sort = ()
    hint: str | None = None
    upsert: bool = False
    distinct: str | None = None  # the field of a `distinct`

    def describe(self) -> str:
        parts = [f"{self.collection}.{self.operation}{' (upsert)' if self.upsert else ''}"]
        if self.distinct:
            parts[0] += f"({self.distinct!r})"
        parts.append("{" + ", ".join(self.equality) + "}")
        if self.other:
            parts.append("filter {" + ", ".join(self.other) + "}")
        if self.sort:
            parts.append("sort {" + ", ".join(f"{f}: {d}" for f, d in self.sort) + "}")
        if self.hint:
            parts.append(f"hint {self.hint}")
        return " ".join(parts)


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    sparse: bool = False
    partial_fields: frozenset[str] = frozenset()

    @classmethod
    def from_information(cls, name: str, information: Mapping[str, Any]) -> Index:
        key = information["key"]
        pairs = key.items() if isinstance(key, Mapping) else key
        partial = information.get("partialFilterExpression") or {}
        return cls(
            name=name,
            keys=tuple((str(f), int(d)) for f, d in pairs),
            unique=bool(information.get("unique")) or name == "_id_",
            sparse=bool(information.get("sparse")),
            partial_fields=frozenset(str(f) for f in partial),
        )


def shape_of(
    collection: str,
    operation: str,
    filter: Mapping[str, Any] | None,
    sort: Any = None,
    hint: Any = None,
    upsert: bool = False,
    distinct: str | None = None,
) -> QueryShape:
    equality: set[str] = set()
    other: set[str] = set()
    _classify(filter or {}, equality, other)
    return QueryShape(
        collection=collection,
        operation=operation,
        equality=tuple(sorted(equality)),
        other=tuple(sorted(other - equality)),
        sort=normalize_sort(sort),
        hint=hint_name(hint),
        upsert=upsert,
        distinct=distinct,
    )


def _classify(filter: Mapping[str, Any], equality: set[str], other: set[str]) -> None:
    for name, condition in filter.items():
        if name in _LOGICAL:
            branches = condition if isinstance(condition, list) else []
            for branch in branches:
                if name == "$and":
                    _classify(branch, equality, other)
                else:
                    _classify(branch, other, other)
        elif name.startswith("$"):
            continue  # $expr, $where, $text: nothing an index bound comes from
        elif isinstance(condition, Mapping) and any(str(k).startswith("$") for k in condition):
            operators = set(condition)
            (equality if operators <= _EQUALITY_OPERATORS else other).add(name)
        else:
            equality.add(name)


def normalize_sort(sort: Any) -> Sort:
    if not sort:
        return ()
    if isinstance(sort, str):
        return ((sort, 1),)
    if isinstance(sort, Mapping):
        return tuple((str(f), int(d)) for f, d in sort.items())
    return tuple((str(f), int(d)) for f, d in sort)


def hint_name(hint: Any) -> str | None:
    """An index name, or the default name of a key pattern (`a_1_b_-1`)."""
    if hint is None or isinstance(hint, str):
        return hint
    pairs = hint.items() if isinstance(hint, Mapping) else hint
    return "_".join(f"{f}_{int(d)}" for f, d in pairs)


def serving_index(shape: QueryShape, indexes: Sequence[Index]) -> Index | None:
    """The first of `indexes` that serves `shape` (the hinted one only, when hinted)."""
    if shape.hint is not None:
        candidates = [i for i in indexes if i.name == shape.hint or _default_name(i) == shape.hint]
    else:
        candidates = list(indexes)
    for index in candidates:
        if _serves(index, shape):
            return index
    return None


def _default_name(index: Index) -> str:
    return "_".join(f"{f}_{d}" for f, d in index.keys)


def _serves(index: Index, shape: QueryShape) -> bool:
    equality, named = set(shape.equality), set(shape.equality) | set(shape.other)
    if index.partial_fields and not index.partial_fields <= named:
        return False
    if index.sparse and not {f for f, _ in index.keys} & named:
        return False
    key_fields = [f for f, _ in index.keys]
    if index.unique and set(key_fields) <= equality:
        return True
    prefix = 0
    while prefix < len(key_fields) and key_fields[prefix] in equality:
        prefix += 1
    if set(key_fields[:prefix]) != equality:
        return False
    sort = tuple((f, d) for f, d in shape.sort if f not in equality)
    if shape.distinct is not None and shape.distinct not in equality:
        # A distinct walks the distinct keys of an index that follows the equality fields
        # with its field (DISTINCT_SCAN), the way a sort walks it in order.
        sort = ((shape.distinct, 1),)
    if sort:
        following = index.keys[prefix : prefix + len(sort)]
        reversed_sort = tuple((f, -d) for f, d in sort)
        return following in (sort, reversed_sort)
    if not equality:
        return bool(key_fields) and key_fields[0] in shape.other
    return True


@dataclass
class ShapeRecorder:
    """Counts the shapes the code (not the tests themselves) issues, with where from."""

    shapes: Counter[QueryShape] = field(default_factory=Counter)
    origins: dict[QueryShape, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, shape: QueryShape) -> None:
        origin = _caller()
        if origin is None:
            return
        with self.lock:
            self.shapes[shape] += 1
            self.origins.setdefault(shape, origin)


_recorder: ShapeRecorder | None = None


def start_recording() -> ShapeRecorder:
    global _recorder
    _recorder = ShapeRecorder()
    return _recorder


def recorder() -> ShapeRecorder | None:
    return _recorder


@contextmanager
def recording() -> Iterator[ShapeRecorder]:
    """Record into a fresh recorder for a while (a test of the audit), then restore the one
    before (the suite's)."""
    global _recorder
    previous, _recorder = _recorder, ShapeRecorder()
    try:
        yield _recorder
    finally:
        _recorder = previous


def observe(
    collection: str,
    operation: str,
    filter: Mapping[str, Any] | None,
    sort: Any = None,
    hint: Any = None,
    upsert: bool = False,
    distinct: str | None = None,
) -> None:
    """Record a shape when recording (the test suite); a no-op otherwise."""
    if _recorder is not None:
        _recorder.record(shape_of(collection, operation, filter, sort, hint, upsert, distinct))


def _caller() -> str | None:
    """`path:line (function)` of the first frame outside the store and its libraries; None
    when that is test code (a test reading the store to check a result is not the code's
    query)."""
    frame: Any = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        kind = _kinds.get(filename)
        if kind is None:
            kind = _kinds.setdefault(filename, _kind(filename))
        if kind == "tests":
            return None
        if kind == "code":
            relative = filename[len(_ROOT_PREFIX) :]
            return f"{relative}:{frame.f_lineno} ({frame.f_code.co_name})"
        frame = frame.f_back
    return None


_ROOT_PREFIX = str(_ROOT) + "/"
_kinds: dict[str, str] = {}


def _kind(filename: str) -> str:
    if not filename.startswith(_ROOT_PREFIX):
        return "library"
    top = filename[len(_ROOT_PREFIX) :].split("/", 1)[0]
    if top == "tests":
        return "tests"
    return "library" if top in (".venv", "core") else "code"


def indexes_by_collection(
    information: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> dict[str, list[Index]]:
    """{collection: index_information()} → the Index list of each collection."""
    return {
        name: [Index.from_information(i, info) for i, info in sorted(by_name.items())]
        for name, by_name in information.items()
    }


def table(rows: Iterable[tuple[QueryShape, str]]) -> str:
    """The audit as text: one line per shape, with what serves it."""
    lines = [f"{shape.describe()}  →  {served}" for shape, served in sorted(rows)]
    return "\n".join(lines)
