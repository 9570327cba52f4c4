"""Leaderboards: live from events, ordered by points then by who got there first, per period,
and rebuilt from the ledger to exactly what the live updates built."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from core import clock
from core.clients import BoardsClient, Clients
from core.sortedsets import SortedSets
from jobs.effects import effects_for
from jobs.maintenance import rebuild_leaderboards
from rules.engine.scores import KEEP_AFTER, PERIODS, board_for
from rules.stores import boards as board_store
from rules.stores.boards import board_key, record_awards, standing, top
from rules.usecases import leaderboards
from tests.conftest import PROJECT
from tests.support.dates import ticking

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def entry(entry_id: str, delta: int, at: datetime, source: str = "event") -> dict[str, Any]:
    return {"_id": entry_id, "delta": delta, "source": source, "createdAt": at}


@pytest.fixture
def rules(define: Any) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    define("events", "purchase", {"points": {"perUnit": {"field": "value", "rate": 1}}})
    define(
        "streaks",
        "daily_use",
        {"events": ["daily_login"], "milestones": [{"count": 1, "points": 5}]},
    )


@pytest.fixture
def reader(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("users:read")


def board(client: Any, headers: dict[str, str], **query: Any) -> list[tuple[int, str, int]]:
    response = client.get("/leaderboards", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return [(i["rank"], i["userId"], i["points"]) for i in response.json["data"]["items"]]


@pytest.fixture(params=["redis", "in-process"], autouse=True)
def boards_store(request: pytest.FixtureRequest, clients: Clients) -> None:
    """Every test on both stores of the boards: Redis (the test Redis, else fakeredis) and the
    embedded default's sorted sets in memory (core.sortedsets)."""
    store = clients.redis if request.param == "redis" else SortedSets()
    clients.__dict__["boards"] = clients.__dict__["boards_in_request"] = store


@pytest.fixture(autouse=True)
def clock_ticking_from_now() -> Iterator[None]:
    """Ties go to whoever reached the score first, to the millisecond: on a clock that moves a
    millisecond at every read, each award lands after the one before it, and no test straddles
    a midnight of the real (or shifted) clock."""
    with clock.using(ticking(NOW)):
        yield


def buy(send: Any, user: str, value: int) -> None:
    response = send("purchase", user, metadata={"value": value})
    assert response.status_code == 200, response.json


# --- through the API -----------------------------------------------------------------------


def test_board_ranks_points_earned_with_ties_to_whoever_reached_them_first(
    rules: None, send: Any, client: Any, reader: dict[str, str]
) -> None:
    buy(send, "zed", 30)  # zed reaches 30 first
    buy(send, "amy", 10)
    buy(send, "bob", 50)
    buy(send, "amy", 20)  # amy reaches 30 later
    buy(send, "cat", 5)

    for period in ("day", "week", "month", "all"):
        assert board(client, reader, period=period) == [
            (1, "bob", 50),
            (2, "zed", 30),
            (3, "amy", 30),
            (4, "cat", 5),
        ], period
    assert board(client, reader, period="week", limit=2) == [(1, "bob", 50), (2, "zed", 30)]


def test_a_user_passing_a_tie_later_ranks_above_it(
    rules: None, send: Any, client: Any, reader: dict[str, str]
) -> None:
    buy(send, "zed", 10)
    buy(send, "amy", 10)
    buy(send, "amy", 1)
    buy(send, "zed", 1)  # zed reaches 11 after amy

    assert board(client, reader) == [(1, "amy", 11), (2, "zed", 11)]


def test_board_counts_streak_points_and_not_adjustments(
    rules: None, send: Any, client: Any, reader: dict[str, str], auth: Any
) -> None:
    send("daily_login", "ann")  # 10 + a 5-point milestone
    buy(send, "ben", 14)
    staff = auth("users:write", subject="support")
    for user, delta in (("ben", 100), ("ann", -15)):
        response = client.post(
            f"/users/{user}/adjustments", json={"delta": delta, "reason": "r"}, headers=staff
        )
        assert response.status_code == 200

    assert board(client, reader) == [(1, "ann", 15), (2, "ben", 14)]


