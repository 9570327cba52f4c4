"""Points a client cannot award itself (issue 19, finding 11), through the API: per-event and
per-period caps on a rule, and a project setting that takes usergroups from the support API
only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core import clock

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
PURCHASE = {
    "points": {"perUnit": {"field": "orderValue", "rate": 2}, "maxPerEvent": 500},
    "maxPoints": {"amount": 800, "period": "day"},
    "groupRewards": {"subscriber": {"multiplier": 2}},
}


@pytest.fixture
def purchase(define: Any) -> dict[str, Any]:
    return define("events", "purchase", PURCHASE)


def buy(send: Any, value: float, user: str = "u", **metadata: Any) -> dict[str, Any]:
    response = send("purchase", user_id=user, metadata={"orderValue": value, **metadata})
    assert response.status_code == 200, response.json
    data: dict[str, Any] = response.json["data"]
    return data


def test_caps_are_stored_and_shown(purchase: dict[str, Any]) -> None:
    assert purchase["points"]["maxPerEvent"] == 500
    assert purchase["maxPoints"] == {"amount": 800, "period": "day"}


@pytest.mark.parametrize(
    "body",
    [
        {"points": {"fixed": 1, "maxPerEvent": 0}},
        {"points": {"fixed": 1, "maxPerEvent": "10"}},
        {"points": {"fixed": 1, "maxPerEvent": 10**10}},
        {"maxPoints": {"amount": 10, "period": "hour"}},
        {"maxPoints": {"amount": 0, "period": "day"}},
        {"maxPoints": {"amount": 10}},
        {"maxPoints": {"amount": 10.5, "period": "day"}},
        {"maxPoints": {"amount": 10, "period": "day", "extra": 1}},
    ],
)
def test_bad_caps_are_400(client: Any, auth: Any, body: dict[str, Any]) -> None:
    response = client.put("/admin/events/x", json=body, headers=auth("admin"))

    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "validation_error"


def test_a_huge_order_value_earns_at_most_max_per_event(purchase: Any, send: Any) -> None:
    data = buy(send, 10**9, usergroup="subscriber")

    assert (data["pointsAwarded"], data["balance"]) == (500, 500)


def test_max_points_per_day_holds_across_events(purchase: Any, send: Any) -> None:
    with clock.using(clock.frozen(NOON)):  # four events on one day, whatever today is
        awarded = [buy(send, 200)["pointsAwarded"] for _ in range(3)]
        last = buy(send, 200)

    assert awarded == [400, 400, 0]
    assert (last["rewarded"], last["reason"], last["balance"]) == (False, "limit_reached", 800)


def test_by_default_metadata_sets_the_usergroup(purchase: Any, send: Any) -> None:
    assert buy(send, 10, usergroup="subscriber")["pointsAwarded"] == 40


@pytest.fixture
def api_usergroups(client: Any, auth: Any) -> dict[str, Any]:
    response = client.put("/admin/settings", json={"usergroupSource": "api"}, headers=auth("admin"))
    assert response.status_code == 200, response.json
    data: dict[str, Any] = response.json["data"]
    return data


def test_settings_default_to_metadata_and_can_be_changed(
    client: Any, auth: Any, api_usergroups: dict[str, Any]
) -> None:
    other = client.get("/admin/settings", headers=auth("admin", project="globex")).json["data"]
    mine = client.get("/admin/settings", headers=auth("admin")).json["data"]

    assert other["usergroupSource"] == "metadata"
    assert mine["usergroupSource"] == "api"
    assert api_usergroups["updatedAt"] is not None


def test_an_unknown_usergroup_source_is_400(client: Any, auth: Any) -> None:
    response = client.put(
        "/admin/settings", json={"usergroupSource": "device"}, headers=auth("admin")
    )

    assert response.status_code == 400
    assert "usergroupSource" in response.json["error"]["details"]


def test_an_app_token_cannot_change_settings_or_usergroups(
    purchase: Any, send: Any, client: Any, auth: Any
) -> None:
    buy(send, 1)
    settings = client.put("/admin/settings", json={"usergroupSource": "metadata"}, headers=auth())
    usergroup = client.put("/users/u/usergroup", json={"usergroup": "subscriber"}, headers=auth())

    assert (settings.status_code, usergroup.status_code) == (403, 403)


def test_with_api_usergroups_an_event_cannot_raise_its_multiplier(
    purchase: Any, api_usergroups: Any, send: Any, client: Any, auth: Any
) -> None:
    data = buy(send, 10, usergroup="subscriber")
    profile = client.get("/users/u", headers=auth("users:read")).json["data"]

    assert data["pointsAwarded"] == 20
    assert profile["usergroup"] is None


def test_with_api_usergroups_support_sets_the_usergroup(
    purchase: Any, api_usergroups: Any, send: Any, client: Any, auth: Any, db: Any
) -> None:
    buy(send, 1)
    staff = auth("users:write", subject="agent-7")

    response = client.put("/users/u/usergroup", json={"usergroup": "subscriber"}, headers=staff)
    after = buy(send, 10, usergroup="basic")

    assert response.status_code == 200, response.json
    assert response.json["data"]["usergroup"] == "subscriber"
    assert response.json["data"]["previous"] is None
    assert response.json["data"]["actor"] == "agent-7"
    assert after["pointsAwarded"] == 40  # subscriber's multiplier, "basic" ignored
    audit = db.audit.find_one({"action": "usergroup.changed"})
    assert audit is not None and audit["actor"] == "agent-7"


def test_setting_a_usergroup_needs_a_known_user_and_a_named_token(
    client: Any, auth: Any, purchase: Any, send: Any
) -> None:
    buy(send, 1)
    unknown = client.put(
        "/users/nobody/usergroup",
        json={"usergroup": "x"},
        headers=auth("users:write", subject="agent"),
    )
    anonymous = client.put(
        "/users/u/usergroup", json={"usergroup": "x"}, headers=auth("users:write")
    )
    cleared = client.put(
        "/users/u/usergroup", json={"usergroup": None}, headers=auth("users:write", subject="a")
    )

    assert unknown.status_code == 404
    assert anonymous.status_code == 403
    assert cleared.status_code == 200 and cleared.json["data"]["usergroup"] is None
