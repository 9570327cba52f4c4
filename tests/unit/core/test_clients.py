"""The MongoDB client states what the exactly-once path relies on (issue 14, item 1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import ReadPreference

from core.clients import MONGO_APPNAME, MONGO_TIMEOUT_MS, Clients
from core.settings import Settings
from rules.stores.users import UserStore

# Nothing listens on port 1: the client is built, never used.
URI = "mongodb://127.0.0.1:1/?readPreference=secondaryPreferred&w=1"


@pytest.fixture
def production_db() -> Iterator[Any]:
    db = Clients(Settings(mongo_uri=URI, jwt_secret="x" * 32)).mongo
    yield db
    db.client.close()


def test_writes_wait_for_a_majority_whatever_the_uri_says(production_db: Any) -> None:
    assert production_db.client.options.write_concern.document == {"w": "majority"}


def test_reads_go_to_the_primary_whatever_the_uri_says(production_db: Any) -> None:
    assert production_db.client.options.read_preference == ReadPreference.PRIMARY


def test_user_loads_are_pinned_to_the_primary(production_db: Any) -> None:
    secondary = production_db.client.get_database(
        production_db.name, read_preference=ReadPreference.SECONDARY_PREFERRED
    )

    users = UserStore(secondary)._users

    assert users.read_preference == ReadPreference.PRIMARY


def test_every_operation_has_an_overall_timeout(production_db: Any) -> None:
    assert production_db.client.options.timeout == MONGO_TIMEOUT_MS / 1000
    assert MONGO_TIMEOUT_MS < 30_000  # below gunicorn's worker timeout


def test_the_client_names_its_application(production_db: Any) -> None:
    assert production_db.client.options.pool_options.metadata["application"] == {
        "name": MONGO_APPNAME
    }
