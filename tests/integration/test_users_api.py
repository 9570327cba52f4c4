"""GET /users/{userId} and GET /users/{userId}/history: the profile, scopes, and pages that stay
exact while events keep arriving."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import clock
from tests.support.dates import iso

NOW = clock.now().replace(microsecond=0)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def rules(define: Any, client: Any, auth: Callable[..., dict[str, str]]) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    define("events", "level_completed", {"points": {"fixed": 3}})
    define("events", "viewed", {"points": {"fixed": 0}})
    define(
        "streaks",
        "daily_use",
        {"events": ["daily_login"], "milestones": [{"count": 2, "points": 5, "badge": "twice"}]},
    )
    define(
        "challenges",
        "three_levels",
        {"events": ["level_completed"], "goal": {"type": "count", "target": 3}},
    )
    levels = {"levels": [{"level": 1, "name": "Bronze", "minPoints": 10}]}
    assert client.put("/admin/levels", json=levels, headers=auth("admin")).status_code == 200


@pytest.fixture
def reader(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("users:read")


def event(send: Any, event_id: str, user_id: str, at: datetime, **metadata: Any) -> Any:
    response = send(event_id, user_id, timestamp=iso(at), metadata=metadata or None)
    assert response.status_code == 200, response.json
    return response.json["data"]


# --- profile -------------------------------------------------------------------------------


def test_profile_shows_points_level_streaks_challenges_badges_and_activity(
    rules: None, send: Any, client: Any, reader: dict[str, str]
) -> None:
    first, second = NOW - timedelta(days=1), NOW - timedelta(minutes=1)
    event(send, "daily_login", "u1", first, usergroup="gold", timezone="Europe/Berlin")
    event(send, "daily_login", "u1", second)
    event(send, "level_completed", "u1", second)

    response = client.get("/users/u1", headers=reader)

    assert response.status_code == 200, response.json
    profile = response.json["data"]
    assert profile["userId"] == "u1"
    assert profile["points"] == {"balance": 28, "lifetime": 28}
    assert profile["level"] == {"level": 1, "name": "Bronze"}
    assert (profile["usergroup"], profile["timezone"]) == ("gold", "Europe/Berlin")
    [streak] = profile["streaks"]
    assert (streak["streakId"], streak["currentCount"], streak["longestCount"]) == (
        "daily_use",
        2,
        2,
    )
    assert streak["freezes"] == 0
    assert streak["lastUpdate"] == iso(second).replace("Z", ".000Z")
    assert profile["challenges"] == [
        {
            "challengeId": "three_levels",
            "progress": 1,
            "target": 3,
            "completed": False,
            "completions": 0,
            "lastUpdate": iso(second).replace("Z", ".000Z"),
        }
    ]
    assert profile["badges"] == ["twice"]
    assert profile["firstSeen"] == iso(first).replace("Z", ".000Z")
    assert profile["lastSeen"] == iso(second).replace("Z", ".000Z")
    assert profile["eventCount"] == 3


def test_profile_of_a_project_without_levels_has_a_null_level(
    define: Any, send: Any, client: Any, reader: dict[str, str]
) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    send("daily_login", "u1")

    profile = client.get("/users/u1", headers=reader).json["data"]

    assert profile["level"] is None
    assert profile["streaks"] == profile["challenges"] == profile["badges"] == []


def test_unknown_user_is_404_not_found(client: Any, reader: dict[str, str]) -> None:
    for path in ("/users/nobody", "/users/nobody/history"):
        response = client.get(path, headers=reader)

        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"


def test_users_are_per_project(
    rules: None, send: Any, client: Any, auth: Callable[..., dict[str, str]]
) -> None:
    send("daily_login", "u1")

    response = client.get("/users/u1", headers=auth("users:read", project="other"))

    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/users/u1", "/users/u1/history"])
def test_reading_users_needs_users_read(
    rules: None, send: Any, client: Any, auth: Callable[..., dict[str, str]], path: str
) -> None:
    send("daily_login", "u1")

    assert client.get(path).status_code == 401
    for scope in ("events:write", "users:write", "reports:read"):
        response = client.get(path, headers=auth(scope))
        assert response.status_code == 403, scope
        assert response.json["error"]["code"] == "forbidden"
    assert client.get(path, headers=auth("users:read")).status_code == 200
    assert client.get(path, headers=auth("admin")).status_code == 200


# --- history -------------------------------------------------------------------------------


def history(client: Any, headers: dict[str, str], user: str = "u1", **query: Any) -> Any:
    response = client.get(f"/users/{user}/history", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


def all_pages(client: Any, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    """Every page from `query` (which may hold a first `cursor`) on."""
    items: list[dict[str, Any]] = []
    while True:
        page = history(client, headers, **query)
        items.extend(page["items"])
        if page["nextCursor"] is None:
            return items
        query["cursor"] = page["nextCursor"]


def test_history_lists_events_and_points_newest_first(
    rules: None, send: Any, client: Any, reader: dict[str, str]
) -> None:
    event(send, "daily_login", "u1", NOW - timedelta(days=1), platform="ios")
    event(send, "level_completed", "u1", NOW - timedelta(hours=1))
    event(send, "daily_login", "u1", NOW - timedelta(minutes=1))

    page = history(client, reader, type="event")

    assert [item["eventId"] for item in page["items"]] == [
        "daily_login",
        "level_completed",
        "daily_login",
    ]
    oldest = page["items"][-1]
    assert oldest["type"] == "event"
    assert oldest["timestamp"] == ms(NOW - timedelta(days=1))
    assert oldest["metadata"] == {"platform": "ios"}
    assert oldest["outcome"]["pointsAwarded"] == 10
    assert oldest["outcome"]["balance"] == 10
    assert page["nextCursor"] is None

    points = history(client, reader, type="points")["items"]
    assert [(p["delta"], p["source"], p["reason"]) for p in points] == [
        (5, "streak", "streak:daily_use:milestone:2"),
        (10, "event", "event:daily_login"),
        (3, "event", "event:level_completed"),
        (10, "event", "event:daily_login"),
    ]
    assert all(p["actor"] is None and p["type"] == "points" for p in points)


def test_history_without_type_merges_both_kinds_in_one_order(
    rules: None, send: Any, client: Any, reader: dict[str, str]
) -> None:
    event(send, "daily_login", "u1", NOW - timedelta(minutes=3))
    event(send, "viewed", "u1", NOW - timedelta(minutes=2))

    merged = all_pages(client, reader, limit=1)

    assert [item["type"] for item in merged] == ["points", "event", "event"]
    assert merged == history(client, reader)["items"]
    order = [(i["timestamp"], 1 if i["type"] == "event" else 0, i["id"]) for i in merged]
    assert order == sorted(order, reverse=True)


def test_pages_stay_exact_while_new_events_arrive(
    rules: None, send: Any, client: Any, reader: dict[str, str]
) -> None:
    # Seven events, two of them in one millisecond (the _id breaks the tie).
    base = NOW - timedelta(days=2)
    for hours in (0, 1, 2, 3, 3, 4, 5):
        event(send, "viewed", "u1", base + timedelta(hours=hours))
    expected = history(client, reader, type="event", limit=100)["items"]
    assert len(expected) == 7

    seen: list[dict[str, Any]] = []
    older: list[str] = []
    page = history(client, reader, type="event", limit=3)
    while True:
        seen.extend(page["items"])
        if page["nextCursor"] is None:
            break
        if len(older) < 2:
            # Between pages: a newer event, one in the cursor's own millisecond (a newer _id,
            # so before the cursor in the order), and one older than everything.
            event(send, "viewed", "u1", NOW - timedelta(minutes=5))
            boundary = datetime.fromtimestamp(seen[-1]["timestamp"] / 1000, UTC)
            event(send, "viewed", "u1", boundary)
            old = base - timedelta(hours=len(older) + 1)
            event(send, "viewed", "u1", old)
            [inserted] = history(client, reader, type="event", **{"from": ms(old), "to": ms(old)})[
                "items"
            ]
            older.append(inserted["id"])
        page = history(client, reader, type="event", limit=3, cursor=page["nextCursor"])

    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)), "an item was repeated"
    assert ids == [item["id"] for item in expected] + older
    times = [item["timestamp"] for item in seen]
    assert times == sorted(times, reverse=True)


def test_points_pages_stay_exact_while_new_awards_arrive(
    rules: None, send: Any, client: Any, reader: dict[str, str]
) -> None:
    for _ in range(5):
        send("daily_login", "u1")
    expected = history(client, reader, type="points", limit=100)["items"]

    first = history(client, reader, type="points", limit=2)
    send("daily_login", "u1")
    send("level_completed", "u1")
    rest = all_pages(client, reader, type="points", limit=2, cursor=first["nextCursor"])

    assert [i["id"] for i in first["items"] + rest] == [i["id"] for i in expected]


def test_history_filters_by_event_and_inclusive_time_range(
    rules: None, send: Any, client: Any, reader: dict[str, str]
) -> None:
    times = [NOW - timedelta(hours=h) for h in (5, 4, 3, 2, 1)]
    for number, at in enumerate(times):
        event(send, "daily_login" if number % 2 == 0 else "level_completed", "u1", at)

    only_logins = history(client, reader, type="event", eventId="daily_login")["items"]
    assert [i["timestamp"] for i in only_logins] == [ms(times[4]), ms(times[2]), ms(times[0])]

    window = history(client, reader, type="event", **{"from": ms(times[1]), "to": iso(times[3])})
    assert [i["timestamp"] for i in window["items"]] == [ms(t) for t in reversed(times[1:4])]

    login_points = history(client, reader, type="points", eventId="level_completed")["items"]
    assert {p["eventId"] for p in login_points} == {"level_completed"}
    assert len(login_points) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"type": "badges"}, "type"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJ0IjoxLCJrIjoiZXZlbnQiLCJpIjoibm9wZSJ9"}, "cursor"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
    ],
)
def test_bad_history_queries_are_400_naming_the_parameter(
    rules: None, send: Any, client: Any, reader: dict[str, str], query: dict[str, Any], field: str
) -> None:
    send("daily_login", "u1")

    response = client.get("/users/u1/history", query_string=query, headers=reader)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert f"query.{field}" in response.json["error"]["details"]


def test_history_reads_along_the_declared_indexes(
    rules: None, send: Any, client: Any, reader: dict[str, str], monkeypatch: Any
) -> None:
    """mongomock cannot explain a plan, so check the hints given to MongoDB (a real server
    refuses a hint naming a missing index, and with it cannot fall back to a scan)."""
    send("daily_login", "u1")
    hints: list[Any] = []
    original = __import__("mongomock").collection.Cursor.hint

    def spy(self: Any, index: Any) -> Any:
        hints.append(index)
        return original(self, index)

    monkeypatch.setattr("mongomock.collection.Cursor.hint", spy)

    history(client, reader)

    assert sorted(hints) == ["project_user_created_id", "project_user_timestamp"]


def test_history_indexes_exist_with_the_keys_the_queries_sort_by(app: Any, db: Any) -> None:
    events = list(db.events.index_information()["project_user_timestamp"]["key"])
    ledger = list(db.ledger.index_information()["project_user_created_id"]["key"])

    assert events == [("project", 1), ("userId", 1), ("timestamp", -1), ("_id", -1)]
    assert ledger == [("project", 1), ("userId", 1), ("createdAt", -1), ("_id", -1)]


def test_history_is_per_project(
    rules: None, send: Any, client: Any, auth: Callable[..., dict[str, str]], define: Any
) -> None:
    define("events", "daily_login", {"points": {"fixed": 1}}, project="other")
    client.post(
        "/event",
        json={"eventId": "daily_login", "userId": "u1"},
        headers=auth(project="other"),
    )
    send("daily_login", "u1")

    items = history(client, auth("users:read"), type="event")["items"]

    assert len(items) == 1
    assert items[0]["outcome"]["pointsAwarded"] == 10
