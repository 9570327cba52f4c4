"""What the in-memory store knows of the BSON size of its documents, so that an update need
not encode the whole document to know that it stays within 16 MiB (core.storable).

A real server refuses an update whose resulting document passes 16 MiB. Encoding the result
of every update to measure it cost more than the rest of the update (a user document is a few
kilobytes, and the request path updates it twice). Instead each stored document may have a
known *bound*: a number of bytes its BSON encoding does not exceed. An insert knows the size
of what it stored (core.storable measured it while checking it); an update of core.operators'
shapes knows a bound of what it can add (`growth`); the bound of the result is their sum.
Only when that sum passes the limit is the result encoded, and its exact size kept.

A bound holds for one stored dict, the very object it was computed for: a document stored
anew (by mongomock's replace_one, a re-insert...) has none until measured, and a store has
none before core.pointindex's first lookup in it. mongomock changes documents in place on the
paths it serves itself (update_many, find_one_and_update, upserts...), which core.inmemory
therefore reports with `forget_all`; core.fastpath with `forget` before its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Per operator path: `$set`, `$min` and `$max` of "a.b.c" may create the sub-documents on the
# way (each at most 7 bytes more than its name in the path: type byte, null, and an empty
# document's 5); a `$push` may create its array (5 bytes), and names its new elements by an
# index of up to 7 digits where the update named them by one of fewer (or by "$each").
_PER_DOT = 7
_PER_PUSH = 16
_PER_PUSHED_ELEMENT = 8
# The operators `growth` knows, each with what it can add beyond its own bytes in the update.
_SETTING = frozenset({"$set", "$min", "$max"})
_SHRINKING = frozenset({"$unset", "$setOnInsert"})  # ($setOnInsert: skipped on an update)


# A store's bounds (core.pointindex keeps them beside its documents, and drops a deleted or
# replaced document's): id() of a stored document -> (that document, a bound of its size).
# Each entry holds its document, so no other object can have its id while it is there.
Sizes = dict[int, tuple[Mapping[str, Any], int]]


def bound(documents: Any, document: Mapping[str, Any]) -> int | None:
    """A bound of the BSON size of `document`, stored in `documents` (a mongomock store's),
    None if unknown."""
    sizes: Sizes | None = getattr(documents, "sizes", None)
    entry = None if sizes is None else sizes.get(id(document))
    return None if entry is None else entry[1]


def remember(documents: Any, document: Mapping[str, Any], size: int) -> None:
    """`document`, just stored in `documents`, encodes to at most `size` bytes."""
    sizes: Sizes | None = getattr(documents, "sizes", None)
    if sizes is not None:
        sizes[id(document)] = (document, size)


def forget(documents: Any, document: Mapping[str, Any]) -> None:
    """`document` (stored in `documents`) is about to change in place."""
    sizes: Sizes | None = getattr(documents, "sizes", None)
    if sizes is not None:
        sizes.pop(id(document), None)


def forget_all(documents: Any) -> None:
    """mongomock may have changed any document of the store in place."""
    sizes: Sizes | None = getattr(documents, "sizes", None)
    if sizes is not None:
        sizes.clear()


def growth(update: Mapping[str, Any], size: int) -> int | None:
    """How many bytes core.operators' application of `update` can add to a document at most,
    given `size`, the length of the update's own BSON encoding (whose fields hold each value
    the update writes, with its name); None for an update of other operators (`$inc` can
    turn an int32 into an int64, or overflow)."""
    extra = 0
    for operator, fields in update.items():
        if type(fields) is not dict:
            return None
        if operator in _SETTING:
            extra += _PER_DOT * "".join(fields).count(".")
        elif operator == "$push":
            for value in fields.values():
                each = value.get("$each") if type(value) is dict else None
                pushed = len(each) if type(each) is list else 1
                extra += _PER_PUSH + _PER_PUSHED_ELEMENT * pushed
        elif operator not in _SHRINKING:
            return None
    return size + extra
