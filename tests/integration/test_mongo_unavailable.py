"""MongoDB failing over, out of reach or too slow answers 503 `unavailable` with Retry-After,
never a 500 (issue 14, item 1)."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    ExecutionTimeout,
    NetworkTimeout,
    NotPrimaryError,
    ServerSelectionTimeoutError,
    WriteConcernError,
    WTimeoutError,
)

from tests.integration.test_errors import assert_envelope

WRITE_CONCERN_ONLY = {
    "writeErrors": [],
    "writeConcernErrors": [{"code": 64, "errmsg": "waiting for replication timed out"}],
    "nInserted": 1,
}

UNAVAILABLE = [
    WriteConcernError("waiting for replication timed out", 64),
    WTimeoutError("waiting for replication timed out", 64),
    NotPrimaryError("not primary"),
    AutoReconnect("connection reset"),
    ExecutionTimeout("operation exceeded time limit", 50),
    NetworkTimeout("timed out"),
    ServerSelectionTimeoutError("no primary"),
    BulkWriteError(WRITE_CONCERN_ONLY),
]


@pytest.mark.parametrize("error", UNAVAILABLE, ids=lambda e: type(e).__name__)
def test_database_failure_is_503_unavailable_with_retry_after(
    define: Any, send: Any, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})

    def failing(*_args: Any, **_kwargs: Any) -> None:
        raise error

    monkeypatch.setattr("web.resources.events.record_event", failing)
    response = send("daily_login")

    assert_envelope(response, 503, "unavailable")
    # (flask-limiter raises the envelope's 1 s to its window's reset when that is later)
    assert int(response.headers["Retry-After"]) >= 1


def test_a_bulk_write_refused_for_its_documents_stays_a_500(
    define: Any, send: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})

    def refused(*_args: Any, **_kwargs: Any) -> None:
        raise BulkWriteError({"writeErrors": [{"index": 0, "code": 2, "errmsg": "bad"}]})

    monkeypatch.setattr("web.resources.events.record_event", refused)

    assert_envelope(send("daily_login"), 500, "internal_error")


def test_every_documented_operation_lists_503(client: Any) -> None:
    spec = client.get("/openapi.json").json
    operations = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "401" in operation.get("responses", {})
    ]

    assert operations
    assert [(p, m) for p, m, o in operations if "503" not in o["responses"]] == []
