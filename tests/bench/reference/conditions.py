# Frozen copy of rules/engine/conditions.py as of main 9948adc (before the engine's speed work): the
# reference engine of tests/bench/engine.py and tests/unit/rules/test_engine_equivalence.py.
# Do not edit: it is what the new engine is measured against and must agree with.
"""The condition language of docs/api.md#rules-admin-api, validated and compiled into plain Python
callables.

A condition is `{"all": [...]}`, `{"any": [...]}`, `{"not": c}` or a leaf
`{"field": name, "op": op, "value": v}`. A leaf on a field the event's metadata lacks is false,
except `exists`. Ordering operators compare numbers only (a string "10" is not greater than 9,
and booleans are not numbers); `eq` never equates `true` with `1`.

`compile_condition` validates the whole tree first and reports every bad node by its path
(`all[1].op`), then builds closures; nothing is ever `eval`-ed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeGuard

from rules.errors import InvalidDefinition

Metadata = Mapping[str, Any]
Predicate = Callable[[Metadata], bool]

METADATA_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")
MAX_DEPTH = 8
MAX_NODES = 100
MAX_CHOICES = 100

COMBINATORS = ("all", "any", "not")
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "exists", "between", "contains")
LEAF_KEYS = frozenset({"field", "op", "value"})


def always(_metadata: Metadata) -> bool:
    return True


def compile_condition(tree: Any) -> Predicate:
    """Validate `tree` and return its predicate; raise InvalidDefinition with every bad path."""
    errors: dict[str, list[str]] = {}
    budget = [MAX_NODES]
    _validate(tree, "", 0, budget, errors)
    if errors:
        raise InvalidDefinition("invalid condition", errors)
    return _build(tree)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def is_number(value: Any) -> TypeGuard[int | float]:
    """A finite number MongoDB can store: booleans are not numbers; ints fit in 64 bits."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    return isinstance(value, float) and math.isfinite(value)


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool) or is_number(value)


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _validate(
    node: Any, path: str, depth: int, budget: list[int], errors: dict[str, list[str]]
) -> None:
    def fail(where: str, message: str) -> None:
        errors.setdefault(where, []).append(message)

    budget[0] -= 1
    if budget[0] < 0:
        if budget[0] == -1:
            fail(path, f"a condition may hold at most {MAX_NODES} nodes")
        return
    if depth > MAX_DEPTH:
        fail(path, f"conditions may nest at most {MAX_DEPTH} levels deep")
        return
    if not isinstance(node, Mapping):
        fail(path, "must be an object: {all|any: [...]}, {not: ...} or {field, op, value}")
        return
    combinator = next((key for key in COMBINATORS if key in node), None)
    if combinator is not None:
        if len(node) != 1:
            fail(path, f"'{combinator}' must be the only key of its object")
            return
        operand = node[combinator]
        where = _child(path, combinator)
        if combinator == "not":
            _validate(operand, where, depth + 1, budget, errors)
            return
        if not isinstance(operand, list) or not operand:
            fail(where, "must be a non-empty list of conditions")
            return
        for index, item in enumerate(operand):
            _validate(item, f"{where}[{index}]", depth + 1, budget, errors)
        return
    _validate_leaf(node, path, fail)


def _validate_leaf(node: Mapping[str, Any], path: str, fail: Callable[[str, str], None]) -> None:
    for key in sorted(set(node) - LEAF_KEYS):
        fail(_child(path, key), "unknown key (a leaf has field, op and value)")
    field = node.get("field")
    if not isinstance(field, str) or not METADATA_KEY.fullmatch(field):
        fail(_child(path, "field"), "must be a metadata field name of 1-64 [A-Za-z0-9_]")
    op = node.get("op")
    if op not in OPERATORS:
        fail(_child(path, "op"), f"must be one of: {', '.join(OPERATORS)}")
        return
    where = _child(path, "value")
    if "value" not in node:
        if op != "exists":
            fail(where, "is required")
        return
    problem = _value_problem(op, node["value"])
    if problem:
        fail(where, problem)


def _value_problem(op: str, value: Any) -> str | None:
    if op in ("eq", "ne"):
        return None if is_scalar(value) else "must be a string, number, boolean or null"
    if op in ("gt", "gte", "lt", "lte"):
        return None if is_number(value) else "must be a finite number (integers: 64 bits)"
    if op in ("in", "nin"):
        if (
            isinstance(value, list)
            and 0 < len(value) <= MAX_CHOICES
            and all(is_scalar(item) for item in value)
        ):
            return None
        return f"must be a list of 1-{MAX_CHOICES} strings, numbers, booleans or nulls"
    if op == "between":
        if (
            isinstance(value, list)
            and len(value) == 2
            and all(map(is_number, value))
            and value[0] <= value[1]
        ):
            return None
        return "must be [low, high], two numbers with low <= high"
    if op == "contains":
        return None if isinstance(value, str) and value else "must be a non-empty string"
    return None if isinstance(value, bool) else "must be true or false"  # exists


def _build(node: Mapping[str, Any]) -> Predicate:
    if "all" in node:
        parts = [_build(item) for item in node["all"]]
        return lambda metadata: all(part(metadata) for part in parts)
    if "any" in node:
        parts = [_build(item) for item in node["any"]]
        return lambda metadata: any(part(metadata) for part in parts)
    if "not" in node:
        inner = _build(node["not"])
        return lambda metadata: not inner(metadata)
    return _build_leaf(node["field"], node["op"], node.get("value", True))


def _build_leaf(field: str, op: str, expected: Any) -> Predicate:
    if op == "exists":
        return lambda metadata: (metadata.get(field) is not None) is expected
    compare = _COMPARISONS[op]

    def leaf(metadata: Metadata) -> bool:
        return field in metadata and compare(metadata[field], expected)

    return leaf


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    return bool(actual == expected)


def _ordered(test: Callable[[float, float], bool]) -> Callable[[Any, Any], bool]:
    return lambda actual, expected: is_number(actual) and test(actual, expected)


def _member(actual: Any, choices: Sequence[Any]) -> bool:
    return any(_equal(actual, choice) for choice in choices)


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _equal,
    "ne": lambda actual, expected: not _equal(actual, expected),
    "gt": _ordered(lambda a, b: a > b),
    "gte": _ordered(lambda a, b: a >= b),
    "lt": _ordered(lambda a, b: a < b),
    "lte": _ordered(lambda a, b: a <= b),
    "in": _member,
    "nin": lambda actual, choices: not _member(actual, choices),
    "between": lambda actual, bounds: is_number(actual) and bounds[0] <= actual <= bounds[1],
    "contains": lambda actual, part: isinstance(actual, str) and part in actual,
}
