"""Whether a stored document matches a point query's filter, decided without mongomock's
filter walk when the filter is of the plain kinds the request path asks (core.pointindex
reads the candidates of a point query and keeps those that match); by mongomock otherwise.
tests/unit/core/test_pointindex.py holds it equal to mongomock's `filter_applies`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bson import ObjectId
from mongomock import filtering

# mongomock is untyped.
_applies: Callable[[Any, Any], bool] = filtering.filter_applies

_EXACT = frozenset({str, int, ObjectId})  # equal in BSON exactly when equal in Python
# What an `$in` list may hold for `_is_in` to decide it: no regular expression among them.
_IN_KINDS = frozenset({str, int, float, bool, type(None), ObjectId})
_ABSENT: Any = object()


def matches(filter: Any, document: Mapping[str, Any]) -> bool:
    """mongomock's `filter_applies`, decided here while the filter's fields are of the kinds
    `_field_matches` decides (a point query's, and the pending-record check of
    rules.stores.users); by mongomock from the first field that is not. mongomock too
    answers False at the first field that does not match, without reading the others."""
    if type(filter) is dict:
        for field, wanted in filter.items():
            if type(field) is not str or field[:1] == "$":
                break
            matched = _field_matches(field, wanted, document)
            if matched is None:
                break
            if not matched:
                return False
        else:
            return True
    return _applies(filter, document)


def _field_matches(field: str, wanted: Any, document: Mapping[str, Any]) -> bool | None:
    """Whether `document` matches `{field: wanted}`, when that is plain: an equality to a str,
    int or ObjectId met by a value of the same type, at the top level or one level into a
    sub-document or an array of sub-documents (`pending.id`), `{"$size": n}` of a top-level
    array, or `{"$in": [...]}` of a top-level str, int or ObjectId (a batch's users). None for
    anything else."""
    kind = type(wanted)
    if kind is dict:
        if len(wanted) != 1 or "." in field:
            return None
        found = document.get(field, _ABSENT)
        if "$in" in wanted:
            return _is_in(found, wanted["$in"])
        size = wanted.get("$size")
        if type(size) is not int or size < 0 or type(found) is not list:
            return None
        return len(found) == size
    if kind not in _EXACT:
        return None
    head, dot, tail = field.partition(".")
    found = document.get(head, _ABSENT)
    if not dot:
        return found == wanted if type(found) is kind else None
    if not head or not tail.isidentifier():  # "a..b", "a.b.c", "a.0": mongomock decides
        return None
    if type(found) is dict:
        found = [found]
    elif type(found) is not list:
        return None
    matched = False
    for element in found:
        value = element.get(tail, _ABSENT) if type(element) is dict else None
        if value is _ABSENT:
            continue
        if type(value) is not kind:
            return None
        matched = matched or value == wanted
    return matched


def _is_in(found: Any, values: Any) -> bool | None:
    """mongomock's `$in` of a top-level value, for a str, int or ObjectId: whether it equals
    one of `values` in Python (mongomock's `_in_op` asks just that when none is a regular
    expression). None for anything else."""
    if type(found) not in _EXACT or type(values) is not list:
        return None
    if not _IN_KINDS.issuperset(map(type, values)):
        return None
    return found in values
