"""What the in-memory store (core.inmemory) accepts as a document, as a real server would:
what BSON can encode (`bson.encode`: no `datetime.date`, `Decimal`, integers beyond 64 bits,
names that are no str or hold a null character), and stricter than pymongo in one way:
subclasses of int, float and str (numpy.float64 is a float) are refused too, so numpy scalars
never reach a document whatever their type; and no document past 16 MiB of BSON.

`checked` decides all of that for a write's documents. Most are decided by one walk
(`stored_form`) doing at once what the full checks and mongomock's storage did in a walk
each: whether BSON can encode the document and its size if so, whether it holds a lookalike,
whether a field name holds a null character, and the copy mongomock stores or matches with
(core.fastpath's `_patch`: datetimes naive UTC to the millisecond), instead of encoding it.
The walk decides only documents made of the plain values a request writes: dicts with ASCII
string keys, lists, str, int, float, bool, None, ObjectId and datetimes naive or in UTC. On
anything else it raises `Irregular`, and the caller runs the full checks (and `_patch`) as
before, so a document is refused exactly as it was, with the same error: the plain values are
ones none of those checks refuses (ints aside, whose range is checked here: an int BSON cannot
hold is irregular too). tests/unit/core/test_storable.py compares the walk with the checks it
stands for on random documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import bson
import mongomock.helpers
from bson import ObjectId
from bson.errors import InvalidDocument
from pymongo.errors import DocumentTooLarge, WriteError

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # mongod's BSONObjMaxUserSize

_INT32 = 2**31
_INT64 = 2**63
_mongomock_helpers: Any = mongomock.helpers  # untyped
_MONGOMOCK_UTC = _mongomock_helpers.utc  # the zone of a datetime read out of the store
# BSON bytes of a value past its type byte and name, by type, for values of one fixed size.
_FIXED: dict[type, int] = {float: 8, bool: 1, type(None): 0, ObjectId: 12}


class Irregular(Exception):
    """A value this walk does not decide: the store's full checks do."""


def ensure_bson(*documents: Mapping[str, Any]) -> None:
    """Raise `bson.errors.InvalidDocument` (or OverflowError) as pymongo would when sending,
    or for a lookalike of a plain value."""
    for document in documents:
        _full_check(document)


def checked(documents: Iterable[Any]) -> list[tuple[dict[str, Any] | None, int]]:
    """Each document's stored form (`stored_form`; None when the full checks decided it) and
    its BSON size; raises what `ensure_bson` raises, for the first document it refuses."""
    forms: list[tuple[dict[str, Any] | None, int]] = []
    for document in documents:
        try:
            forms.append(stored_form(document))
        except Irregular:
            forms.append((None, _full_check(document)))
    return forms


def refuse_sizes(forms: Iterable[tuple[Any, int]]) -> None:
    """A document stored whole (inserted, replacing) must fit in 16 MiB, as on mongod."""
    for _, size in forms:
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentTooLarge(
                f"BSON document too large ({size} bytes) - the connected server supports "
                f"BSON document sizes up to {MAX_DOCUMENT_BYTES} bytes."
            )


def refuse_large(document: Mapping[str, Any], bound: int | None = None) -> int:
    """An update's resulting document must fit in 16 MiB, as on mongod. `bound`: a number of
    bytes its encoding is known not to exceed (core.docsizes), None if none is; the document
    is encoded only when that does not settle it. Returns a bound of its size."""
    if bound is not None and bound <= MAX_DOCUMENT_BYTES:
        return bound
    size = len(bson.encode(document))
    if size > MAX_DOCUMENT_BYTES:
        raise WriteError(
            f"Resulting document after update is larger than {MAX_DOCUMENT_BYTES}", code=17419
        )
    return size


def _full_check(document: Any) -> int:
    size = len(bson.encode(document))
    _refuse_lookalikes(document)
    return size


# Values that are neither containers nor lookalikes: nothing to look into.
_LEAVES = frozenset({int, float, str, bool, type(None), datetime, ObjectId, bytes})
_CONTAINERS = (dict, list, tuple)
_PLAIN = (int, float, str, bool)


