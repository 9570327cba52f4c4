"""Challenges (docs/api.md#rules-admin-api) through the Flask client: the admin API, their effect on
POST /event, and definitions changed in one worker applying to the next event in another."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from core import clock
from core.clients import Clients
from core.settings import Settings
from rules.stores.ledger import Ledger
from tests.conftest import PROJECT
from tests.support.dates import iso
from web import create_app

IMPORT = "events:write events:import"

EXAMPLE_CHALLENGE = {
    "name": "Five levels",
    "events": ["level_completed"],
    "conditions": {
        "all": [
            {"field": "difficulty", "op": "in", "value": ["normal", "hard"]},
            {"field": "starsEarned", "op": "gte", "value": 1},
        ]
    },
    "goal": {"type": "count", "target": 5},
    "window": {"start": "2024-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"},
    "reset": "none",
    "reward": {"points": 100, "badge": "level_master"},
    "repeatable": False,
    "active": True,
}
MET = {"difficulty": "normal", "starsEarned": 3}
CHALLENGE_FIELDS = {"challengeId", "progress", "target", "completed", "pointsAwarded", "badge"}


def challenge(**overrides: Any) -> dict[str, Any]:
    """A minimal valid challenge: count 2 level_completed events, no reward."""
    return {"events": ["level_completed"], "goal": {"type": "count", "target": 2}, **overrides}


def put(client: Any, auth: Any, challenge_id: str, body: Any) -> Any:
    return client.put(f"/admin/challenges/{challenge_id}", json=body, headers=auth("admin"))


def reported(response: Any) -> list[str]:
    """The challengeIds the event response reports on."""
    assert response.status_code == 200, response.json
    return [item["challengeId"] for item in response.json["data"]["challenges"]]


def report(response: Any, challenge_id: str) -> dict[str, Any]:
    """The response's one report on `challenge_id` (which must be there)."""
    assert reported(response).count(challenge_id) == 1, response.json["data"]["challenges"]
    [item] = [c for c in response.json["data"]["challenges"] if c["challengeId"] == challenge_id]
    return dict(item)


def stored_challenge(db: Any, challenge_id: str, user_id: str = "user123") -> dict[str, Any]:
    user = db.users.find_one({"project": PROJECT, "userId": user_id})
    [state] = [c for c in user["challenges"] if c["challengeId"] == challenge_id]
    return dict(state)


@pytest.fixture
def level_events(define: Any) -> None:
    define("events", "level_completed", {"points": {"fixed": 5}})
    define("events", "daily_login", {"points": {"fixed": 10}})
    define("events", "purchase", {"points": {"fixed": 1}})


# --- admin API -------------------------------------------------------------------------------


def test_design_challenge_example_is_stored_and_returned(client: Any, auth: Any) -> None:
    response = put(client, auth, "five_levels", EXAMPLE_CHALLENGE)

    assert response.status_code == 200, response.json
    data = response.json["data"]
    expected = {
        **EXAMPLE_CHALLENGE,
        "window": {"start": "2024-01-01T00:00:00.000Z", "end": "2100-01-01T00:00:00.000Z"},
    }
    assert {k: data[k] for k in EXAMPLE_CHALLENGE} == expected
    assert data["challengeId"] == "five_levels"
    assert data["createdAt"].endswith("Z") and data["updatedAt"].endswith("Z")
    fetched = client.get("/admin/challenges/five_levels", headers=auth("admin"))
    assert fetched.status_code == 200
    assert fetched.json["data"] == data


def test_sum_goal_definition_is_stored_with_its_field(client: Any, auth: Any) -> None:
    body = challenge(goal={"type": "sum", "field": "orderValue", "target": 100})

    response = put(client, auth, "big_spender", body)

    assert response.status_code == 200, response.json
    assert response.json["data"]["goal"] == {"type": "sum", "field": "orderValue", "target": 100}


def test_defaults_are_filled_in(client: Any, auth: Any) -> None:
    data = put(client, auth, "c", challenge()).json["data"]

    assert data["reset"] == "none"
    assert data["repeatable"] is False
    assert data["active"] is True
    assert data["reward"] == {"points": 0}
    assert "window" not in data


