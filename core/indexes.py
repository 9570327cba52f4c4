"""Create a collection's declared indexes, and bring indexes an older release created up to
date, so that `db init` (and the embedded start-up) can run on every deploy.

`create_indexes` alone fails on a deployed database as soon as a declaration changes: an index
of the same name with other options is an `IndexOptionsConflict` (code 85) or an
`IndexKeySpecsConflict` (86). Here:

- a changed TTL (`expireAfterSeconds`) is applied in place with `collMod`: no rebuild, and the
  collection never goes without its expiry;
- any other change (keys, `sparse` → `partialFilterExpression`) drops the old index and builds
  the new one, logged; a unique index is never dropped that way, because writes in between
  could break the uniqueness the code rests on: that change is refused with what to do.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import IndexModel
from pymongo.collection import Collection

log = logging.getLogger(__name__)

# The options Laurel declares; a server reports more (v, ns, background…) which do not count.
_OPTIONS = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression")


class IndexChangeRefused(Exception):
    """A declared index differs from the deployed one in a way `db init` will not fix alone."""


def sync_indexes(collection: Collection[Any], models: Sequence[IndexModel]) -> None:
    """Create the missing indexes of `models`; update the TTL, or rebuild, the changed ones."""
    existing = collection.index_information()
    to_create: list[IndexModel] = []
    for model in models:
        wanted = dict(model.document)
        name = wanted["name"]
        current = existing.get(name)
        if current is None:
            to_create.append(model)
            continue
        if _spec(current) == _spec(wanted):
            continue
        if _spec(current, ttl=False) == _spec(wanted, ttl=False) and _is_ttl(current, wanted):
            _change_ttl(collection, name, int(wanted["expireAfterSeconds"]))
            continue
        if current.get("unique"):
            raise IndexChangeRefused(
                f"index {collection.name}.{name} is unique and declared differently now "
                f"({_spec(current)} deployed, {_spec(wanted)} declared): build the new one "
                "under another name, then drop the old one by hand"
            )
        log.warning("rebuilding index %s.%s: %s → %s", collection.name, name, current, wanted)
        collection.drop_index(name)
        to_create.append(model)
    if to_create:
        collection.create_indexes(to_create)


def _change_ttl(collection: Collection[Any], name: str, seconds: int) -> None:
    log.info("index %s.%s: expireAfterSeconds → %s (collMod)", collection.name, name, seconds)
    collection.database.command(
        {"collMod": collection.name, "index": {"name": name, "expireAfterSeconds": seconds}}
    )


def _is_ttl(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return "expireAfterSeconds" in current and "expireAfterSeconds" in wanted


def _spec(index: Mapping[str, Any], *, ttl: bool = True) -> dict[str, Any]:
    """Keys and the options that matter, comparable between a declaration and a server's
    report (which may give directions as floats and the key as a list of pairs)."""
    key = index["key"]
    pairs = key.items() if isinstance(key, Mapping) else key
    spec: dict[str, Any] = {"key": [(field, _direction(d)) for field, d in pairs]}
    for option in _OPTIONS:
        if option == "expireAfterSeconds" and not ttl:
            continue
        value = index.get(option)
        if value is not None and value is not False:  # (a TTL of 0 counts)
            spec[option] = value
    return spec


def _direction(value: Any) -> Any:
    return int(value) if isinstance(value, int | float) else value
