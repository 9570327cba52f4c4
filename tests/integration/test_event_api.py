"""POST /event through the Flask client: the brief's examples, validation, points, streaks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core import clock
from rules.stores.ledger import Ledger
from tests.brief import (
    BRIEF_LEVEL_METADATA,
    BRIEF_LOGIN_METADATA,
    BRIEF_PURCHASE_METADATA,
    RESPONSE_FIELDS,
    STREAK_FIELDS,
)
from tests.conftest import PROJECT
from tests.support.dates import iso


@pytest.fixture
def brief_events(define: Any) -> None:
    define("events", "daily_login", {"name": "Daily login", "points": {"fixed": 10}})
    define(
        "events", "purchase_completed", {"points": {"perUnit": {"field": "orderValue", "rate": 2}}}
    )
    define("events", "level_completed", {"points": {"fixed": 5}})
    define(
        "streaks",
        "daily_app_use",
        {
            "events": ["daily_login"],
            "period": "day",
            "milestones": [{"count": 3, "points": 20, "badge": "on_fire"}],
        },
    )


def test_brief_daily_login_returns_points_and_streak(brief_events: None, send: Any) -> None:
    now = clock.now()
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # what the API keeps
    with clock.using(clock.frozen(now)):
        response = send("daily_login", metadata=BRIEF_LOGIN_METADATA)

    assert response.status_code == 200
    assert response.json["success"] is True
    data = response.json["data"]
    assert set(data) == RESPONSE_FIELDS
    assert (data["eventId"], data["userId"]) == ("daily_login", "user123")
    assert (data["pointsAwarded"], data["totalPointsAwarded"], data["balance"]) == (10, 10, 10)
    assert data["rewarded"] is True and data["reason"] is None
    assert data["challenges"] == [] and data["badges"] == [] and data["level"] is None
    [streak] = data["streaks"]
    assert set(streak) == STREAK_FIELDS
    assert streak == {
        "streakId": "daily_app_use",
        "currentCount": 1,
        "longestCount": 1,
        "lastUpdate": streak["lastUpdate"],
        "milestoneReached": False,
        "pointsAwarded": 0,
        "freezesUsed": 0,
    }
    assert streak["lastUpdate"].endswith("Z") and len(streak["lastUpdate"]) == 24
    assert data["timestamp"] == round(now.timestamp() * 1000)  # the time of receipt, by default


def test_brief_purchase_awards_two_points_per_unit_of_order_value(
    brief_events: None, send: Any
) -> None:
    response = send("purchase_completed", user_id="user456", metadata=BRIEF_PURCHASE_METADATA)

    assert response.status_code == 200
    assert response.json["data"]["pointsAwarded"] == 259  # floor(129.99 * 2)
    assert response.json["data"]["streaks"] == []


def test_brief_level_completion_with_eight_metadata_fields(brief_events: None, send: Any) -> None:
    response = send("level_completed", user_id="gamer789", metadata=BRIEF_LEVEL_METADATA)

    assert response.status_code == 200
    assert response.json["data"]["pointsAwarded"] == 5


def test_v1_path_is_the_same_endpoint(brief_events: None, client: Any, auth: Any) -> None:
    response = client.post(
        "/v1/event", json={"eventId": "daily_login", "userId": "u1"}, headers=auth()
    )

    assert response.status_code == 200
    assert response.json["data"]["pointsAwarded"] == 10


def test_balance_accumulates_and_equals_ledger_sum(brief_events: None, send: Any, db: Any) -> None:
    send("daily_login", user_id="u1")
    send("purchase_completed", user_id="u1", metadata={"orderValue": 12.5})
    last = send("level_completed", user_id="u1")

    assert last.json["data"]["balance"] == 10 + 25 + 5
    assert Ledger(db).balance(PROJECT, "u1") == 40
    user = db.users.find_one({"project": PROJECT, "userId": "u1"})
    assert user["points"] == {"balance": 40, "lifetime": 40}
    assert user["pending"] == []
    assert db.events.count_documents({"project": PROJECT, "userId": "u1"}) == 3


def test_new_user_is_created_with_profile_from_metadata(
    brief_events: None, send: Any, db: Any
) -> None:
    send(
        "daily_login",
        user_id="newbie",
        metadata={"usergroup": "subscriber", "timezone": "Europe/Berlin"},
    )

    user = db.users.find_one({"project": PROJECT, "userId": "newbie"})
    assert user["usergroup"] == "subscriber"
    assert user["timezone"] == "Europe/Berlin"
    assert user["eventCount"] == 1


def test_event_is_stored_with_metadata_and_outcome(brief_events: None, send: Any, db: Any) -> None:
    send("purchase_completed", metadata={"orderValue": 3, "platform": "web"})

    stored = db.events.find_one({"project": PROJECT, "eventId": "purchase_completed"})
    assert stored["metadata"] == {"orderValue": 3, "platform": "web"}
    assert stored["outcome"]["pointsAwarded"] == 6


# --- 404: unknown, inactive, another project's event; nothing stored -------------------------


def test_unknown_event_is_404_and_stores_nothing(send: Any, db: Any) -> None:
    response = send("never_defined")

    assert response.status_code == 404
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "event_not_found"
    assert db.users.count_documents({}) == 0
    assert db.events.count_documents({}) == 0


def test_inactive_event_is_404(
    brief_events: None, client: Any, auth: Any, send: Any, db: Any
) -> None:
    assert client.delete("/admin/events/daily_login", headers=auth("admin")).status_code == 200

    response = send("daily_login")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "event_not_found"
    assert db.users.count_documents({}) == 0


def test_event_of_another_project_is_404(define: Any, send: Any) -> None:
    define("events", "other_event", {"points": {"fixed": 1}}, project="other")

    response = send("other_event")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "event_not_found"


def test_projects_do_not_share_users(define: Any, client: Any, auth: Any) -> None:
    for project in ("acme", "globex"):
        define("events", "login", {"points": {"fixed": 7}}, project=project)
    body = {"eventId": "login", "userId": "same-id"}

    client.post("/event", json=body, headers=auth(project="acme"))
    second = client.post("/event", json=body, headers=auth(project="globex"))

    assert second.json["data"]["balance"] == 7


# --- 400: each validation rule -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"userId": "u"}, "eventId"),
        ({"eventId": "daily_login"}, "userId"),
        ({"eventId": "", "userId": "u"}, "eventId"),
        ({"eventId": "a" * 65, "userId": "u"}, "eventId"),
        ({"eventId": "bad id!", "userId": "u"}, "eventId"),
        ({"eventId": 12, "userId": "u"}, "eventId"),
        ({"eventId": "daily_login", "userId": ""}, "userId"),
        ({"eventId": "daily_login", "userId": "u" * 129}, "userId"),
        ({"eventId": "daily_login", "userId": "tab\there"}, "userId"),
        ({"eventId": "daily_login", "userId": 42}, "userId"),
        ({"eventId": "daily_login", "userId": "u", "metadata": [1]}, "metadata"),
        ({"eventId": "daily_login", "userId": "u", "metadata": "x"}, "metadata"),
        (
            {"eventId": "daily_login", "userId": "u", "metadata": {f"f{i}": i for i in range(11)}},
            "metadata",
        ),
        (
            {"eventId": "daily_login", "userId": "u", "metadata": {"nested": {"a": 1}}},
            "metadata.nested",
        ),
        ({"eventId": "daily_login", "userId": "u", "metadata": {"list": [1, 2]}}, "metadata.list"),
        ({"eventId": "daily_login", "userId": "u", "metadata": {"bad-key": 1}}, "metadata.bad-key"),
        (
            {"eventId": "daily_login", "userId": "u", "metadata": {"k" * 65: 1}},
            f"metadata.{'k' * 65}",
        ),
        ({"eventId": "daily_login", "userId": "u", "metadata": {"s": "x" * 257}}, "metadata.s"),
        ({"eventId": "daily_login", "userId": "u", "metadata": {"big": 2**64}}, "metadata.big"),
        (
            {"eventId": "daily_login", "userId": "u", "metadata": {"timezone": "Mars/Olympus"}},
            "metadata.timezone",
        ),
        (
            {"eventId": "daily_login", "userId": "u", "metadata": {"usergroup": 5}},
            "metadata.usergroup",
        ),
        ({"eventId": "daily_login", "userId": "u", "surprise": 1}, "surprise"),
        ({"eventId": "daily_login", "userId": "u", "timestamp": "yesterday"}, "timestamp"),
        (
            {"eventId": "daily_login", "userId": "u", "timestamp": "2024-04-07T12:00:00"},
            "timestamp",
        ),
        ({"eventId": "daily_login", "userId": "u", "timestamp": 1700000000}, "timestamp"),
        ({"eventId": "daily_login", "userId": "u", "timestamp": True}, "timestamp"),
    ],
)
def test_invalid_body_is_400_naming_the_field(
    brief_events: None, client: Any, auth: Any, db: Any, body: dict[str, Any], field: str
) -> None:
    response = client.post("/event", json=body, headers=auth())

    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"], error
    assert field in error["message"]
    assert db.users.count_documents({}) == 0


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_metadata_numbers_are_400(
    brief_events: None, client: Any, auth: Any, raw: str
) -> None:
    body = '{"eventId": "daily_login", "userId": "u", "metadata": {"x": RAW}}'.replace("RAW", raw)

    response = client.post(
        "/event", data=body, headers={**auth(), "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert "metadata.x" in response.json["error"]["details"]


def test_malformed_json_is_400(client: Any, auth: Any) -> None:
    response = client.post(
        "/event", data='{"eventId": ', headers={**auth(), "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


def test_body_without_json_content_type_is_400_saying_so(client: Any, auth: Any) -> None:
    response = client.post(
        "/event",
        data='{"eventId": "daily_login", "userId": "u"}',
        headers={**auth(), "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 400
    assert "Content-Type" in response.json["error"]["details"]


def test_json_array_body_is_400(client: Any, auth: Any) -> None:
    response = client.post("/event", json=[{"eventId": "x", "userId": "u"}], headers=auth())

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


def test_metadata_null_and_all_value_types_are_accepted(brief_events: None, send: Any) -> None:
    metadata = {"s": "x" * 256, "i": -(2**63), "f": 1.5, "b": False, "n": None}

    assert send("daily_login", user_id="a", metadata=metadata).status_code == 200
    assert send("daily_login", user_id="b", metadata=None).status_code == 200


def test_metadata_schema_mismatch_is_400_and_stores_nothing(
    define: Any, send: Any, db: Any
) -> None:
    define(
        "events",
        "purchase",
        {
            "points": {"perUnit": {"field": "orderValue", "rate": 2}},
            "metadataSchema": {"orderValue": "number"},
        },
    )

    response = send("purchase", metadata={"orderValue": "12"})

    assert response.status_code == 400
    assert "metadata.orderValue" in response.json["error"]["details"]
    assert db.events.count_documents({}) == 0


# --- timestamps ------------------------------------------------------------------------------


def test_timestamp_accepts_epoch_ms_and_iso(brief_events: None, send: Any) -> None:
    moment = clock.now().replace(microsecond=123000) - timedelta(hours=1)
    millis = int(moment.timestamp()) * 1000 + 123

    by_ms = send("daily_login", user_id="a", timestamp=millis)
    by_iso = send("daily_login", user_id="b", timestamp=iso(moment))

    assert by_ms.json["data"]["timestamp"] == millis
    assert by_iso.json["data"]["timestamp"] == millis
    assert by_iso.json["data"]["streaks"][0]["lastUpdate"] == iso(moment)[:23] + "Z"


def test_timestamp_more_than_five_minutes_ahead_is_400(brief_events: None, send: Any) -> None:
    response = send("daily_login", timestamp=iso(clock.now() + timedelta(minutes=6)))

    assert response.status_code == 400
    assert "timestamp" in response.json["error"]["details"]


def test_timestamp_slightly_ahead_is_accepted(brief_events: None, send: Any) -> None:
    response = send("daily_login", timestamp=iso(clock.now() + timedelta(minutes=4)))

    assert response.status_code == 200


def test_events_older_than_seven_days_need_import_scope(brief_events: None, send: Any) -> None:
    old = iso(clock.now() - timedelta(days=8))

    refused = send("daily_login", timestamp=old)
    imported = send("daily_login", timestamp=old, scope="events:write events:import")

    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "forbidden"
    assert "events:import" in refused.json["error"]["message"]
    assert imported.status_code == 200


# --- streaks through the API -----------------------------------------------------------------


def test_streak_counts_days_from_event_timestamps(brief_events: None, send: Any) -> None:
    day = clock.now().replace(hour=12, minute=0, second=0, microsecond=0)

    def login(days_ago: int, hour: int = 12) -> dict[str, Any]:
        moment = day - timedelta(days=days_ago) + timedelta(hours=hour - 12)
        response = send("daily_login", timestamp=iso(moment), scope="events:write events:import")
        assert response.status_code == 200, response.json
        streak: dict[str, Any] = response.json["data"]["streaks"][0]
        return streak

    assert login(6)["currentCount"] == 1
    assert login(6, hour=20)["currentCount"] == 1  # same day: unchanged
    assert login(5)["currentCount"] == 2  # next day: +1
    third = login(4)
    assert third["currentCount"] == 3 and third["milestoneReached"] is True
    assert third["pointsAwarded"] == 20
    after_gap = login(1)  # two days missed: back to 1
    assert (after_gap["currentCount"], after_gap["longestCount"]) == (1, 3)


def test_milestone_points_and_badge_reach_the_response_and_balance(
    brief_events: None, send: Any, db: Any
) -> None:
    start = clock.now() - timedelta(days=2)
    responses = [send("daily_login", timestamp=iso(start + timedelta(days=n))) for n in range(3)]

    third = responses[-1].json["data"]
    assert third["pointsAwarded"] == 10
    assert third["totalPointsAwarded"] == 30
    assert third["badges"] == ["on_fire"]
    assert third["balance"] == 50
    assert Ledger(db).balance(PROJECT, "user123") == 50
    assert db.ledger.count_documents({"source": "streak"}) == 1


def test_limits_are_inclusive(define: Any, send: Any) -> None:
    longest_id = "e" * 64
    define("events", longest_id, {"points": {"fixed": 1}})
    metadata = {f"field_{i}": i for i in range(9)} | {"k" * 64: "x" * 256}

    response = send(longest_id, user_id="u" * 128, metadata=metadata)

    assert response.status_code == 200, response.json
    assert response.json["data"]["userId"] == "u" * 128