def test_rank_of_a_user(rules: None, send: Any, client: Any, auth: Any) -> None:
    buy(send, "zed", 30)
    buy(send, "amy", 40)
    send("daily_login", "idle")
    client.post(
        "/users/idle/adjustments",
        json={"delta": -15, "reason": "r"},
        headers=auth("users:write", subject="s"),
    )

    def rank(user: str, scope: str = "users:read", **query: Any) -> Any:
        return client.get(f"/users/{user}/rank", query_string=query, headers=auth(scope))

    zed = rank("zed", period="day")
    assert zed.status_code == 200
    data = zed.json["data"]
    # idle keeps the 15 points it earned on the board: adjustments do not count.
    assert (data["rank"], data["points"], data["period"]) == (2, 30, "day")
    assert rank("idle").json["data"]["points"] == 15
    assert data["periodKey"] == f"{clock.now():%Y-%m-%d}"
    assert rank("amy").json["data"]["rank"] == 1
    assert rank("amy", scope="events:write").status_code == 200
    assert rank("nobody").status_code == 404
    assert rank("nobody").json["error"]["code"] == "not_found"


def test_rank_of_a_user_who_earned_nothing_is_null(
    define: Any, send: Any, client: Any, reader: dict[str, str]
) -> None:
    define("events", "viewed", {"points": {"fixed": 0}})
    send("viewed", "u1")

    data = client.get("/users/u1/rank", headers=reader).json["data"]

    assert (data["rank"], data["points"], data["period"], data["periodKey"]) == (
        None,
        0,
        "all",
        None,
    )


def test_leaderboards_are_per_project(
    rules: None, send: Any, define: Any, client: Any, auth: Any
) -> None:
    define("events", "purchase", {"points": {"fixed": 1}}, project="other")
    client.post(
        "/event", json={"eventId": "purchase", "userId": "x"}, headers=auth(project="other")
    )
    buy(send, "amy", 3)

    assert board(client, auth("users:read")) == [(1, "amy", 3)]
    assert board(client, auth("users:read", project="other")) == [(1, "x", 1)]


def test_reading_leaderboards_needs_users_read_or_events_write(
    client: Any, auth: Callable[..., dict[str, str]]
) -> None:
    assert client.get("/leaderboards").status_code == 401
    for scope in ("users:read", "events:write", "admin"):
        assert client.get("/leaderboards", headers=auth(scope)).status_code == 200, scope
    for scope in ("reports:read", "users:write", "events:import"):
        response = client.get("/leaderboards", headers=auth(scope))
        assert response.status_code == 403, scope
        assert response.json["error"]["code"] == "forbidden"


@pytest.mark.parametrize("query", [{"period": "year"}, {"limit": 0}, {"limit": 101}])
def test_bad_leaderboard_queries_are_400(
    client: Any, reader: dict[str, str], query: dict[str, Any]
) -> None:
    response = client.get("/leaderboards", query_string=query, headers=reader)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


def test_an_unavailable_redis_makes_a_rank_503(
    rules: None, send: Any, client: Any, reader: dict[str, str], clients: Clients
) -> None:
    buy(send, "amy", 5)
    # Nothing listens on port 1: every command is refused.
    clients.__dict__["boards"] = redis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.2
    )

    response = client.get("/users/amy/rank", headers=reader)

    assert response.status_code == 503
    assert response.json["error"]["code"] == "unavailable"


def test_events_are_recorded_while_redis_fails_and_the_rebuild_catches_up(
    rules: None, send: Any, client: Any, reader: dict[str, str], clients: Clients, monkeypatch: Any
) -> None:
    buy(send, "amy", 5)

    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise redis.ConnectionError("connection refused")

    monkeypatch.setattr("rules.stores.boards.record_awards_of_users", down)
    buy(send, "bob", 7)
    buy(send, "amy", 1)
    monkeypatch.undo()
    assert board(client, reader) == [(1, "amy", 5)]

    rebuild_leaderboards(clients.mongo)

    assert board(client, reader) == [(1, "bob", 7), (2, "amy", 6)]
    assert board(client, reader, period="day") == [(1, "bob", 7), (2, "amy", 6)]


# --- rebuild -------------------------------------------------------------------------------


def snapshot(client: BoardsClient) -> dict[str, list[tuple[bytes, float]]]:
    """Every board of PROJECT with its members and scores (markers left out)."""
    prefix = board_store.project_prefix(PROJECT)
    return {
        key.decode(): client.zrange(key, 0, -1, withscores=True)
        for key in client.scan_iter(match=prefix + "*")
        if b":applied:" not in key
    }


