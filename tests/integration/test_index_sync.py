"""`db init` on a database an older release indexed (issue 14, item 4): a changed TTL is
applied with collMod, a changed index is rebuilt, a unique one is never dropped silently."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import ASCENDING, IndexModel
from pymongo.errors import OperationFailure

from core.indexes import IndexChangeRefused, sync_indexes
from core.inmemory import in_memory_database
from reports.indexes import ensure_indexes as ensure_report_indexes
from rules.stores.indexes import ensure_indexes
from rules.stores.outbox import KEEP_FOR

THIRTY_DAYS = int(KEEP_FOR.total_seconds())


@pytest.fixture
def fresh() -> Any:
    return in_memory_database("laurel")


def test_db_init_applies_a_changed_ttl_in_place(fresh: Any) -> None:
    fresh.deliveries.create_indexes(
        [IndexModel([("createdAt", ASCENDING)], expireAfterSeconds=3600, name="expires")]
    )

    ensure_indexes(fresh)

    assert fresh.deliveries.index_information()["expires"]["expireAfterSeconds"] == THIRTY_DAYS


def test_a_changed_ttl_is_sent_as_one_collmod_command() -> None:
    class RecordingDatabase:
        def __init__(self) -> None:
            self.commands: list[dict[str, Any]] = []

        def command(self, command: dict[str, Any]) -> dict[str, Any]:
            self.commands.append(command)
            return {"ok": 1.0}

    class DeployedCollection:
        """What a server reports for a TTL index created by an older release."""

        name = "deliveries"
        database = RecordingDatabase()

        def index_information(self) -> dict[str, Any]:
            return {
                "_id_": {"key": [("_id", 1)], "v": 2},
                "expires": {"key": [("createdAt", 1.0)], "expireAfterSeconds": 3600, "v": 2},
            }

        def create_indexes(self, models: list[IndexModel]) -> None:
            raise AssertionError(f"nothing to create, got {models}")

    deployed = DeployedCollection()

    sync_indexes(
        deployed,  # type: ignore[arg-type]
        [IndexModel([("createdAt", ASCENDING)], expireAfterSeconds=THIRTY_DAYS, name="expires")],
    )

    assert deployed.database.commands == [
        {"collMod": "deliveries", "index": {"name": "expires", "expireAfterSeconds": THIRTY_DAYS}}
    ]


def test_the_test_store_refuses_collmod_of_a_missing_index(fresh: Any) -> None:
    fresh.deliveries.insert_one({"_id": 1})

    with pytest.raises(OperationFailure) as refused:
        fresh.command({"collMod": "deliveries", "index": {"name": "nope", "expireAfterSeconds": 1}})

    assert refused.value.code == 27


def test_db_init_rebuilds_the_sparse_pending_index_as_partial(fresh: Any) -> None:
    old = IndexModel(
        [("project", ASCENDING), ("pendingSince", ASCENDING)],
        sparse=True,
        name="project_pending_since",
    )
    fresh.users.create_indexes([old])

    ensure_indexes(fresh)

    index = fresh.users.index_information()["project_pending_since"]
    assert "sparse" not in index
    assert index["partialFilterExpression"] == {"pendingSince": {"$exists": True}}


def test_db_init_refuses_to_drop_a_unique_index_declared_differently(fresh: Any) -> None:
    swapped = [("userId", ASCENDING), ("project", ASCENDING)]
    fresh.users.create_indexes([IndexModel(swapped, unique=True, name="project_user")])

    with pytest.raises(IndexChangeRefused, match="users.project_user"):
        ensure_indexes(fresh)


def test_db_init_twice_changes_nothing(fresh: Any) -> None:
    ensure_indexes(fresh)
    ensure_report_indexes(fresh)
    before = {name: fresh[name].index_information() for name in fresh.list_collection_names()}

    ensure_indexes(fresh)
    ensure_report_indexes(fresh)

    after = {name: fresh[name].index_information() for name in fresh.list_collection_names()}
    assert after == before
