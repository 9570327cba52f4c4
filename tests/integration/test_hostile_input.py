"""Inputs that once reached a 500: each must be a 4xx in the envelope, or a sane 200."""

from __future__ import annotations

from typing import Any

import pytest

from rules.engine.points import MAX_AWARD

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def purchase(define: Any) -> None:
    define("events", "purchase", {"points": {"perUnit": {"field": "orderValue", "rate": 2}}})
    define(
        "events", "capped", {"points": {"perUnit": {"field": "orderValue", "rate": 2, "max": 1000}}}
    )


@pytest.mark.parametrize("value", [5e18, 1e30, 1.7e308, 2**63 - 1])
def test_huge_order_values_award_at_most_the_ceiling(
    purchase: None, send: Any, value: float
) -> None:
    first = send("purchase", metadata={"orderValue": value})
    second = send("purchase", metadata={"orderValue": value})
    capped = send("capped", user_id="other", metadata={"orderValue": value})

    assert first.status_code == 200, first.json
    assert first.json["data"]["pointsAwarded"] == MAX_AWARD
    assert second.json["data"]["balance"] == 2 * MAX_AWARD
    assert capped.json["data"]["pointsAwarded"] == 1000


@pytest.mark.parametrize(
    "metadata",
    [
        {"platform": "\ud800"},
        {"usergroup": "\udc00"},
        {"note": "ok", "other": "x\udfffy"},
    ],
)
def test_lone_surrogates_in_metadata_are_400(
    purchase: None, send: Any, metadata: dict[str, Any]
) -> None:
    response = send("purchase", metadata=metadata)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/admin/events/x", {"name": "\ud800"}),
        ("/admin/events/x", {"conditions": {"field": "a", "op": "eq", "value": "\udc00"}}),
        ("/admin/events/x", {"groupRewards": {"a\u0000b": {"multiplier": 2}}}),
        ("/admin/events/x", {"name": "line\nbreak"}),
        ("/admin/events/x", {"conditions": {"field": "a", "op": "gte", "value": 10**30}}),
        ("/admin/events/x", {"conditions": {"field": "a", "op": "in", "value": [10**20]}}),
        ("/admin/events/x", {"conditions": {"field": "a", "op": "between", "value": [1, 10**20]}}),
        ("/admin/events/x", {"conditions": {"field": "a", "op": "eq", "value": -(2**63) - 1}}),
        ("/admin/streaks/s", {"events": ["x"], "timezone": "America"}),
        ("/admin/streaks/s", {"events": ["x"], "timezone": "Europe/"}),
        ("/admin/streaks/s", {"events": ["x"], "timezone": "Etc"}),
    ],
)
def test_bad_definitions_are_400(client: Any, auth: Any, path: str, body: Any) -> None:
    response = client.put(path, json=body, headers=auth("admin"))

    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "validation_error"


@pytest.mark.parametrize("timezone", ["America", "Europe/", "Etc", "../../etc/passwd", ""])
def test_unknown_timezone_names_in_metadata_are_400(
    purchase: None, send: Any, timezone: str
) -> None:
    response = send("purchase", metadata={"timezone": timezone})

    assert response.status_code == 400
    assert "metadata.timezone" in response.json["error"]["details"]


@pytest.mark.parametrize(
    "timestamp",
    [
        "0001-01-01T00:30:00+01:00",
        "9999-12-31T23:59:00-01:00",
        "1969-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
        10**20,
    ],
)
def test_timestamps_out_of_range_are_400(purchase: None, send: Any, timestamp: Any) -> None:
    response = send("purchase", timestamp=timestamp, scope="events:write events:import")

    assert response.status_code == 400, response.json
    assert "timestamp" in response.json["error"]["details"]


@pytest.mark.parametrize(
    "body",
    [
        '{"eventId": "purchase", "userId": "u", "metadata": {"n": ' + "9" * 5000 + "}}",
        "[" * 7000 + "]" * 7000,
        '{"eventId": "purchase", "userId": "u", "metadata": {"n": 1e999999}}',
    ],
)
def test_pathological_json_is_400(purchase: None, client: Any, auth: Any, body: str) -> None:
    response = client.post("/event", data=body, headers={**auth(), **JSON})

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


def test_zero_point_completion_is_rewarded_without_reason(purchase: None, send: Any) -> None:
    response = send("purchase", metadata={"platform": "ios"})  # no orderValue: 0 per unit

    data = response.json["data"]
    assert (data["pointsAwarded"], data["rewarded"], data["reason"]) == (0, True, None)


@pytest.mark.parametrize(
    "timezone", ["localtime", "posixrules", "Factory", "right/UTC", "posix/Asia/Tokyo"]
)
def test_zone_files_that_are_not_iana_zones_are_400(
    purchase: None, send: Any, timezone: str
) -> None:
    response = send("purchase", metadata={"timezone": timezone})

    assert response.status_code == 400


def test_huge_integer_timestamp_is_400(purchase: None, client: Any, auth: Any) -> None:
    body = '{"eventId": "purchase", "userId": "u", "timestamp": ' + "9" * 400 + "}"

    response = client.post("/event", data=body, headers={**auth(), **JSON})

    assert response.status_code == 400
    assert "timestamp" in response.json["error"]["details"]


@pytest.mark.parametrize("depth", [400, 900])
def test_deeply_nested_but_parsable_json_is_400_not_500(
    purchase: None, client: Any, auth: Any, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    body = '{"eventId": "purchase", "userId": "u", "metadata": {"a": ' + nested + "}}"

    response = client.post("/event", data=body, headers={**auth(), **JSON})

    assert response.status_code == 400
    assert response.json["error"]["details"] == {"body": ["JSON may nest at most 32 levels deep"]}


def test_deeply_nested_conditions_are_400_not_500(client: Any, auth: Any) -> None:
    leaf: Any = {"field": "a", "op": "eq", "value": 1}
    for _ in range(200):
        leaf = {"all": [leaf]}

    response = client.put("/admin/events/deep", json={"conditions": leaf}, headers=auth("admin"))

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


@pytest.mark.parametrize("headers", [{}, JSON])
def test_put_without_a_body_is_400_and_keeps_the_definition(
    purchase: None, client: Any, auth: Any, headers: dict[str, str]
) -> None:
    response = client.put("/admin/events/purchase", headers={**auth("admin"), **headers})

    assert response.status_code == 400, response.json
    assert response.json["error"]["details"] == {"body": ["a JSON body is required"]}
    kept = client.get("/admin/events/purchase", headers=auth("admin")).json["data"]
    assert kept["points"]["perUnit"]["rate"] == 2
