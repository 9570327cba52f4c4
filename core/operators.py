"""The update operators of the request path (`$set`, `$unset`, `$inc`, `$min`, `$max`,
`$push`, and `$setOnInsert`, which an update of a stored document skips), applied as mongomock
applies them but onto a new document.

mongomock changes the stored document in place, operator by operator, so core.fastpath had to
deep-copy the whole document before each update to undo a failed one. `updated` builds the
result instead: a shallow copy of the document whose sub-documents along the updated paths
are copied in turn, the rest shared with the stored one (which is then replaced whole, or
kept as it was when the update fails). Each operator does what mongomock's updater does, with
the same Python expression, so a type error (`$inc` of a string, `$min` of a date with a
number) raises the same exception.

Only the shapes mongomock treats plainly are served: paths through sub-documents (never
through an array or a scalar, never positional `$`), a `$push` onto a missing or array
top-level field of one value or of `{"$each": [...]}`. Anything else answers None, and the
caller leaves the whole update to mongomock. tests/unit/core/test_fastpath.py compares both on
random updates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class _Unsupported(Exception):
    """A shape mongomock applies by rules of its own: leave the update to it."""


_MISSING: Any = object()


def _set(container: dict[str, Any], field: str, value: Any) -> None:
    container[field] = value  # the caller's copy of the update: no one else holds `value`


def _unset(container: dict[str, Any], field: str, value: Any) -> None:
    container.pop(field, None)


def _inc(container: dict[str, Any], field: str, value: Any) -> None:
    container[field] = container.get(field, 0) + value


def _min(container: dict[str, Any], field: str, value: Any) -> None:
    container[field] = min(container.get(field, value), value)


def _max(container: dict[str, Any], field: str, value: Any) -> None:
    container[field] = max(container.get(field, value), value)


def _push(container: dict[str, Any], field: str, value: Any) -> None:
    current = container.get(field, _MISSING)
    if current is _MISSING:
        current = []
    elif type(current) is not list:
        raise _Unsupported  # mongomock fails with an error of its own
    if isinstance(value, dict) and "$each" in value:
        if len(value) != 1 or type(value["$each"]) is not list:
            raise _Unsupported  # $position, $sort, $slice
        container[field] = current + value["$each"]
    else:
        container[field] = [*current, value]


_Apply = Callable[[dict[str, Any], str, Any], None]
_OPERATORS: dict[str, _Apply] = {
    "$set": _set,
    "$unset": _unset,
    "$inc": _inc,
    "$min": _min,
    "$max": _max,
    "$push": _push,
}


# Applies to an upsert's inserted document only: an update of a stored document skips it, as
# mongomock and MongoDB do (an idempotency key completed after it was bound).
_ON_INSERT = "$setOnInsert"


def updated(document: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any] | None:
    """`document` (a stored one) with the operators of `update` applied in their order, as a
    new document (`document` is left as it is); None when mongomock should apply this update
    itself.

    Raises what mongomock raises for the same update (a TypeError from `$inc`, ...)."""
    if not update.keys() <= _OPERATORS.keys() | {_ON_INSERT}:
        return None
    result = dict(document)
    copied = {id(result)}  # the sub-documents this update owns (copied or created)
    try:
        for operator, fields in update.items():
            if type(fields) is not dict:
                raise _Unsupported
            if operator == _ON_INSERT:
                continue
            apply = _OPERATORS[operator]
            for path, value in fields.items():
                if "$" in path or "\0" in path or (apply is _push and "." in path):
                    raise _Unsupported
                parts = path.split(".")
                container = _parent(result, parts, copied, create=apply is not _unset)
                if container is not None:
                    apply(container, parts[-1], value)
    except _Unsupported:
        return None
    return result


def _parent(
    document: dict[str, Any], parts: list[str], copied: set[int], create: bool
) -> dict[str, Any] | None:
    """The sub-document holding the last of `parts`, copied (or created, as mongomock's
    `setdefault` does) on the way down; None for an `$unset` below a missing field."""
    container = document
    for part in parts[:-1]:
        child = container.get(part, _MISSING)
        if child is _MISSING:
            if not create:
                return None
            child = {}
        elif type(child) is not dict:
            raise _Unsupported  # arrays (indexes) and scalars: mongomock's own rules
        elif id(child) in copied:
            container = child
            continue
        else:
            child = dict(child)
        copied.add(id(child))
        container[part] = child
        container = child
    return container
