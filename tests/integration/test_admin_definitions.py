"""Admin API for event and streak definitions (docs/api.md#rules-admin-api), and their effect on
events."""

from __future__ import annotations

from typing import Any

import pytest

EXAMPLE_PURCHASE = {
    "name": "Purchase completed",
    "active": True,
    "points": {
        "fixed": 5,
        "perUnit": {"field": "orderValue", "rate": 2, "rounding": "floor", "max": 1000},
    },
    "conditions": {"all": [{"field": "orderValue", "op": "gte", "value": 20}]},
    "maxCompletions": {"count": 1, "period": "day"},
    "groupRewards": {"subscriber": {"multiplier": 2}},
    "metadataSchema": {"orderValue": "number"},
}
EXAMPLE_STREAK = {
    "name": "Daily app use",
    "events": ["daily_login"],
    "period": "day",
    "timezone": "UTC",
    "conditions": {"all": [{"field": "platform", "op": "exists"}]},
    "active": True,
    "milestones": [{"count": 3, "points": 20, "badge": "on_fire"}, {"count": 7, "points": 50}],
    "freezes": {"initial": 0, "max": 2, "earnEvery": 7},
}


def put(client: Any, auth: Any, path: str, body: Any) -> Any:
    return client.put(path, json=body, headers=auth("admin"))


def test_design_event_example_is_stored_and_returned(client: Any, auth: Any) -> None:
    response = put(client, auth, "/admin/events/purchase_completed", EXAMPLE_PURCHASE)

    assert response.status_code == 200
    data = response.json["data"]
    assert {k: data[k] for k in EXAMPLE_PURCHASE} == EXAMPLE_PURCHASE
    assert data["eventId"] == "purchase_completed"
    assert data["createdAt"].endswith("Z") and data["updatedAt"].endswith("Z")
    fetched = client.get("/admin/events/purchase_completed", headers=auth("admin"))
    assert fetched.json["data"] == data


def test_design_streak_example_is_stored_and_returned(client: Any, auth: Any) -> None:
    response = put(client, auth, "/admin/streaks/daily_app_use", EXAMPLE_STREAK)

    assert response.status_code == 200
    data = response.json["data"]
    assert {k: data[k] for k in EXAMPLE_STREAK} == EXAMPLE_STREAK
    assert data["streakId"] == "daily_app_use"


def test_list_returns_the_projects_definitions_only(client: Any, auth: Any, define: Any) -> None:
    define("events", "b_event", {"points": {"fixed": 1}})
    define("events", "a_event", {"points": {"fixed": 2}})
    define("events", "elsewhere", {"points": {"fixed": 3}}, project="globex")

    response = client.get("/admin/events", headers=auth("admin"))

    assert [item["eventId"] for item in response.json["data"]["items"]] == ["a_event", "b_event"]


def test_put_replaces_and_keeps_created_at(client: Any, auth: Any, define: Any) -> None:
    first = define("events", "e", {"points": {"fixed": 1}, "metadataSchema": {"x": "number"}})

    second = define("events", "e", {"points": {"fixed": 2}})

    assert second["points"]["fixed"] == 2
    assert "metadataSchema" not in second
    assert second["createdAt"] == first["createdAt"]


def test_get_then_put_round_trips(client: Any, auth: Any, define: Any) -> None:
    stored = define("events", "purchase", EXAMPLE_PURCHASE)

    response = put(client, auth, "/admin/events/purchase", stored)

    assert response.status_code == 200


def test_id_in_body_must_match_path(client: Any, auth: Any) -> None:
    response = put(client, auth, "/admin/events/one", {"eventId": "two"})

    assert response.status_code == 400
    assert "eventId" in response.json["error"]["details"]


def test_invalid_id_in_path_is_400(client: Any, auth: Any) -> None:
    response = put(client, auth, "/admin/events/bad id!", {})

    assert response.status_code == 400
    assert "eventId" in response.json["error"]["details"]


def test_delete_deactivates(client: Any, auth: Any, define: Any) -> None:
    define("events", "e", {"points": {"fixed": 1}})

    response = client.delete("/admin/events/e", headers=auth("admin"))

    assert response.status_code == 200
    assert response.json["data"]["active"] is False
    assert client.get("/admin/events/e", headers=auth("admin")).json["data"]["active"] is False


