"""Event records as rules/stores/eventlog.py stores them, and checks shared by the report tests."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import bson

PROJECT = "acme"
DAY_0 = datetime(2024, 3, 1, tzinfo=UTC)
BSON_LEAVES = (str, int, float, bool, type(None), datetime)


def record(
    user: str = "u1",
    day: int = 0,
    metadata: Mapping[str, Any] | None = None,
    event_id: str = "purchase",
    seconds: int = 3600,
    points: int = 0,
    total_points: int | None = None,
    project: str = PROJECT,
) -> dict[str, Any]:
    """One stored event, `day` days after DAY_0 and `seconds` into that UTC day."""
    return {
        "project": project,
        "userId": user,
        "eventId": event_id,
        "timestamp": DAY_0 + timedelta(days=day, seconds=seconds),
        "metadata": dict(metadata or {}),
        "outcome": {
            "pointsAwarded": points,
            "totalPointsAwarded": points if total_points is None else total_points,
        },
    }


def day_of(offset: int) -> str:
    return (DAY_0 + timedelta(days=offset)).date().isoformat()


def bson_problems(doc: Any, path: str = "$") -> list[str]:
    """Where `doc` is not plain BSON-clean Python: exact types only (no subclasses, numpy
    scalars, date, Decimal, tuple), str keys without '.' or a leading '$', finite floats."""
    kind = type(doc)
    if kind is dict:
        problems = []
        for key, value in doc.items():
            if type(key) is not str or "." in key or key.startswith("$"):
                problems.append(f"{path}: bad key {key!r}")
            problems.extend(bson_problems(value, f"{path}.{key}"))
        return problems
    if kind is list:
        return [p for i, item in enumerate(doc) for p in bson_problems(item, f"{path}[{i}]")]
    if kind not in BSON_LEAVES:
        return [f"{path}: {kind.__name__}"]
    if kind is float and not math.isfinite(doc):
        return [f"{path}: {doc}"]
    return []


def assert_bson_clean(doc: dict[str, Any]) -> None:
    assert bson_problems(doc) == []
    assert bson.decode(bson.encode(doc)) == doc


def assert_close(
    actual: Any, expected: Any, path: str = "$", rel_tol: float = 1e-9, abs_tol: float = 1e-12
) -> None:
    """Equal, except floats, which may differ by float rounding."""
    if isinstance(expected, float) or isinstance(actual, float):
        assert isinstance(actual, int | float) and isinstance(expected, int | float), path
        assert math.isclose(actual, expected, rel_tol=rel_tol, abs_tol=abs_tol), (
            f"{path}: {actual} != {expected}"
        )
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), path
        for key in expected:
            assert_close(actual[key], expected[key], f"{path}.{key}", rel_tol, abs_tol)
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_close(a, e, f"{path}[{i}]", rel_tol, abs_tol)
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