def test_get_body_put_back_unchanged(client: Any, auth: Any) -> None:
    put(client, auth, "five_levels", EXAMPLE_CHALLENGE)
    fetched = client.get("/admin/challenges/five_levels", headers=auth("admin")).json["data"]

    response = put(client, auth, "five_levels", fetched)

    assert response.status_code == 200, response.json
    again = client.get("/admin/challenges/five_levels", headers=auth("admin")).json["data"]
    assert {k: v for k, v in again.items() if k != "updatedAt"} == {
        k: v for k, v in fetched.items() if k != "updatedAt"
    }


def test_put_replaces_and_keeps_created_at(client: Any, auth: Any) -> None:
    first = put(client, auth, "c", challenge(reward={"points": 5, "badge": "b"})).json["data"]

    second = put(client, auth, "c", challenge(goal={"type": "count", "target": 9})).json["data"]

    assert second["goal"]["target"] == 9
    assert second["reward"] == {"points": 0}
    assert second["createdAt"] == first["createdAt"]


def test_list_returns_the_projects_challenges_sorted(client: Any, auth: Any, define: Any) -> None:
    define("challenges", "b_challenge", challenge())
    define("challenges", "a_challenge", challenge())
    define("challenges", "theirs", challenge(), project="globex")

    response = client.get("/admin/challenges", headers=auth("admin"))

    assert response.status_code == 200
    assert [c["challengeId"] for c in response.json["data"]["items"]] == [
        "a_challenge",
        "b_challenge",
    ]


def test_delete_deactivates_and_get_shows_inactive(client: Any, auth: Any, define: Any) -> None:
    define("challenges", "c", challenge())

    response = client.delete("/admin/challenges/c", headers=auth("admin"))

    assert response.status_code == 200
    assert response.json["data"]["active"] is False
    fetched = client.get("/admin/challenges/c", headers=auth("admin"))
    assert fetched.json["data"]["active"] is False
    listed = client.get("/admin/challenges", headers=auth("admin")).json["data"]["items"]
    assert [(c["challengeId"], c["active"]) for c in listed] == [("c", False)]


def test_deleted_challenge_stops_counting(
    level_events: None, client: Any, auth: Any, define: Any, send: Any, db: Any
) -> None:
    define("challenges", "c", challenge(goal={"type": "count", "target": 3}))
    assert report(send("level_completed"), "c")["progress"] == 1
    client.delete("/admin/challenges/c", headers=auth("admin"))

    response = send("level_completed")

    assert reported(response) == []
    assert stored_challenge(db, "c")["progress"] == 1


@pytest.mark.parametrize("method", ["get", "delete"])
def test_unknown_challenge_is_404(client: Any, auth: Any, method: str) -> None:
    response = getattr(client, method)("/admin/challenges/nope", headers=auth("admin"))

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_another_projects_challenge_is_404(client: Any, auth: Any, define: Any) -> None:
    define("challenges", "theirs", challenge(), project="globex")

    response = client.get("/admin/challenges/theirs", headers=auth("admin"))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/admin/challenges", None),
        ("get", "/admin/challenges/c", None),
        ("put", "/admin/challenges/c", challenge()),
        ("delete", "/admin/challenges/c", None),
    ],
)
def test_challenge_admin_needs_a_token_and_the_admin_scope(
    client: Any, auth: Any, define: Any, method: str, path: str, body: Any
) -> None:
    define("challenges", "c", challenge(goal={"type": "count", "target": 7}))

    anonymous = getattr(client, method)(path, json=body)
    writer = getattr(client, method)(path, json=body, headers=auth("events:write"))

    assert anonymous.status_code == 401
    assert writer.status_code == 403
    assert writer.json["error"]["code"] == "forbidden"
    stored = client.get("/admin/challenges/c", headers=auth("admin")).json["data"]
    assert (stored["goal"]["target"], stored["active"]) == (7, True)


