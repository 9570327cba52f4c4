"""The map of one unique index over top-level fields, for core.pointindex: which documents hold
which indexed values, and which candidates a point query's filter can have along it (a
superset of its matches; see core.pointindex's docstring).
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Mapping
from typing import Any

from bson import ObjectId

_PLAIN = (str, int, float, ObjectId)
_KEY_KINDS = frozenset({str, int, ObjectId})  # a key equal to one of these is the same key


def _plain(value: Any) -> bool:
    return isinstance(value, _PLAIN) and not (isinstance(value, float) and math.isnan(value))


_ABSENT: Any = object()
_first = operator.itemgetter(0)
MAX_CHOICES = 1000  # combinations of `$in` values a lookup tries before it scans instead


def choices(filter: Mapping[str, Any], field: str) -> list[Any] | None:
    """The values `filter` allows `field` to equal when they are plain values or null: one
    for an equality, those of an `$in` (a batch's users), None for anything else."""
    value = filter.get(field, _ABSENT)
    if type(value) in _KEY_KINDS:  # the usual equality, decided without the tests below
        return [value]
    if value is _ABSENT:
        return None
    if isinstance(value, Mapping) and set(value) == {"$in"} and isinstance(value["$in"], list):
        values = value["$in"]
        return values if all(item is None or _plain(item) for item in values) else None
    if value is None or _plain(value):
        return [value]
    return None


class UniqueKeys:
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
        allowed_values = []
        single = True
        for field in self.fields:
            allowed = choices(filter, field)
            if allowed is None:
                return None
            allowed_values.append(allowed)
            single = single and len(allowed) == 1
        found = set(self.irregular)  # null matches a missing field, and those hold the rest
        if single:  # an equality to each field (a point query): one key
            key = tuple(map(_first, allowed_values))
            return found | self.ids.get(key, set()) if None not in key else found
        if math.prod(len(allowed) for allowed in allowed_values) > MAX_CHOICES:
            return None
        for values in itertools.product(*allowed_values):
            if all(value is not None for value in values):
                found |= self.ids.get(values, set())
        return found
