"""Schemathesis over every documented operation: no 500, and every answer matches /openapi.json.

Derandomized and small, so it stays fast and gives the same cases on every run; longer runs
(`st run` against `make run`) are for exploring.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from web.demo import CHALLENGES, EVENTS, LEVELS, STREAKS

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Ids that exist (see api_schema), so that some cases get past the 404s to the engine.
KNOWN = {
    "eventId": "daily_login",
    "streakId": "daily_app_use",
    "challengeId": "five_levels",
    "userId": "player",
    "webhookId": "hook",
}


@pytest.fixture
def api_schema(app: Any, client: Any, auth: Any, define: Any, send: Any) -> Any:
    for kind, definitions in (("events", EVENTS), ("streaks", STREAKS), ("challenges", CHALLENGES)):
        for definition_id, body in definitions.items():
            define(kind, definition_id, body)
    admin = auth("admin")
    assert client.put("/admin/levels", json=LEVELS, headers=admin).status_code == 200
    hook = {  # inactive: no delivery leaves the test
        "url": "https://example.com/hook",
        "secret": "s" * 16,
        "events": ["level.changed"],
        "active": False,
    }
    assert client.put("/admin/webhooks/hook", json=hook, headers=admin).status_code == 200
    assert send("daily_login", user_id="player").status_code == 200
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


def cases(operation: Any) -> st.SearchStrategy[Any]:
    known = {name: value for name, value in KNOWN.items() if f"{{{name}}}" in operation.path}
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known),
    )


# Not schemathesis.pytest.from_fixture: it reads a private pytest attribute pytest 9 lacks.
def test_operations_never_answer_500_nor_off_the_document(api_schema: Any, auth: Any) -> None:
    headers = auth("admin", subject="fuzzer")  # support actions refuse a token without sub
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30

    for operation in operations:

        @given(case=cases(operation))
        @settings(
            max_examples=12,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        answers_as_documented()