def test_id_in_body_must_match_path(client: Any, auth: Any, db: Any) -> None:
    response = put(client, auth, "one", challenge(challengeId="two"))

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert "challengeId" in response.json["error"]["details"]
    assert db.challenge_definitions.count_documents({}) == 0


def test_id_in_body_equal_to_path_is_accepted(client: Any, auth: Any) -> None:
    response = put(client, auth, "one", challenge(challengeId="one"))

    assert response.status_code == 200
    assert response.json["data"]["challengeId"] == "one"


def test_invalid_id_in_path_is_400(client: Any, auth: Any) -> None:
    response = put(client, auth, "bad id!", challenge())

    assert response.status_code == 400
    assert "challengeId" in response.json["error"]["details"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (challenge(goal={"type": "streak", "target": 5}), "goal.type"),
        (challenge(goal={"target": 5}), "goal.type"),
        (challenge(goal={"type": "count", "target": 2.5}), "goal.target"),
        (challenge(goal={"type": "count", "target": 0}), "goal.target"),
        (challenge(goal={"type": "count", "target": -3}), "goal.target"),
        (challenge(goal={"type": "count", "target": "5"}), "goal.target"),
        (challenge(goal={"type": "count"}), "goal.target"),
        (challenge(goal={"type": "sum", "field": "orderValue", "target": 0}), "goal.target"),
        (challenge(goal={"type": "sum", "field": "orderValue", "target": -0.5}), "goal.target"),
        (challenge(goal={"type": "sum", "target": 100}), "goal.field"),
        (challenge(goal={"type": "sum", "field": "bad-field", "target": 100}), "goal.field"),
        ({"events": ["level_completed"]}, "goal"),
        ({"goal": {"type": "count", "target": 1}}, "events"),
        (challenge(events=[]), "events"),
        (challenge(events=["bad id!"]), "events[0]"),
        (challenge(events=["ok", "bad id!"]), "events[1]"),
        (
            challenge(window={"start": "2024-02-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"}),
            "window.end",
        ),
        (
            challenge(window={"start": "2024-01-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"}),
            "window.end",
        ),
        (challenge(window={"start": "next tuesday"}), "window.start"),
        (challenge(window={"end": "2024-13-01T00:00:00Z"}), "window.end"),
        (challenge(window={"start": "2024-01-01T00:00:00"}), "window.start"),
        (challenge(reset="year"), "reset"),
        (challenge(reset="hour"), "reset"),
        (challenge(reward={"points": -1}), "reward.points"),
        (challenge(reward={"points": 1_000_000_001}), "reward.points"),
        (challenge(reward={"points": 2.5}), "reward.points"),
        (challenge(reward={"points": 10, "badge": "bad badge!"}), "reward.badge"),
        (challenge(reward={"points": 10, "badge": ""}), "reward.badge"),
        (
            challenge(
                conditions={
                    "all": [
                        {"field": "difficulty", "op": "eq", "value": "hard"},
                        {"field": "stars", "op": "like", "value": 3},
                    ]
                }
            ),
            "conditions.all[1].op",
        ),
        (challenge(repeatable="sometimes"), "repeatable"),
        (challenge(active="yes please"), "active"),
        (challenge(surprise=1), "surprise"),
    ],
)
def test_invalid_challenge_is_400_with_path(
    client: Any, auth: Any, db: Any, body: Any, path: str
) -> None:
    response = put(client, auth, "c", body)

    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert path in response.json["error"]["details"], response.json["error"]["details"]
    assert db.challenge_definitions.count_documents({}) == 0


def test_invalid_replacement_keeps_the_stored_challenge(client: Any, auth: Any) -> None:
    put(client, auth, "c", challenge(goal={"type": "count", "target": 4}))

    response = put(client, auth, "c", challenge(goal={"type": "count", "target": 0}))

    assert response.status_code == 400
    stored = client.get("/admin/challenges/c", headers=auth("admin")).json["data"]
    assert stored["goal"]["target"] == 4


# --- count goals through POST /event ---------------------------------------------------------