def _refuse_lookalikes(value: Any) -> None:
    items = value.values() if type(value) is dict or isinstance(value, Mapping) else value
    for item in items:
        kind = type(item)
        if kind in _LEAVES:
            continue
        if kind in _CONTAINERS or isinstance(item, Mapping | list | tuple):
            _refuse_lookalikes(item)
        elif isinstance(item, int | float | str) and kind not in _PLAIN:
            raise InvalidDocument(
                f"cannot store {item!r} of type {kind.__module__}.{kind.__name__}: "
                "convert it to a plain int, float or str first"
            )


def stored_form(document: Any) -> tuple[dict[str, Any], int]:
    """`document` as mongomock stores it (a copy, datetimes naive UTC to the millisecond) and
    the length of its BSON encoding, when it is made of plain values only (see the module's
    docstring); raises Irregular otherwise."""
    if type(document) is not dict:
        raise Irregular
    return _document(document)


def _document(value: dict[Any, Any]) -> tuple[dict[str, Any], int]:
    try:
        names = "".join(value)
    except TypeError:  # a name that is no str
        raise Irregular from None
    if not names.isascii() or "\0" in names:
        raise Irregular
    # (A name of a str subclass passes as its str: as it does bson's checks and mongomock's.)
    # 4 bytes of length, a type byte and a null-terminated name per field, a final null.
    size = 5 + len(names) + 2 * len(value)
    copy = dict(value)
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            size += 5 + (len(item) if item.isascii() else _utf8_length(item))
        elif kind is int:
            size += 4 if -_INT32 <= item < _INT32 else _int_size(item)
        elif kind is dict:
            copy[key], inner = _document(item)
            size += inner
        elif kind is list:
            copy[key], inner = _array(item)
            size += inner
        elif kind is datetime:  # (the last one stored again, most often: no call)
            last = _last_instant  # read once: another thread may replace the pair meanwhile
            copy[key] = last[1] if last[0] is item else _instant(item)
            size += 8
        elif kind in _FIXED:
            size += _FIXED[kind]
        else:
            raise Irregular
    return copy, size


def _array(value: list[Any]) -> tuple[list[Any], int]:
    # As a document whose names are "0", "1", ...
    count = len(value)
    size = 5 + (count if count <= 10 else _index_digits(count)) + 2 * count
    copy = list(value)
    for position, item in enumerate(value):
        kind = type(item)
        if kind is str:
            size += 5 + (len(item) if item.isascii() else _utf8_length(item))
        elif kind is int:
            size += 4 if -_INT32 <= item < _INT32 else _int_size(item)
        elif kind is dict:
            copy[position], inner = _document(item)
            size += inner
        elif kind is list:
            copy[position], inner = _array(item)
            size += inner
        elif kind is datetime:
            last = _last_instant  # read once, as in _document
            copy[position] = last[1] if last[0] is item else _instant(item)
            size += 8
        elif kind in _FIXED:
            size += _FIXED[kind]
        else:
            raise Irregular
    return copy, size


def _int_size(value: int) -> int:
    """Past int32 (which the walk sizes itself)."""
    if -_INT64 <= value < _INT64:
        return 8
    raise Irregular  # bson raises OverflowError: the full checks say so


def _utf8_length(text: str) -> int:
    try:
        return len(text.encode())
    except UnicodeEncodeError:  # a lone surrogate: bson refuses it
        raise Irregular from None


def _index_digits(count: int) -> int:
    """The digits of the names "0" to str(count - 1) together."""
    digits, start, width = 0, 0, 1
    while start < count:
        end = min(count, 10**width)
        digits += (end - start) * width
        start, width = end, width + 1
    return digits


# The last datetime `_instant` stored, and how: a request writes the same moment in many
# fields and documents (a tuple, replaced whole, so that threads read a pair that goes together).
_last_instant: tuple[object, datetime] = (None, datetime.min)


def _instant(value: datetime) -> datetime:
    """mongomock's storage of a datetime: naive UTC, to the millisecond."""
    global _last_instant
    last = _last_instant
    if last[0] is value:
        return last[1]
    zone = value.tzinfo
    if zone is not None and zone is not UTC and zone is not _MONGOMOCK_UTC:
        raise Irregular  # another zone: `_patch` converts it (and bson reads its offset)
    micros = value.microsecond
    if zone is None and not micros % 1000:
        stored = value
    else:
        stored = value.replace(tzinfo=None, microsecond=micros - micros % 1000)
    _last_instant = (value, stored)
    return stored
