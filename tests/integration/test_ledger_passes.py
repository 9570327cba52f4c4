"""The hourly balance check and the leaderboard rebuild read a project's whole ledger: both
passes are covered scans of one index, never fetching an entry (issue 14, item 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rules.stores.indexes import ensure_indexes
from rules.stores.ledger import TOTALS_INDEX, Ledger

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class RecordingCollection:
    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self.aggregations: list[tuple[list[dict[str, Any]], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def aggregate(self, pipeline: list[dict[str, Any]], **kwargs: Any) -> Any:
        self.aggregations.append((pipeline, kwargs))
        return self._collection.aggregate(pipeline, **kwargs)


def fields_read(pipeline: list[dict[str, Any]]) -> set[str]:
    """Every document field a $match/$group pipeline reads."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str) and value.startswith("$") and not value.startswith("$$"):
            found.add(value[1:])
        elif isinstance(value, dict):
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for stage in pipeline:
        if "$match" in stage:
            found.update(stage["$match"])
        else:
            walk(stage)
    return found


@pytest.fixture
def ledger(db: Any) -> tuple[Ledger, RecordingCollection]:
    ensure_indexes(db)
    ledger = Ledger(db)
    recording = RecordingCollection(db["ledger"])
    ledger._entries = recording  # type: ignore[assignment]
    db["ledger"].insert_many(
        [
            {
                "_id": "a",
                "project": "p",
                "userId": "u1",
                "delta": 5,
                "source": "event",
                "createdAt": NOW,
            },
            {
                "_id": "b",
                "project": "p",
                "userId": "u1",
                "delta": -2,
                "source": "adjustment",
                "createdAt": NOW,
            },
        ]
    )
    return ledger, recording


def test_balance_check_totals_are_a_covered_scan(
    db: Any, ledger: tuple[Ledger, RecordingCollection]
) -> None:
    store, recording = ledger

    assert store.totals_by_user("p") == {"u1": 3}

    ((pipeline, options),) = recording.aggregations
    assert options["hint"] == TOTALS_INDEX
    keys = set(dict(db["ledger"].index_information()[TOTALS_INDEX]["key"]))
    assert fields_read(pipeline) <= keys


def test_leaderboard_rebuild_pass_is_a_covered_scan(
    db: Any, ledger: tuple[Ledger, RecordingCollection]
) -> None:
    store, recording = ledger

    earned = dict(store.earned_by_user("p", ("event",), {"all": None}))

    assert earned == {"u1": {"all": (5, NOW)}}
    ((pipeline, options),) = recording.aggregations
    assert options["hint"] == TOTALS_INDEX
    keys = set(dict(db["ledger"].index_information()[TOTALS_INDEX]["key"]))
    assert fields_read(pipeline) <= keys