def test_count_goal_progresses_then_pays_reward_and_badge(
    level_events: None, client: Any, auth: Any, send: Any, db: Any
) -> None:
    put(client, auth, "five_levels", EXAMPLE_CHALLENGE)

    reports = []
    for _ in range(4):
        response = send("level_completed", metadata=MET)
        reports.append(report(response, "five_levels"))
        assert response.json["data"]["totalPointsAwarded"] == 5
        assert response.json["data"]["badges"] == []
    fifth = send("level_completed", metadata=MET)

    assert [r["progress"] for r in reports] == [1, 2, 3, 4]
    assert all(r["completed"] is False for r in reports)
    assert all(r["pointsAwarded"] == 0 and r["badge"] is None for r in reports)
    data = fifth.json["data"]
    assert report(fifth, "five_levels") == {
        "challengeId": "five_levels",
        "progress": 5,
        "target": 5,
        "completed": True,
        "pointsAwarded": 100,
        "badge": "level_master",
    }
    assert (data["pointsAwarded"], data["totalPointsAwarded"]) == (5, 105)
    assert data["balance"] == 5 * 5 + 100
    assert data["badges"] == ["level_master"]
    [entry] = list(db.ledger.find({"source": "challenge"}))
    assert (entry["delta"], entry["userId"], entry["project"]) == (100, "user123", PROJECT)
    assert entry["reason"] == "challenge:five_levels"
    assert Ledger(db).balance(PROJECT, "user123") == 125
    user = db.users.find_one({"project": PROJECT, "userId": "user123"})
    assert user["points"] == {"balance": 125, "lifetime": 125}
    assert user["badges"] == ["level_master"]


def test_challenge_report_shape_keeps_whole_numbers_as_ints(
    level_events: None, define: Any, send: Any
) -> None:
    define("challenges", "three", challenge(goal={"type": "count", "target": 3}))
    send("level_completed")

    response = send("level_completed")

    item = report(response, "three")
    assert item is not None
    assert set(item) == CHALLENGE_FIELDS
    assert item == {
        "challengeId": "three",
        "progress": 2,
        "target": 3,
        "completed": False,
        "pointsAwarded": 0,
        "badge": None,
    }
    assert type(item["progress"]) is int and type(item["target"]) is int
    assert '"progress":2,' in response.get_data(as_text=True).replace(" ", "")


def test_progress_is_kept_on_the_user_document(
    level_events: None, define: Any, send: Any, db: Any
) -> None:
    define("challenges", "three", challenge(goal={"type": "count", "target": 3}))
    define("challenges", "other_user", challenge(goal={"type": "count", "target": 3}))

    send("level_completed")
    send("level_completed")

    state = stored_challenge(db, "three")
    assert state["progress"] == 2 and type(state["progress"]) is int
    assert (state["completed"], state["completions"]) == (False, 0)
    assert state["lastUpdate"] is not None


def test_non_repeatable_stays_completed_and_pays_nothing_more(
    level_events: None, define: Any, send: Any, db: Any
) -> None:
    define("challenges", "two", challenge(reward={"points": 50, "badge": "duo"}))
    send("level_completed")
    completing = send("level_completed")

    later = [send("level_completed") for _ in range(2)]

    assert report(completing, "two")["completed"] is True
    for response in later:
        assert report(response, "two") == {
            "challengeId": "two",
            "progress": 2,
            "target": 2,
            "completed": False,
            "pointsAwarded": 0,
            "badge": None,
        }
        assert response.json["data"]["totalPointsAwarded"] == 5
        assert response.json["data"]["badges"] == []
    assert later[-1].json["data"]["balance"] == 4 * 5 + 50
    assert db.ledger.count_documents({"source": "challenge"}) == 1
    state = stored_challenge(db, "two")
    assert (state["completed"], state["completions"]) == (True, 1)