@pytest.mark.parametrize("method", ["get", "delete"])
def test_unknown_definition_is_404(client: Any, auth: Any, method: str) -> None:
    response = getattr(client, method)("/admin/streaks/nope", headers=auth("admin"))

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"points": {"fixed": -1}}, "points.fixed"),
        ({"points": {"fixed": 1.5}}, "points.fixed"),
        ({"points": {"fixed": "5"}}, "points.fixed"),
        ({"points": {"perUnit": {"field": "orderValue"}}}, "points.perUnit.rate"),
        ({"points": {"perUnit": {"field": "orderValue", "rate": 0}}}, "points.perUnit.rate"),
        ({"points": {"perUnit": {"field": "bad-field", "rate": 1}}}, "points.perUnit.field"),
        (
            {"points": {"perUnit": {"field": "v", "rate": 1, "rounding": "up"}}},
            "points.perUnit.rounding",
        ),
        (
            {
                "conditions": {
                    "all": [
                        {"field": "a", "op": "eq", "value": 1},
                        {"field": "b", "op": "like", "value": 1},
                    ]
                }
            },
            "conditions.all[1].op",
        ),
        (
            {"conditions": {"any": [{"not": {"field": "a", "op": "gt", "value": "x"}}]}},
            "conditions.any[0].not.value",
        ),
        ({"conditions": {"all": []}}, "conditions.all"),
        ({"conditions": "orderValue > 20"}, "conditions"),
        ({"maxCompletions": {"count": 0, "period": "day"}}, "maxCompletions.count"),
        ({"maxCompletions": {"count": 1, "period": "year"}}, "maxCompletions.period"),
        ({"groupRewards": {"vip": {"multiplier": -1}}}, "groupRewards.vip.value.multiplier"),
        ({"metadataSchema": {"orderValue": "decimal"}}, "metadataSchema.orderValue.value"),
        ({"active": "yes please"}, "active"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_event_definition_is_400_with_path(
    client: Any, auth: Any, body: Any, path: str
) -> None:
    response = put(client, auth, "/admin/events/e", body)

    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert path in response.json["error"]["details"], response.json["error"]["details"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "events"),
        ({"events": []}, "events"),
        ({"events": ["bad id!"]}, "events[0]"),
        ({"events": ["e"], "period": "year"}, "period"),
        ({"events": ["e"], "timezone": "Mars/Olympus"}, "timezone"),
        ({"events": ["e"], "milestones": [{"count": 0}]}, "milestones[0].count"),
        ({"events": ["e"], "milestones": [{"count": 3}, {"count": 3}]}, "milestones"),
        ({"events": ["e"], "freezes": {"initial": 3, "max": 2}}, "freezes.initial"),
        ({"events": ["e"], "freezes": {"earnEvery": 0}}, "freezes.earnEvery"),
    ],
)
def test_invalid_streak_definition_is_400_with_path(
    client: Any, auth: Any, body: Any, path: str
) -> None:
    response = put(client, auth, "/admin/streaks/s", body)

    assert response.status_code == 400, response.json
    assert path in response.json["error"]["details"], response.json["error"]["details"]


# --- the definitions at work ------------------------------------------------------------------


def test_conditions_not_met_awards_nothing_but_records_the_event(
    define: Any, send: Any, db: Any
) -> None:
    define("events", "purchase", EXAMPLE_PURCHASE)

    response = send("purchase", metadata={"orderValue": 10})

    data = response.json["data"]
    assert (data["pointsAwarded"], data["rewarded"], data["reason"]) == (
        0,
        False,
        "conditions_not_met",
    )
    assert db.events.count_documents({"eventId": "purchase"}) == 1
    assert db.ledger.count_documents({}) == 0


def test_fixed_plus_per_unit_and_daily_cap(define: Any, send: Any) -> None:
    define("events", "purchase", EXAMPLE_PURCHASE)

    first = send("purchase", metadata={"orderValue": 25.5})
    second = send("purchase", metadata={"orderValue": 25.5})

    assert first.json["data"]["pointsAwarded"] == 5 + 51
    assert (second.json["data"]["pointsAwarded"], second.json["data"]["reason"]) == (
        0,
        "limit_reached",
    )
    assert second.json["data"]["balance"] == 56


def test_group_multiplier_applies_to_the_users_group(define: Any, send: Any) -> None:
    define("events", "purchase", EXAMPLE_PURCHASE)

    response = send(
        "purchase", user_id="vip", metadata={"orderValue": 20, "usergroup": "subscriber"}
    )

    assert response.json["data"]["pointsAwarded"] == (5 + 40) * 2


def test_streak_conditions_gate_the_streak(define: Any, send: Any) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    define("streaks", "daily_app_use", EXAMPLE_STREAK)

    without = send("daily_login", user_id="a")
    with_platform = send("daily_login", user_id="b", metadata={"platform": "ios"})

    assert without.json["data"]["streaks"] == []
    assert with_platform.json["data"]["streaks"][0]["currentCount"] == 1


def test_deactivated_streak_stops_counting(client: Any, auth: Any, define: Any, send: Any) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    define("streaks", "daily_app_use", {"events": ["daily_login"]})
    client.delete("/admin/streaks/daily_app_use", headers=auth("admin"))

    assert send("daily_login").json["data"]["streaks"] == []


@pytest.mark.parametrize("method", ["get", "delete"])
def test_another_projects_definition_is_404(
    client: Any, auth: Any, define: Any, method: str
) -> None:
    define("events", "theirs", {"points": {"fixed": 1}}, project="globex")

    response = getattr(client, method)("/admin/events/theirs", headers=auth("admin"))

    assert response.status_code == 404
    stored = client.get("/admin/events/theirs", headers=auth("admin", project="globex"))
    assert stored.json["data"]["active"] is True
