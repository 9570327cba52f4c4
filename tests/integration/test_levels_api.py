"""Levels (docs/api.md#rules-admin-api) through the Flask client: PUT/GET /admin/levels, the `level`
of the event response, and a table changed in one worker applying to the next event in another."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core import clock
from core.clients import Clients
from core.settings import Settings
from tests.conftest import PROJECT
from tests.support.dates import iso
from web import create_app

EXAMPLE_LEVELS = {
    "levels": [
        {"level": 1, "name": "Bronze", "minPoints": 0},
        {"level": 2, "name": "Silver", "minPoints": 500},
        {"level": 3, "name": "Gold", "minPoints": 2000},
    ]
}
# The first level needs points, so a new user starts at level 0.
TIERS = {
    "levels": [
        {"level": 1, "name": "Bronze", "minPoints": 10},
        {"level": 2, "name": "Silver", "minPoints": 30},
        {"level": 3, "name": "Gold", "minPoints": 100},
    ]
}


def put_levels(client: Any, auth: Any, body: Any, project: str = PROJECT) -> Any:
    return client.put("/admin/levels", json=body, headers=auth("admin", project=project))


def level_of(response: Any) -> Any:
    assert response.status_code == 200, response.json
    return response.json["data"]["level"]


@pytest.fixture
def ten_points(define: Any) -> None:
    define("events", "e", {"points": {"fixed": 10}})


# --- admin API -------------------------------------------------------------------------------


def test_design_level_table_is_stored_and_returned(client: Any, auth: Any) -> None:
    response = put_levels(client, auth, EXAMPLE_LEVELS)

    assert response.status_code == 200, response.json
    assert response.json["data"]["levels"] == EXAMPLE_LEVELS["levels"]
    assert response.json["data"]["updatedAt"].endswith("Z")
    fetched = client.get("/admin/levels", headers=auth("admin"))
    assert fetched.status_code == 200
    assert fetched.json["data"] == response.json["data"]


def test_get_without_a_table_is_an_empty_list(client: Any, auth: Any) -> None:
    response = client.get("/admin/levels", headers=auth("admin"))

    assert response.status_code == 200
    assert response.json["data"]["levels"] == []


def test_get_body_put_back_unchanged(client: Any, auth: Any) -> None:
    put_levels(client, auth, EXAMPLE_LEVELS)
    fetched = client.get("/admin/levels", headers=auth("admin")).json["data"]

    response = put_levels(client, auth, fetched)

    assert response.status_code == 200, response.json
    assert response.json["data"]["levels"] == EXAMPLE_LEVELS["levels"]


def test_put_replaces_the_whole_table(client: Any, auth: Any) -> None:
    put_levels(client, auth, EXAMPLE_LEVELS)

    put_levels(client, auth, {"levels": [{"level": 1, "name": "Novice", "minPoints": 5}]})

    fetched = client.get("/admin/levels", headers=auth("admin")).json["data"]
    assert fetched["levels"] == [{"level": 1, "name": "Novice", "minPoints": 5}]


def test_tables_belong_to_their_project(client: Any, auth: Any) -> None:
    put_levels(client, auth, EXAMPLE_LEVELS, project="globex")

    ours = client.get("/admin/levels", headers=auth("admin"))

    assert ours.json["data"]["levels"] == []


@pytest.mark.parametrize("method", ["get", "put"])
def test_levels_admin_needs_a_token_and_the_admin_scope(
    client: Any, auth: Any, method: str
) -> None:
    put_levels(client, auth, EXAMPLE_LEVELS)
    body: dict[str, Any] | None = {"levels": []} if method == "put" else None

    anonymous = getattr(client, method)("/admin/levels", json=body)
    writer = getattr(client, method)("/admin/levels", json=body, headers=auth("events:write"))

    assert anonymous.status_code == 401
    assert writer.status_code == 403
    assert writer.json["error"]["code"] == "forbidden"
    stored = client.get("/admin/levels", headers=auth("admin")).json["data"]
    assert stored["levels"] == EXAMPLE_LEVELS["levels"]


def level(number: Any, name: Any, min_points: Any) -> dict[str, Any]:
    return {"level": number, "name": name, "minPoints": min_points}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"levels": [level(1, "A", 0), level(2, "B", 0)]}, "levels[1].minPoints"),
        ({"levels": [level(1, "A", 100), level(2, "B", 50)]}, "levels[1].minPoints"),
        ({"levels": [level(1, "A", 0), level(1, "B", 10)]}, "levels[1].level"),
        ({"levels": [level(1, "", 0)]}, "levels[0].name"),
        ({"levels": [level(1, "A", 0), level(2, "", 10)]}, "levels[1].name"),
        ({"levels": [level(1, "A", 1.5)]}, "levels[0].minPoints"),
        ({"levels": [level(1, "A", "10")]}, "levels[0].minPoints"),
        ({"levels": [level(1, "A", -1)]}, "levels[0].minPoints"),
        ({"levels": [level(0, "A", 0)]}, "levels[0].level"),
        ({"levels": [level(1.5, "A", 0)]}, "levels[0].level"),
        ({"levels": [{"level": 1, "name": "A"}]}, "levels[0].minPoints"),
        ({"levels": [{"level": 1, "minPoints": 0}]}, "levels[0].name"),
        ({"levels": "Bronze"}, "levels"),
        ({}, "levels"),
    ],
)
def test_invalid_level_table_is_400_with_path(client: Any, auth: Any, body: Any, path: str) -> None:
    put_levels(client, auth, EXAMPLE_LEVELS)

    response = put_levels(client, auth, body)

    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert path in response.json["error"]["details"], response.json["error"]["details"]
    stored = client.get("/admin/levels", headers=auth("admin")).json["data"]
    assert stored["levels"] == EXAMPLE_LEVELS["levels"]


def test_levels_may_be_listed_in_any_order(
    client: Any, auth: Any, ten_points: None, send: Any
) -> None:
    body = {"levels": [level(2, "Silver", 10), level(1, "Bronze", 0)]}

    assert put_levels(client, auth, body).status_code == 200

    assert level_of(send("e")) == {"level": 2, "name": "Silver", "levelUp": True}


def test_empty_list_removes_levels(client: Any, auth: Any, ten_points: None, send: Any) -> None:
    put_levels(client, auth, TIERS)
    assert level_of(send("e"))["level"] == 1

    response = put_levels(client, auth, {"levels": []})

    assert response.status_code == 200
    assert response.json["data"]["levels"] == []
    assert level_of(send("e")) is None


# --- the level of the event response -----------------------------------------------------------


def test_project_without_a_table_reports_no_level(ten_points: None, send: Any) -> None:
    assert level_of(send("e")) is None


def test_below_the_first_level_is_level_zero_without_a_name(
    client: Any, auth: Any, ten_points: None, send: Any
) -> None:
    put_levels(client, auth, {"levels": [level(1, "Bronze", 100)]})

    assert level_of(send("e")) == {"level": 0, "name": None, "levelUp": False}


def test_level_up_is_true_exactly_on_the_event_that_crosses_min_points(
    client: Any, auth: Any, ten_points: None, send: Any
) -> None:
    put_levels(client, auth, TIERS)

    levels = [level_of(send("e")) for _ in range(4)]

    assert levels == [
        {"level": 1, "name": "Bronze", "levelUp": True},  # 10: reaches Bronze's 10 exactly
        {"level": 1, "name": "Bronze", "levelUp": False},  # 20
        {"level": 2, "name": "Silver", "levelUp": True},  # 30
        {"level": 2, "name": "Silver", "levelUp": False},  # 40
    ]


def test_first_level_at_zero_points_is_held_before_any_event(
    client: Any, auth: Any, ten_points: None, send: Any
) -> None:
    put_levels(client, auth, EXAMPLE_LEVELS)

    assert level_of(send("e")) == {"level": 1, "name": "Bronze", "levelUp": False}


def test_one_event_may_jump_several_levels(client: Any, auth: Any, define: Any, send: Any) -> None:
    define("events", "jackpot", {"points": {"fixed": 150}})
    put_levels(client, auth, TIERS)

    assert level_of(send("jackpot")) == {"level": 3, "name": "Gold", "levelUp": True}


def test_event_paying_nothing_keeps_the_level_without_level_up(
    client: Any, auth: Any, define: Any, ten_points: None, send: Any
) -> None:
    define("events", "nothing", {"points": {"fixed": 0}})
    put_levels(client, auth, TIERS)
    send("e")

    assert level_of(send("nothing")) == {"level": 1, "name": "Bronze", "levelUp": False}


def test_level_counts_the_streak_milestone_of_the_same_event(
    client: Any, auth: Any, define: Any, ten_points: None, send: Any
) -> None:
    define("streaks", "s", {"events": ["e"], "milestones": [{"count": 1, "points": 20}]})
    put_levels(client, auth, TIERS)

    response = send("e")

    assert response.json["data"]["totalPointsAwarded"] == 30
    assert level_of(response) == {"level": 2, "name": "Silver", "levelUp": True}


def test_level_counts_the_challenge_reward_of_the_same_event(
    client: Any, auth: Any, define: Any, ten_points: None, send: Any
) -> None:
    define(
        "challenges",
        "two",
        {"events": ["e"], "goal": {"type": "count", "target": 2}, "reward": {"points": 80}},
    )
    put_levels(client, auth, TIERS)
    assert level_of(send("e")) == {"level": 1, "name": "Bronze", "levelUp": True}

    response = send("e")  # 10 + 80 for the challenge: 100 lifetime

    assert response.json["data"]["totalPointsAwarded"] == 90
    assert level_of(response) == {"level": 3, "name": "Gold", "levelUp": True}


def test_levels_follow_lifetime_points_from_before_the_table(
    client: Any, auth: Any, ten_points: None, send: Any
) -> None:
    for _ in range(3):
        send("e")

    put_levels(client, auth, TIERS)

    assert level_of(send("e")) == {"level": 2, "name": "Silver", "levelUp": False}


def test_users_have_their_own_levels(client: Any, auth: Any, ten_points: None, send: Any) -> None:
    put_levels(client, auth, TIERS)
    for _ in range(3):
        send("e", user_id="veteran")

    assert level_of(send("e", user_id="newcomer")) == {
        "level": 1,
        "name": "Bronze",
        "levelUp": True,
    }


def test_old_imported_event_counts_for_the_level_too(
    client: Any, auth: Any, ten_points: None, send: Any
) -> None:
    put_levels(client, auth, TIERS)
    old = iso(clock.now() - timedelta(days=30))

    response = send("e", timestamp=old, scope="events:write events:import")

    assert level_of(response) == {"level": 1, "name": "Bronze", "levelUp": True}


# --- a second worker: the table changes in one process, the next event elsewhere sees it -------


@pytest.fixture
def second_client(settings: Settings, clients: Clients) -> Any:
    """Another web worker on the same database, with its own compiled-definition cache."""
    other = create_app(settings, clients)
    other.config["TESTING"] = True
    return other.test_client()


def post_event(http: Any, auth: Any) -> Any:
    return level_of(http.post("/event", json={"eventId": "e", "userId": "u"}, headers=auth()))


def test_level_table_changed_in_one_worker_applies_in_the_other(
    client: Any, second_client: Any, auth: Any, ten_points: None
) -> None:
    # Both workers have compiled the project's definitions without a level table.
    assert post_event(client, auth) is None  # 10
    assert post_event(second_client, auth) is None  # 20

    put_levels(client, auth, {"levels": [level(1, "Bronze", 0)]})
    assert post_event(second_client, auth) == {"level": 1, "name": "Bronze", "levelUp": False}

    put_levels(second_client, auth, {"levels": [level(1, "Bronze", 0), level(2, "Silver", 40)]})
    assert post_event(client, auth) == {"level": 2, "name": "Silver", "levelUp": True}  # 40

    put_levels(client, auth, {"levels": []})
    assert post_event(second_client, auth) is None

    put_levels(second_client, auth, {"levels": [level(1, "Bronze", 0), level(2, "Silver", 40)]})
    assert post_event(client, auth) == {"level": 2, "name": "Silver", "levelUp": False}  # 60