def test_repeatable_completes_again_after_another_full_target(
    level_events: None, define: Any, send: Any, db: Any
) -> None:
    define(
        "challenges",
        "two",
        challenge(reward={"points": 50, "badge": "duo"}, repeatable=True),
    )

    responses = [send("level_completed") for _ in range(5)]

    reports = [report(r, "two") for r in responses]
    assert [(r["progress"], r["completed"]) for r in reports] == [
        (1, False),
        (2, True),
        (1, False),
        (2, True),
        (1, False),
    ]
    assert [r["pointsAwarded"] for r in reports] == [0, 50, 0, 50, 0]
    assert [r.json["data"]["badges"] for r in responses] == [[], ["duo"], [], [], []]
    assert [r["badge"] for r in reports] == [None, "duo", None, "duo", None]
    assert responses[-1].json["data"]["balance"] == 5 * 5 + 2 * 50
    assert db.ledger.count_documents({"source": "challenge"}) == 2
    user = db.users.find_one({"project": PROJECT, "userId": "user123"})
    assert user["badges"] == ["duo"]
    state = stored_challenge(db, "two")
    assert (state["progress"], state["completed"], state["completions"]) == (1, False, 2)


def test_one_event_completes_several_challenges_and_totals_add_up(
    level_events: None, define: Any, send: Any
) -> None:
    define(
        "challenges", "first", challenge(goal={"type": "count", "target": 1}, reward={"points": 7})
    )
    define(
        "challenges",
        "also_first",
        challenge(goal={"type": "count", "target": 1}, reward={"points": 11, "badge": "x"}),
    )

    data = send("level_completed").json["data"]

    assert sorted((c["challengeId"], c["pointsAwarded"]) for c in data["challenges"]) == [
        ("also_first", 11),
        ("first", 7),
    ]
    assert (data["pointsAwarded"], data["totalPointsAwarded"], data["balance"]) == (5, 23, 23)
    assert data["badges"] == ["x"]


def test_users_progress_separately(level_events: None, define: Any, send: Any) -> None:
    define("challenges", "three", challenge(goal={"type": "count", "target": 3}))
    send("level_completed", user_id="a")
    send("level_completed", user_id="a")

    other = send("level_completed", user_id="b")

    assert report(other, "three")["progress"] == 1


# --- sum goals ---------------------------------------------------------------------------------


def test_sum_goal_adds_decimals_exactly(
    level_events: None, define: Any, send: Any, db: Any
) -> None:
    define(
        "challenges",
        "spend",
        {
            "events": ["purchase"],
            "goal": {"type": "sum", "field": "orderValue", "target": 0.3},
            "reward": {"points": 30},
        },
    )

    first = send("purchase", metadata={"orderValue": 0.1})
    second = send("purchase", metadata={"orderValue": 0.2})

    assert report(first, "spend") == {
        "challengeId": "spend",
        "progress": 0.1,
        "target": 0.3,
        "completed": False,
        "pointsAwarded": 0,
        "badge": None,
    }
    assert report(second, "spend") == {
        "challengeId": "spend",
        "progress": 0.3,
        "target": 0.3,
        "completed": True,
        "pointsAwarded": 30,
        "badge": None,
    }
    assert second.json["data"]["totalPointsAwarded"] == 31
    state = stored_challenge(db, "spend")
    assert (state["progress"], state["completed"]) == ("0.3", True)


def test_sum_goal_keeps_whole_sums_as_ints_and_ignores_missing_or_bad_values(
    level_events: None, define: Any, send: Any
) -> None:
    define(
        "challenges",
        "spend",
        {"events": ["purchase"], "goal": {"type": "sum", "field": "orderValue", "target": 100}},
    )

    first = report(send("purchase", metadata={"orderValue": 40}), "spend")
    missing = report(send("purchase"), "spend")
    text = report(send("purchase", metadata={"orderValue": "60"}), "spend")
    negative = report(send("purchase", metadata={"orderValue": -10}), "spend")
    half = report(send("purchase", metadata={"orderValue": 20.5}), "spend")
    last = report(send("purchase", metadata={"orderValue": 39.5}), "spend")

    assert [r["progress"] for r in (first, missing, text, negative)] == [40, 40, 40, 40]
    assert type(first["progress"]) is int and type(first["target"]) is int
    assert half["progress"] == 60.5
    assert (last["progress"], last["completed"]) == (100, True)
    assert type(last["progress"]) is int


