"""/openapi.json read by third-party tools, and the rules it states that the server keeps."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from web.demo import EVENTS

SCOPE_NOTE = re.compile(
    r"`(events:write|events:import|users:read|users:write|reports:read|admin)` scope"
)


@pytest.fixture
def spec(client: Any) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


def test_openapi_spec_validator_accepts_the_document(spec: dict[str, Any]) -> None:
    validate(spec)  # raises OpenAPIValidationError with the offending node otherwise


def test_patterns_are_anchored_and_free_of_python_only_syntax(spec: dict[str, Any]) -> None:
    patterns: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.append(node["pattern"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(spec)
    assert len(patterns) > 10
    for pattern in patterns:
        assert pattern.startswith("^") and pattern.endswith("$"), pattern
        assert "\\Z" not in pattern and "\\A" not in pattern and "(?P<" not in pattern, pattern


def test_every_success_response_lists_its_required_fields(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json")
            if not status.startswith("2") or content is None:
                continue
            envelope = schemas[content["schema"]["$ref"].rsplit("/", 1)[1]]
            assert envelope["required"] == ["data", "success"], (method, path)
            data = schemas[envelope["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
            assert data.get("required"), (method, path)
    assert set(schemas["EventResult"]["required"]) == set(schemas["EventResult"]["properties"])
    assert set(schemas["Error"]["required"]) == {"code", "message", "details"}
    assert set(schemas["BatchItemResult"]["required"]) == {"index", "status"}


def test_level_is_a_nullable_level_result_and_batch_items_are_events(
    spec: dict[str, Any],
) -> None:
    schemas = spec["components"]["schemas"]

    assert schemas["EventResult"]["properties"]["level"] == {
        "allOf": [{"$ref": "#/components/schemas/LevelResult"}],
        "nullable": True,
    }
    items = schemas["BatchRequest"]["properties"]["events"]["items"]
    assert items == {"$ref": "#/components/schemas/Event"}


def test_every_write_with_a_key_declares_the_idempotency_key_header(
    spec: dict[str, Any],
) -> None:
    declaring = {
        (method, path)
        for method, path, operation in operations(spec)
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }

    assert declaring == {
        ("post", "/event"),
        ("post", "/v1/event"),
        ("post", "/users/{userId}/adjustments"),
        ("post", "/users/{userId}/streaks/{streakId}/restore"),
        ("post", "/users/{userId}/streaks/{streakId}/freezes"),
    }


def test_every_authenticated_operation_names_its_scope(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        if operation.get("security") == []:
            continue  # health checks need no token
        assert SCOPE_NOTE.search(operation.get("description", "")), (method, path)
    run = spec["paths"]["/analytics/reports/run"]["post"]
    assert "`admin` scope" in run["description"]


def test_the_document_states_the_rules_of_event_fields(spec: dict[str, Any]) -> None:
    event = spec["components"]["schemas"]["Event"]["properties"]
    metadata = event["metadata"]
    assert metadata["maxProperties"] == 10
    kinds = {item["type"] for item in metadata["additionalProperties"]["anyOf"]}
    assert kinds == {"string", "integer", "number", "boolean"}
    assert metadata["additionalProperties"]["nullable"] is True
    epoch = next(item for item in event["timestamp"]["anyOf"] if item["type"] == "integer")
    assert epoch["minimum"] == 100_000_000_000
    adjustment = spec["components"]["schemas"]["Adjustment"]["properties"]["delta"]
    assert adjustment["not"] == {"enum": [0]}


def test_path_and_query_parameters_state_their_formats(spec: dict[str, Any]) -> None:
    def parameter(path: str, name: str, method: str = "get") -> dict[str, Any]:
        item = spec["paths"][path]
        every = item.get("parameters", []) + item[method].get("parameters", [])
        schema: dict[str, Any] = next(p for p in every if p["name"] == name)["schema"]
        return schema

    export = re.compile(parameter("/analytics/exports/{name}", "name")["pattern"])
    assert export.match("demo-20261126T000000Z.csv") and not export.match("../etc/passwd")
    event_id = re.compile(parameter("/admin/events/{eventId}", "eventId")["pattern"])
    assert event_id.match("daily_login") and not event_id.match("daily login")
    since = re.compile(parameter("/users/{userId}/history", "from")["pattern"])
    for valid in ("1700000000000", "2026-11-30T12:00:00Z", "2026-11-30T12:00:00.123+02:00"):
        assert since.match(valid), valid
    for invalid in ("1700000000", "2026-11-30", "yesterday", "2300-01-01T00:00:00Z"):
        assert not since.match(invalid), invalid
    day = re.compile(parameter("/analytics/events", "from")["pattern"])
    assert day.match("2026-11-01") and day.match("1700000000000") and not day.match("11/01/2026")


@pytest.mark.parametrize("active", [0, 1, "off", "yes", "true", None])
def test_booleans_are_not_coerced(client: Any, auth: Any, active: Any) -> None:
    body = {"points": {"fixed": 1}, "active": active}

    response = client.put("/admin/events/login", json=body, headers=auth("admin"))

    assert response.status_code == 400, response.json
    assert list(response.json["error"]["details"]) == ["active"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points": {"perUnit": {"field": "orderValue", "rate": "2"}}}, "points.perUnit.rate"),
        ({"groupRewards": {"vip": {"multiplier": "2"}}}, "groupRewards.vip.value.multiplier"),
        ({"groupRewards": {"vip": {"multiplier": True}}}, "groupRewards.vip.value.multiplier"),
        ({"points": {"perUnit": {"field": "order\\nValue", "rate": 2}}}, "points.perUnit.field"),
    ],
)
def test_numbers_are_not_coerced_from_strings(
    client: Any, auth: Any, body: dict[str, Any], field: str
) -> None:
    response = client.put("/admin/events/login", json=body, headers=auth("admin"))

    assert response.status_code == 400, response.json
    assert field in response.json["error"]["details"], response.json


def test_booleans_and_numbers_of_the_right_type_are_taken(client: Any, auth: Any) -> None:
    body = {**EVENTS["purchase_completed"], "active": False}

    response = client.put("/admin/events/purchase", json=body, headers=auth("admin"))
    webhook = {"url": "https://example.com/h", "secret": "s" * 16, "events": ["level.changed"]}
    refused = client.put(
        "/admin/webhooks/h", json={**webhook, "active": "false"}, headers=auth("admin")
    )

    assert response.status_code == 200 and response.json["data"]["active"] is False
    assert refused.status_code == 400 and "active" in refused.json["error"]["details"]


def test_a_metadata_field_name_ending_in_a_newline_is_refused(
    client: Any, auth: Any, define: Any
) -> None:
    body = {"points": {"fixed": 1}, "metadataSchema": {"orderValue\\n": "number"}}

    response = client.put("/admin/events/login", json=body, headers=auth("admin"))

    assert response.status_code == 400, response.json


def test_retry_after_only_on_429_and_503(client: Any, auth: Any, define: Any) -> None:
    define("events", "login", {"points": {"fixed": 1}})

    ok = client.post("/event", json={"eventId": "login", "userId": "a"}, headers=auth())
    missing = client.post("/event", json={"eventId": "nope", "userId": "a"}, headers=auth())

    assert ok.status_code == 200 and "Retry-After" not in ok.headers
    assert missing.status_code == 404 and "Retry-After" not in missing.headers


@pytest.mark.parametrize(
    ("path", "body", "status", "details"),
    [
        (
            "/event",
            {"eventId": "nope", "userId": "a"},
            404,
            {"eventId": ["is not defined or not active"]},
        ),
        (
            "/users/nobody/adjustments",
            {"delta": 1, "reason": "r"},
            404,
            {"userId": ["no such user in this project"]},
        ),
        ("/event", {"eventId": "login"}, 400, {"userId": ["Missing data for required field."]}),
    ],
)
def test_error_details_map_field_paths_to_lists_of_messages(
    client: Any, auth: Any, define: Any, path: str, body: Any, status: int, details: Any
) -> None:
    define("events", "login", {"points": {"fixed": 1}})

    response = client.post(path, json=body, headers=auth("admin", subject="support"))

    assert response.status_code == status, response.json
    assert response.json["error"]["details"] == details