def test_rebuild_equals_the_live_boards(
    rules: None, send: Any, runner: Any, clients: Clients, auth: Any, client: Any
) -> None:
    for user, value in (("zed", 30), ("amy", 10), ("bob", 50), ("amy", 20), ("cat", 5)):
        buy(send, user, value)
    send("daily_login", "cat")
    client.post(
        "/users/bob/adjustments",
        json={"delta": 3, "reason": "r"},
        headers=auth("users:write", subject="s"),
    )
    live = snapshot(clients.boards)
    assert len(live) == 4

    result = runner.invoke(args=["leaderboard", "rebuild", "--project", PROJECT])

    assert result.exit_code == 0, result.output
    assert "[1/1] acme: users ranked by period: day 4, week 4, month 4, all 4" in result.output
    assert snapshot(clients.boards) == live


def test_rebuild_replaces_a_corrupted_board_and_drops_strangers(
    rules: None, send: Any, clients: Clients, client: Any, reader: dict[str, str]
) -> None:
    buy(send, "amy", 5)
    buy(send, "bob", 3)
    key = board_key(board_for(PROJECT, "all", NOW))
    live = snapshot(clients.boards)
    clients.boards.zadd(key, {"stranger": -1e12, "amy": 0.0})

    leaderboards.rebuild(clients.mongo, clients.boards, PROJECT, clock.now())

    assert snapshot(clients.boards) == live
    assert board(client, reader) == [(1, "amy", 5), (2, "bob", 3)]


def test_rebuild_finishes_pending_records_first_and_counts_them_once(
    rules: None, send: Any, clients: Clients, client: Any, reader: dict[str, str], db: Any
) -> None:
    buy(send, "amy", 5)
    # A request that died after its save: the record is still pending, nothing counted yet.
    user = db.users.find_one({"userId": "amy"})
    record = {
        "id": "r-crashed",
        "ledger": [
            {
                "_id": "r-crashed:0",
                "project": PROJECT,
                "userId": "amy",
                "delta": 4,
                "source": "event",
                "reason": "event:purchase",
                "eventId": "purchase",
                "ref": "r-crashed",
                "createdAt": clock.now(),
            }
        ],
    }
    db.users.update_one(
        {"_id": user["_id"]},
        {"$push": {"pending": record}, "$inc": {"points.balance": 4, "points.lifetime": 4}},
    )

    leaderboards.rebuild(db, clients.boards, PROJECT, clock.now(), effects_for(clients))
    send("daily_login", "amy")  # loads amy: nothing pending is left to count again

    assert db.users.find_one({"userId": "amy"})["pending"] == []
    assert board(client, reader) == [(1, "amy", 24)]


def test_rebuild_of_every_project_with_progress_lines(
    rules: None, send: Any, define: Any, runner: Any, client: Any, auth: Any
) -> None:
    define("events", "purchase", {"points": {"fixed": 2}}, project="other")
    client.post(
        "/event", json={"eventId": "purchase", "userId": "x"}, headers=auth(project="other")
    )
    buy(send, "amy", 5)

    result = runner.invoke(args=["leaderboard", "rebuild"])

    assert result.exit_code == 0, result.output
    assert "[1/2] acme:" in result.output and "[2/2] other:" in result.output
    assert "rebuilt the leaderboards of 2 project(s)" in result.output


def test_leaderboard_rebuild_has_help(runner: Any) -> None:
    result = runner.invoke(args=["leaderboard", "rebuild", "--help"])

    assert result.exit_code == 0
    assert "--project" in result.output
    assert "from the ledger" in result.output


# --- the live update itself ----------------------------------------------------------------


def test_an_entry_finished_twice_counts_once(clients: Clients) -> None:
    entries = [entry("r1:0", 10, NOW), entry("r1:1", 5, NOW)]

    assert record_awards(clients.boards, PROJECT, "amy", entries, NOW) == 2
    assert record_awards(clients.boards, PROJECT, "amy", entries, NOW) == 0
    assert record_awards(clients.boards, PROJECT, "amy", entries[1:], NOW) == 0

    assert [(s.user_id, s.points) for s in top(clients.boards, PROJECT, "day", 10, NOW)] == [
        ("amy", 15)
    ]