# --- which events count ------------------------------------------------------------------------


def test_conditions_not_met_gives_no_report_and_no_progress(
    level_events: None, client: Any, auth: Any, send: Any, db: Any
) -> None:
    put(client, auth, "five_levels", EXAMPLE_CHALLENGE)

    easy = send("level_completed", metadata={"difficulty": "easy", "starsEarned": 3})
    no_stars = send("level_completed", metadata={"difficulty": "hard", "starsEarned": 0})
    missing = send("level_completed")
    counted = send("level_completed", metadata=MET)

    assert easy.json["data"]["challenges"] == []
    assert no_stars.json["data"]["challenges"] == []
    assert missing.json["data"]["challenges"] == []
    assert report(counted, "five_levels")["progress"] == 1


def test_events_not_listed_get_no_report(
    level_events: None, define: Any, send: Any, db: Any
) -> None:
    define("challenges", "c", challenge())

    response = send("daily_login")

    assert response.json["data"]["challenges"] == []
    user = db.users.find_one({"project": PROJECT, "userId": "user123"})
    assert user.get("challenges", []) == []


def test_challenge_listing_several_events_counts_each(
    level_events: None, define: Any, send: Any
) -> None:
    define("challenges", "c", challenge(events=["level_completed", "daily_login"]))

    send("level_completed")
    second = send("daily_login")

    assert report(second, "c")["completed"] is True


def test_events_outside_the_window_are_not_counted(
    level_events: None, define: Any, send: Any, db: Any
) -> None:
    now = clock.now().replace(microsecond=0)
    start, end = now - timedelta(hours=3), now - timedelta(hours=1)
    define(
        "challenges",
        "window",
        challenge(
            goal={"type": "count", "target": 10}, window={"start": iso(start), "end": iso(end)}
        ),
    )

    before = send("level_completed", timestamp=iso(start - timedelta(seconds=1)))
    at_start = send("level_completed", timestamp=iso(start))
    inside = send("level_completed", timestamp=iso(end - timedelta(milliseconds=1)))
    at_end = send("level_completed", timestamp=iso(end))
    after = send("level_completed")

    assert before.json["data"]["challenges"] == []
    assert report(at_start, "window")["progress"] == 1
    assert report(inside, "window")["progress"] == 2
    assert at_end.json["data"]["challenges"] == []
    assert after.json["data"]["challenges"] == []
    assert stored_challenge(db, "window")["progress"] == 2


