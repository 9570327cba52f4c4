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

`pull` is the `$pull` of a finished pending record, which core.fastpath applies in place
(see its docstring for how it differs from mongomock's, towards MongoDB's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import mongomock.filtering
from pymongo.errors import OperationFailure

# mongomock is untyped.
_filter_applies: Callable[[Any, Any], bool] = mongomock.filtering.filter_applies


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
_KNOWN = frozenset({*_OPERATORS, _ON_INSERT})


def updated(document: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any] | None:
    """`document` (a stored one) with the operators of `update` applied in their order, as a
    new document (`document` is left as it is); None when mongomock should apply this update
    itself.

    Raises what mongomock raises for the same update (a TypeError from `$inc`, ...)."""
    if not _KNOWN.issuperset(update):
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
                if "$" in path or "\0" in path:
                    raise _Unsupported
                if "." not in path:  # a top-level field: `result` holds it
                    apply(result, path, value)
                    continue
                if apply is _push:
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


def plain_pulls(update: Mapping[str, Any]) -> bool:
    """An update that only pulls from top-level arrays the elements matching a condition (a
    finished pending record: `{"$pull": {"pending": {"id": ...}}}`)."""
    pulls = update.get("$pull")
    return (
        len(update) == 1
        and isinstance(pulls, dict)
        and all(
            "." not in field and "$" not in field and isinstance(condition, dict)
            for field, condition in pulls.items()
        )
    )


def pull(document: dict[str, Any], pulls: Mapping[str, Mapping[str, Any]]) -> None:
    """mongomock's `$pull` of elements matching a condition from a top-level array, without
    the deep copy of the whole array it iterates over: an element goes when the condition
    applies to it as a document, or as a value ({"field": condition} to {"field": element})."""
    for field, condition in pulls.items():
        array = document.get(field)
        if not isinstance(array, list):
            continue
        array[:] = [element for element in array if not _pulled(condition, element)]


def _pulled(condition: Mapping[str, Any], element: Any) -> bool:
    try:
        if _filter_applies(condition, element):
            return True
    except OperationFailure:
        pass
    return bool(_filter_applies({"field": condition}, {"field": element}))