def test_entries_partly_counted_before_add_only_the_new_ones(clients: Clients) -> None:
    earlier = entry("r1:0", 10, NOW - timedelta(days=40))
    record_awards(clients.boards, PROJECT, "amy", [earlier], NOW)

    assert record_awards(clients.boards, PROJECT, "amy", [earlier, entry("r2:0", 5, NOW)], NOW) == 1

    assert [(s.user_id, s.points) for s in top(clients.boards, PROJECT, "all", 10, NOW)] == [
        ("amy", 15)
    ]
    assert [(s.user_id, s.points) for s in top(clients.boards, PROJECT, "day", 10, NOW)] == [
        ("amy", 5)
    ]


def test_several_users_at_once_count_as_one_at_a_time(clients: Clients) -> None:
    """A batch's awards in one transaction build the boards the one-by-one updates build."""
    earlier = NOW - timedelta(days=3)
    awards = {
        "amy": [entry("a:0", 10, NOW), entry("a:1", 4, earlier)],
        "bob": [entry("b:0", 12, NOW + timedelta(milliseconds=5))],
        "cat": [entry("c:0", 3, NOW, source="adjustment")],  # not counted
    }
    one_by_one, together = f"{PROJECT}-1", f"{PROJECT}-2"
    for project in (one_by_one, together):
        record_awards(clients.boards, project, "amy", [entry("a:old", 2, earlier)], NOW)
    counted = [
        record_awards(clients.boards, one_by_one, user, entries, NOW)
        for user, entries in awards.items()
    ]
    assert counted == [2, 1, 0]
    assert board_store.record_awards_of_users(clients.boards, together, awards, NOW) == 3
    assert board_store.record_awards_of_users(clients.boards, together, awards, NOW) == 0

    def boards(project: str) -> dict[str, list[tuple[str, int]]]:
        return {
            period: [(s.user_id, s.points) for s in top(clients.boards, project, period, 10, NOW)]
            for period in PERIODS
        }

    assert boards(together) == boards(one_by_one)
    assert boards(together)["all"] == [("amy", 16), ("bob", 12)]
    assert boards(together)["day"] == [("bob", 12), ("amy", 10)]


def test_a_user_whose_boards_keep_changing_does_not_hold_back_the_others(
    clients: Clients, monkeypatch: Any
) -> None:
    """After a combined write lost its race, users go one at a time; one that keeps losing is
    left to the rebuild and the users after it still reach their boards."""
    if isinstance(clients.boards, SortedSets):
        pytest.skip("in process, nothing runs between an award's reads and writes (its lock)")
    unapplied = board_store._unapplied
    touches = iter(range(1, 1000))

    def amy_changes_meanwhile(client: Any, markers: Any, earned: Any, project: str) -> Any:
        if "amy" in markers:  # another request touches amy's marker after the WATCH
            client.zadd(markers["amy"], {"elsewhere": next(touches)})
        return unapplied(client, markers, earned, project)

    monkeypatch.setattr(board_store, "_unapplied", amy_changes_meanwhile)
    awards = {"amy": [entry("a:0", 10, NOW)], "bob": [entry("b:0", 12, NOW)]}

    assert board_store.record_awards_of_users(clients.boards, PROJECT, awards, NOW) == 1
    assert [(s.user_id, s.points) for s in top(clients.boards, PROJECT, "all", 10, NOW)] == [
        ("bob", 12)
    ]


def test_only_positive_points_earned_through_rules_count(clients: Clients) -> None:
    entries = [
        entry("r1:0", 10, NOW),
        entry("r1:1", 5, NOW, source="streak"),
        entry("r1:2", 7, NOW, source="challenge"),
        entry("r2:0", 100, NOW, source="adjustment"),
        entry("r3:0", -4, NOW),
    ]

    assert record_awards(clients.boards, PROJECT, "amy", entries, NOW) == 3
    assert standing(clients.boards, PROJECT, "all", "amy", NOW) == board_store.Standing(
        1, "amy", 22
    )


def test_ties_are_decided_to_the_millisecond_and_then_by_user_id(clients: Clients) -> None:
    r = clients.boards
    record_awards(r, PROJECT, "zed", [entry("a:0", 7, NOW + timedelta(milliseconds=1))], NOW)
    record_awards(r, PROJECT, "amy", [entry("b:0", 7, NOW + timedelta(milliseconds=2))], NOW)
    record_awards(r, PROJECT, "bob", [entry("c:0", 7, NOW + timedelta(milliseconds=2))], NOW)

    assert [s.user_id for s in top(r, PROJECT, "day", 10, NOW)] == ["zed", "amy", "bob"]
    assert [s.user_id for s in top(r, PROJECT, "all", 10, NOW)] == ["zed", "amy", "bob"]


