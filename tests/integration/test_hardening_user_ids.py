"""User ids every path can carry (issue 19, finding 7): new ids with "/" or surrounding spaces
are refused, and ids stored before that rule are reached with "/" encoded as %2F."""

from __future__ import annotations

from typing import Any

import pytest

from core import clock
from rules.engine.evaluation import Event
from rules.usecases.record import record_event


@pytest.fixture
def login(define: Any) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})


@pytest.mark.parametrize("user_id", ["a/b", "/", " ", "   ", " lead", "trail ", "\u3000x"])
def test_new_user_ids_with_slashes_or_surrounding_spaces_are_400(
    login: None, send: Any, db: Any, user_id: str
) -> None:
    response = send("daily_login", user_id=user_id)

    assert response.status_code == 400, response.json
    assert list(response.json["error"]["details"]) == ["userId"]
    assert "'/'" in response.json["error"]["details"]["userId"][0]
    assert db.users.count_documents({}) == 0


@pytest.mark.parametrize("user_id", ["a b", "mail@example.com", "ü-ß", "x" * 128])
def test_inner_spaces_and_other_printable_ids_are_still_accepted(
    login: None, send: Any, user_id: str
) -> None:
    assert send("daily_login", user_id=user_id).status_code == 200


def test_a_batch_item_with_a_slash_id_fails_alone(login: None, client: Any, auth: Any) -> None:
    events = [{"eventId": "daily_login", "userId": u} for u in ("ok", "no/way")]

    results = client.post("/events/batch", json={"events": events}, headers=auth()).json["data"]

    assert [r["status"] for r in results["results"]] == [200, 400]


@pytest.fixture
def odd_user(login: None, db: Any) -> str:
    """A user stored before the rule, straight through the service (the API refuses it now)."""
    now = clock.now()
    record_event(db, "acme", Event("daily_login", "team/alice", now), received_at=now)
    return "team/alice"


def test_an_old_id_with_a_slash_is_reached_through_an_encoded_path(
    odd_user: str, client: Any, auth: Any
) -> None:
    profile = client.get("/users/team%2Falice", headers=auth("users:read"))
    history = client.get("/users/team%2Falice/history?type=event", headers=auth("users:read"))
    rank = client.get("/users/team%2Falice/rank?period=all", headers=auth("users:read"))
    adjusted = client.post(
        "/users/team%2Falice/adjustments",
        json={"delta": 5, "reason": "support"},
        headers=auth("users:write", subject="agent"),
    )

    assert profile.status_code == 200, profile.json
    assert profile.json["data"]["userId"] == "team/alice"
    assert profile.json["data"]["points"]["balance"] == 10
    assert [item["eventId"] for item in history.json["data"]["items"]] == ["daily_login"]
    assert rank.status_code == 200, rank.json
    assert adjusted.status_code == 200, adjusted.json
    assert adjusted.json["data"]["balance"] == 15


def test_an_old_id_with_a_slash_can_be_erased(
    odd_user: str, client: Any, auth: Any, db: Any
) -> None:
    erased = client.delete("/users/team%2Falice", headers=auth("users:write"))

    assert erased.status_code == 200, erased.json
    assert erased.json["data"]["userId"] == "team/alice"
    assert db.users.count_documents({"userId": "team/alice"}) == 0


def test_an_unencoded_slash_still_means_a_sub_resource(
    odd_user: str, client: Any, auth: Any
) -> None:
    assert client.get("/users/team/alice", headers=auth("users:read")).status_code == 404


def test_the_dashboards_user_page_carries_an_encoded_slash(odd_user: str, client: Any) -> None:
    page = client.get("/dashboard/users/team%2Falice")

    assert page.status_code == 200
    assert 'data-userid="team/alice"' in page.get_data(as_text=True)
