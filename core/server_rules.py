"""What a real MongoDB server (6.0 and later) refuses and mongomock lets through, checked by
the in-memory store (core.inmemory) before it hands a command to mongomock.

- A `hint` naming no index of the collection: mongomock ignores hints; a server answers
  "hint provided does not correspond to an existing index" (BadValue, code 2). A query
  hinted along an index `db init` does not create would fail in production only.
- Field names in the positions a server still refuses them. Since 5.0 a server stores `$`
  prefixed and dotted names in inserted documents, so inserts are left alone; it refuses
  a `$`-prefixed top-level name in a replacement (code 52), and in an update a path whose
  first field is `$`-prefixed (52), a path with an empty field ("a..b", code 56), and two
  paths of one update where one is the other or lies inside it ("points" and
  "points.balance": ConflictingUpdateOperators, 40) — mongomock applies such updates
  operator by operator, and the outcome depends on the order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import OperationFailure, WriteError

from core.query_audit import hint_name

BAD_VALUE = 2
CONFLICTING_UPDATE_OPERATORS = 40
DOLLAR_PREFIXED_FIELD_NAME = 52
EMPTY_FIELD_NAME = 56


def check_hint(collection: Any, hint: Any) -> None:
    """Raise OperationFailure when `hint` names no index of `collection` (a mongomock one)."""
    if hint is None or not collection._store.is_created:
        return  # a server answers a query on a missing collection with nothing, hint or not
    wanted = hint_name(hint)
    information = collection.index_information()
    names = set(information)
    for info in information.values():
        key = info["key"]
        names.add(hint_name(list(key.items()) if isinstance(key, Mapping) else key) or "")
    if wanted not in names:
        raise OperationFailure(
            f"error processing query: hint provided does not correspond to an existing index "
            f"({wanted!r} on {collection.name}; it has {sorted(information)})",
            code=BAD_VALUE,
        )


def check_replacement(document: Mapping[str, Any]) -> None:
    """A replacing document: no `$`-prefixed top-level field."""
    for name in document:
        if str(name).startswith("$"):
            raise WriteError(
                f"The dollar ($) prefixed field '{name}' in '{name}' is not valid for storage.",
                code=DOLLAR_PREFIXED_FIELD_NAME,
            )


def check_update(update: Any) -> None:
    """An update document (operators): its paths as a server reads them."""
    if type(update) is not dict and not isinstance(update, Mapping):
        return  # an aggregation pipeline: its stages are the server's to check
    names = [
        name
        for changes in update.values()
        if type(changes) is dict or isinstance(changes, Mapping)
        for name in changes
    ]
    if not _plain_names(names):
        _check_paths(update)


def _check_paths(update: Mapping[str, Any]) -> None:
    """`check_update`'s walk of every path."""
    seen: list[tuple[str, ...]] = []
    paths: set[tuple[str, ...]] = set()  # every path seen
    inside: set[tuple[str, ...]] = set()  # every path holding one of them
    for changes in update.values():
        if not isinstance(changes, Mapping):
            continue
        for path in map(str, changes):
            parts = tuple(path.split("."))
            if "" in parts:
                raise WriteError(
                    f"The update path '{path}' contains an empty field name, which is not allowed.",
                    code=EMPTY_FIELD_NAME,
                )
            if parts[0].startswith("$"):
                raise WriteError(
                    f"The dollar ($) prefixed field '{parts[0]}' in '{path}' is not valid for "
                    "storage.",
                    code=DOLLAR_PREFIXED_FIELD_NAME,
                )
            holders = [parts[:end] for end in range(1, len(parts))]
            if parts in paths or parts in inside or not paths.isdisjoint(holders):
                _refuse_conflict(path, parts, seen)
            seen.append(parts)
            paths.add(parts)
            inside.update(holders)


def _plain_names(names: list[Any]) -> bool:
    """Whether the paths of an update are all names of distinct top-level fields, none empty or
    `$`-prefixed: none a server refuses (the walk of `check_update` would find nothing). A
    quicker look for the usual update, in a few steps over all of them at once."""
    if not {str}.issuperset(map(type, names)):
        return False
    joined = "".join(names)
    return "." not in joined and "$" not in joined and all(names) and len(set(names)) == len(names)


def _refuse_conflict(path: str, parts: tuple[str, ...], seen: list[tuple[str, ...]]) -> None:
    """Name the first path seen that `path` is, holds or lies inside."""
    for other in seen:
        shorter = min(len(other), len(parts))
        if other[:shorter] == parts[:shorter]:
            raise WriteError(
                f"Updating the path '{path}' would create a conflict at "
                f"'{'.'.join(parts[:shorter])}'",
                code=CONFLICTING_UPDATE_OPERATORS,
            )
    raise AssertionError(f"no conflict found for {path!r}")  # the sets above found one