def test_reset_day_restarts_progress_on_the_users_next_local_day(
    level_events: None, define: Any, send: Any
) -> None:
    define("challenges", "daily", challenge(goal={"type": "count", "target": 5}, reset="day"))
    day = (clock.now() - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    tokyo = {"timezone": "Asia/Tokyo"}  # UTC+9: the local day starts at 15:00 UTC

    def level(user: str, hour: int, metadata: dict[str, Any] | None = None) -> Any:
        moment = iso(day + timedelta(hours=hour))
        return report(
            send(
                "level_completed", user_id=user, timestamp=moment, scope=IMPORT, metadata=metadata
            ),
            "daily",
        )

    # Tokyo: 13:00 UTC is 22:00 local, 16:00 UTC the next local day, 23:00 UTC still that day.
    assert level("tokyo", 13, tokyo)["progress"] == 1
    assert level("tokyo", 14, tokyo)["progress"] == 2
    assert level("tokyo", 16, tokyo)["progress"] == 1
    assert level("tokyo", 23, tokyo)["progress"] == 2
    assert level("tokyo", 25, tokyo)["progress"] == 3
    # Without a timezone the same instants fall in UTC days: 13-23 h is one day.
    assert [level("utc", hour)["progress"] for hour in (13, 14, 16, 23, 25)] == [
        1,
        2,
        3,
        4,
        1,
    ]


def test_reset_day_lets_a_completed_challenge_complete_again_the_next_day(
    level_events: None, define: Any, send: Any
) -> None:
    define(
        "challenges",
        "daily_one",
        challenge(goal={"type": "count", "target": 1}, reset="day", reward={"points": 3}),
    )
    day = (clock.now() - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)

    def level(at: datetime) -> Any:
        return send("level_completed", timestamp=iso(at), scope=IMPORT)

    first = level(day)
    same_day = level(day + timedelta(hours=2))
    next_day = level(day + timedelta(days=1))

    assert (report(first, "daily_one")["completed"], first.json["data"]["totalPointsAwarded"]) == (
        True,
        8,
    )
    assert report(same_day, "daily_one")["completed"] is False
    assert same_day.json["data"]["totalPointsAwarded"] == 5
    assert report(next_day, "daily_one")["completed"] is True
    assert next_day.json["data"]["totalPointsAwarded"] == 8


def test_inactive_challenge_defined_inactive_never_counts(
    level_events: None, define: Any, send: Any
) -> None:
    define("challenges", "off", challenge(active=False))

    assert send("level_completed").json["data"]["challenges"] == []


def test_another_projects_challenge_does_not_count(
    level_events: None, define: Any, send: Any
) -> None:
    define("events", "level_completed", {"points": {"fixed": 5}}, project="globex")
    define("challenges", "theirs", challenge(), project="globex")

    assert send("level_completed").json["data"]["challenges"] == []


# --- a second worker: definitions change in one process, the next event elsewhere sees it -------


@pytest.fixture
def second_client(settings: Settings, clients: Clients) -> Any:
    """Another web worker on the same database, with its own compiled-definition cache."""
    other = create_app(settings, clients)
    other.config["TESTING"] = True
    return other.test_client()


def post_event(http: Any, auth: Any, event_id: str, user_id: str = "user123") -> Any:
    response = http.post("/event", json={"eventId": event_id, "userId": user_id}, headers=auth())
    assert response.status_code == 200, response.json
    return response


def test_event_definition_changed_in_one_worker_applies_in_the_other(
    client: Any, second_client: Any, auth: Any
) -> None:
    admin = auth("admin")
    client.put("/admin/events/e", json={"points": {"fixed": 10}}, headers=admin)
    assert post_event(second_client, auth, "e").json["data"]["pointsAwarded"] == 10
    assert post_event(client, auth, "e").json["data"]["pointsAwarded"] == 10

    client.put("/admin/events/e", json={"points": {"fixed": 20}}, headers=admin)
    assert post_event(second_client, auth, "e").json["data"]["pointsAwarded"] == 20

    second_client.put("/admin/events/e", json={"points": {"fixed": 30}}, headers=admin)
    assert post_event(client, auth, "e").json["data"]["pointsAwarded"] == 30

    client.delete("/admin/events/e", headers=admin)
    gone = second_client.post("/event", json={"eventId": "e", "userId": "u"}, headers=auth())
    assert gone.status_code == 404


def test_challenge_changed_in_one_worker_applies_in_the_other(
    client: Any, second_client: Any, auth: Any
) -> None:
    admin = auth("admin")
    client.put("/admin/events/level_completed", json={"points": {"fixed": 5}}, headers=admin)
    # Both workers have compiled the project's definitions without any challenge.
    assert post_event(client, auth, "level_completed").json["data"]["challenges"] == []
    assert post_event(second_client, auth, "level_completed").json["data"]["challenges"] == []

    client.put(
        "/admin/challenges/c", json=challenge(goal={"type": "count", "target": 10}), headers=admin
    )
    seen = post_event(second_client, auth, "level_completed")
    assert report(seen, "c")["target"] == 10
    assert report(post_event(client, auth, "level_completed"), "c")["progress"] == 2

    second_client.put(
        "/admin/challenges/c", json=challenge(goal={"type": "count", "target": 3}), headers=admin
    )
    changed = post_event(client, auth, "level_completed")
    assert report(changed, "c")["target"] == 3
    assert report(changed, "c")["completed"] is True

    second_client.delete("/admin/challenges/c", headers=admin)
    assert post_event(client, auth, "level_completed", "fresh").json["data"]["challenges"] == []