def test_an_award_finished_late_keeps_the_later_reached_time(clients: Clients) -> None:
    """Records may be finished out of order (the sweep): the later award still decides."""
    r = clients.boards
    record_awards(r, PROJECT, "amy", [entry("a:0", 5, NOW)], NOW)
    record_awards(r, PROJECT, "zed", [entry("z:0", 5, NOW + timedelta(seconds=1))], NOW)
    record_awards(r, PROJECT, "zed", [entry("z:1", 5, NOW + timedelta(seconds=3))], NOW)
    record_awards(r, PROJECT, "amy", [entry("a:1", 5, NOW + timedelta(seconds=4))], NOW)
    record_awards(r, PROJECT, "amy", [entry("a:2", 0, NOW + timedelta(seconds=9))], NOW)
    record_awards(r, PROJECT, "zed", [entry("z:2", 0, NOW + timedelta(seconds=9))], NOW)
    # finished late: an award created before zed's latest
    record_awards(r, PROJECT, "zed", [entry("z:3", 0, NOW)], NOW)

    assert [s.user_id for s in top(r, PROJECT, "day", 10, NOW)] == ["zed", "amy"]


def test_awards_count_in_the_utc_period_they_were_made(clients: Clients) -> None:
    r = clients.boards
    sunday_night = datetime(2026, 11, 29, 23, 59, 59, 999000, tzinfo=UTC)
    monday = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    december = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    record_awards(r, PROJECT, "amy", [entry("a:0", 1, sunday_night)], monday)
    record_awards(r, PROJECT, "amy", [entry("a:1", 2, monday)], monday)
    record_awards(r, PROJECT, "amy", [entry("a:2", 4, december)], december)

    def points(period: str, at: datetime) -> int | None:
        found = standing(r, PROJECT, period, "amy", at)
        return None if found is None else found.points

    assert points("day", sunday_night) == 1
    assert points("day", monday) == 2
    assert points("week", sunday_night) == 1  # ISO week 2026-W48
    assert points("week", monday) == 6  # 2026-W49: Monday and the 1st of December
    assert points("month", monday) == 3
    assert points("month", december) == 4
    assert points("all", december) == 7
    assert board_for(PROJECT, "week", monday).key == "2026-W49"
    assert board_for(PROJECT, "week", sunday_night).key == "2026-W48"
    assert board_for(PROJECT, "month", december).key == "2026-12"


def test_boards_of_periods_expire_after_them_and_all_time_never(clients: Clients) -> None:
    now = clock.now()
    record_awards(clients.boards, PROJECT, "amy", [entry("a:0", 1, now)], now)

    for period in ("day", "week", "month"):
        ttl = clients.boards.ttl(board_key(board_for(PROJECT, period, now)))
        end = board_for(PROJECT, period, now).end
        assert end is not None
        expected = (end + KEEP_AFTER[period] - now).total_seconds()
        assert expected - 5 <= ttl <= expected + 1, period
    assert clients.boards.ttl(board_key(board_for(PROJECT, "all", now))) == -1
    marker = clients.boards.ttl(board_store.applied_key(PROJECT, "amy"))
    assert 0 < marker <= board_store.APPLIED_KEEP.total_seconds()


def test_a_failing_redis_is_left_alone_for_a_while(clients: Clients) -> None:
    calls: list[int] = []
    clock = [0.0]

    def broken() -> Any:
        calls.append(1)
        raise redis.ConnectionError("down")

    breaker = board_store.Breaker(clock=lambda: clock[0])
    effect = leaderboards.leaderboard_effect(broken, breaker)
    record = {"id": "r", "ledger": [entry("r:0", 1, NOW)]}

    with pytest.raises(redis.ConnectionError):
        effect(PROJECT, "amy", record)
    effect(PROJECT, "amy", record)  # skipped: the breaker is open for 1 s
    clock[0] = 1.0
    with pytest.raises(redis.ConnectionError):
        effect(PROJECT, "amy", record)
    clock[0] = 2.5
    effect(PROJECT, "amy", record)  # open for 2 s now
    effect(PROJECT, "amy", {"id": "s", "ledger": []})  # nothing to count: Redis not asked

    assert len(calls) == 2
