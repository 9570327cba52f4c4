"""Support actions through the API: points adjustments and the streak tools, each applied once
(idempotency keys, crashes, concurrency), audited with the token's `sub`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from core import clock
from jobs.effects import effects_for
from rules.stores.users import UserStore
from rules.usecases.unit_of_work import finish_records
from tests.conftest import PROJECT
from tests.support.dates import iso
from tests.support.stores import balance, ledger_sum

NOW = clock.now().replace(microsecond=0)
REPLAYED = "Idempotent-Replayed"


@pytest.fixture(autouse=True)
def clock_at_now() -> Iterator[None]:
    """Events are dated from NOW, read once at import: hold the clock there, so that no test
    straddles a midnight of the real (or shifted) clock between its events."""
    with clock.using(clock.frozen(NOW)):
        yield


@pytest.fixture
def rules(define: Any) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    define(
        "streaks",
        "daily_use",
        {
            "events": ["daily_login"],
            "milestones": [{"count": 3, "points": 20}, {"count": 4, "points": 7}],
        },
    )


@pytest.fixture
def staff(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("users:write", subject="support-ann")


@pytest.fixture
def adjust(client: Any, staff: dict[str, str]) -> Callable[..., Any]:
    def post(user: str = "u1", headers: dict[str, str] | None = None, **body: Any) -> Any:
        return client.post(f"/users/{user}/adjustments", json=body, headers=headers or staff)

    return post


def login(send: Any, user: str = "u1", at: datetime | None = None) -> dict[str, Any]:
    response = send("daily_login", user, **({"timestamp": iso(at)} if at else {}))
    assert response.status_code == 200, response.json
    data: dict[str, Any] = response.json["data"]
    return data


# --- adjustments ---------------------------------------------------------------------------


def test_adjustment_changes_the_balance_with_a_ledger_entry_naming_the_actor(
    rules: None, send: Any, adjust: Any, db: Any, client: Any, auth: Any
) -> None:
    login(send)

    response = adjust(delta=25, reason="Goodwill: order #4711 late")

    assert response.status_code == 200, response.json
    assert REPLAYED not in response.headers
    data = response.json["data"]
    assert (data["userId"], data["delta"], data["balance"], data["lifetime"]) == ("u1", 25, 35, 10)
    assert (data["reason"], data["actor"]) == ("Goodwill: order #4711 late", "support-ann")
    entry = db.ledger.find_one({"_id": data["entryId"]})
    assert entry["source"] == "adjustment"
    assert entry["actor"] == "support-ann"
    assert entry["reason"] == "Goodwill: order #4711 late"
    assert balance(db, "u1") == ledger_sum(db, "u1") == 35
    profile = client.get("/users/u1", headers=auth("users:read")).json["data"]
    assert profile["points"] == {"balance": 35, "lifetime": 10}
    [points] = client.get(
        "/users/u1/history", query_string={"type": "points", "limit": 1}, headers=auth("users:read")
    ).json["data"]["items"]
    assert (points["delta"], points["source"], points["actor"]) == (25, "adjustment", "support-ann")
    [audit] = db.audit.find({"project": PROJECT, "userId": "u1"})
    assert (audit["action"], audit["actor"]) == ("points.adjusted", "support-ann")
    assert (audit["before"], audit["after"]) == ({"balance": 10}, {"balance": 35})
    assert db.users.find_one({"userId": "u1"})["pending"] == []


def test_negative_adjustment_may_empty_the_balance_but_never_below_zero(
    rules: None, send: Any, adjust: Any, db: Any
) -> None:
    login(send)

    refused = adjust(delta=-11, reason="chargeback", idempotencyKey="k-1")

    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "validation_error"
    assert "delta" in refused.json["error"]["details"]
    assert balance(db, "u1") == 10
    assert db.ledger.count_documents({"source": "adjustment"}) == 0
    assert db.audit.count_documents({}) == 0
    # Refused requests leave no key behind: the corrected retry may reuse it.
    assert db.idempotency_keys.count_documents({}) == 0
    accepted = adjust(delta=-10, reason="chargeback", idempotencyKey="k-1")
    assert accepted.status_code == 200
    assert balance(db, "u1") == ledger_sum(db, "u1") == 0


def test_adjustment_replayed_with_the_same_key_is_applied_once(
    rules: None, send: Any, adjust: Any, db: Any, client: Any, staff: dict[str, str]
) -> None:
    login(send)
    body = {"delta": 5, "reason": "bonus", "idempotencyKey": "ticket-81"}

    first = adjust(**body)
    replay = adjust(**body)
    header_replay = client.post(
        "/users/u1/adjustments",
        json={"delta": 5, "reason": "bonus"},
        headers={**staff, "Idempotency-Key": "ticket-81"},
    )

    assert first.status_code == replay.status_code == header_replay.status_code == 200
    assert replay.json == first.json == header_replay.json
    assert replay.headers[REPLAYED] == header_replay.headers[REPLAYED] == "true"
    assert db.ledger.count_documents({"source": "adjustment"}) == 1
    assert db.audit.count_documents({}) == 1
    assert balance(db, "u1") == ledger_sum(db, "u1") == 15


def test_same_key_with_another_body_or_user_or_route_is_422(
    rules: None, send: Any, adjust: Any, client: Any, staff: dict[str, str], db: Any
) -> None:
    login(send, "u1")
    login(send, "u2")
    assert adjust(delta=5, reason="bonus", idempotencyKey="k").status_code == 200

    other_delta = adjust(delta=6, reason="bonus", idempotencyKey="k")
    other_user = adjust(user="u2", delta=5, reason="bonus", idempotencyKey="k")
    other_route = client.post(
        "/users/u1/streaks/daily_use/freezes",
        json={"count": 5, "idempotencyKey": "k"},
        headers=staff,
    )
    as_event = send("daily_login", "u1", idempotencyKey="k")

    for response in (other_delta, other_user, other_route, as_event):
        assert response.status_code == 422, response.json
        assert response.json["error"]["code"] == "idempotency_conflict"
    assert balance(db, "u1") == 15 and balance(db, "u2") == 10


def test_concurrent_replays_of_one_adjustment_apply_it_once(
    rules: None, send: Any, app: Any, staff: dict[str, str], db: Any
) -> None:
    login(send)
    body = {"delta": 7, "reason": "race", "idempotencyKey": "race-1"}
    statuses: list[int] = []
    start = threading.Barrier(8)

    def post() -> None:
        client = app.test_client()
        start.wait()
        response = client.post("/users/u1/adjustments", json=body, headers=staff)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 8
    assert db.ledger.count_documents({"source": "adjustment"}) == 1
    assert balance(db, "u1") == ledger_sum(db, "u1") == 17


def test_concurrent_events_and_adjustments_lose_no_update(
    rules: None, send: Any, app: Any, staff: dict[str, str], auth: Any, db: Any
) -> None:
    login(send)

    def adjust_twice() -> None:
        client = app.test_client()
        for _ in range(2):
            response = client.post(
                "/users/u1/adjustments", json={"delta": 1, "reason": "r"}, headers=staff
            )
            assert response.status_code == 200

    def log_in_twice() -> None:
        client = app.test_client()
        for _ in range(2):
            body = {"eventId": "daily_login", "userId": "u1"}
            assert client.post("/event", json=body, headers=auth()).status_code == 200

    threads = [threading.Thread(target=f) for f in (adjust_twice, log_in_twice) * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert balance(db, "u1") == ledger_sum(db, "u1") == 10 + 3 * 2 * 1 + 3 * 2 * 10


def test_an_adjustment_whose_request_died_after_the_save_is_finished_later(
    rules: None, send: Any, adjust: Any, db: Any, monkeypatch: Any
) -> None:
    login(send)

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("worker killed")

    monkeypatch.setattr("rules.usecases.unit_of_work.finish_records", crash)
    assert adjust(delta=4, reason="late", idempotencyKey="k-crash").status_code == 500
    monkeypatch.undo()
    user = db.users.find_one({"userId": "u1"})
    assert user["points"]["balance"] == 14
    assert len(user["pending"]) == 1
    assert ledger_sum(db, "u1") == 10

    replay = adjust(delta=4, reason="late", idempotencyKey="k-crash")

    assert replay.status_code == 200
    assert replay.headers[REPLAYED] == "true"
    assert replay.json["data"]["balance"] == 14
    assert balance(db, "u1") == ledger_sum(db, "u1") == 14
    assert db.audit.count_documents({"action": "points.adjusted"}) == 1
    assert db.users.find_one({"userId": "u1"})["pending"] == []


def test_finishing_a_support_record_twice_writes_it_once(
    rules: None, send: Any, adjust: Any, db: Any, app: Any
) -> None:
    login(send)
    adjust(delta=3, reason="twice")
    entry = db.ledger.find_one({"source": "adjustment"})
    record = {
        "id": entry["ref"],
        "ledger": [entry],
        "audit": db.audit.find_one({"_id": entry["ref"]}),
    }

    finish_records(db, PROJECT, [("u1", record)], effects_for(app.extensions["laurel"].clients))

    assert db.ledger.count_documents({"source": "adjustment"}) == 1
    assert db.audit.count_documents({}) == 1
    assert balance(db, "u1") == ledger_sum(db, "u1") == 13


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "r"}, "delta"),
        ({"delta": 0, "reason": "r"}, "delta"),
        ({"delta": 1.5, "reason": "r"}, "delta"),
        ({"delta": "5", "reason": "r"}, "delta"),
        ({"delta": 10**10, "reason": "r"}, "delta"),
        ({"delta": 5}, "reason"),
        ({"delta": 5, "reason": ""}, "reason"),
        ({"delta": 5, "reason": "x" * 201}, "reason"),
        ({"delta": 5, "reason": "r", "extra": 1}, "extra"),
    ],
)
def test_bad_adjustments_are_400(
    rules: None, send: Any, adjust: Any, body: dict[str, Any], field: str
) -> None:
    login(send)

    response = adjust(**body)

    assert response.status_code == 400
    assert field in response.json["error"]["details"]


def test_adjusting_an_unknown_user_is_404_and_creates_nobody(adjust: Any, db: Any) -> None:
    response = adjust(user="ghost", delta=5, reason="r", idempotencyKey="k")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert db.users.count_documents({}) == db.idempotency_keys.count_documents({}) == 0


def test_support_actions_need_users_write_and_a_named_token(
    rules: None, send: Any, client: Any, auth: Callable[..., dict[str, str]], db: Any
) -> None:
    login(send)
    paths = {
        "/users/u1/adjustments": {"delta": 1, "reason": "r"},
        "/users/u1/streaks/daily_use/restore": {"count": 2},
        "/users/u1/streaks/daily_use/freezes": {"count": 1},
    }
    for path, body in paths.items():
        assert client.post(path, json=body).status_code == 401
        for scope in ("users:read", "events:write", "reports:read"):
            response = client.post(path, json=body, headers=auth(scope, subject="ann"))
            assert response.status_code == 403, (path, scope)
        anonymous = client.post(path, json=body, headers=auth("users:write"))
        assert anonymous.status_code == 403
        assert "sub" in anonymous.json["error"]["message"]
        assert (
            client.post(path, json=body, headers=auth("admin", subject="root")).status_code == 200
        )
    response = client.delete("/users/u1", headers=auth("users:read"))
    assert response.status_code == 403
    assert db.users.count_documents({"userId": "u1"}) == 1


def test_an_adjustment_notifies_points_adjusted_webhooks(
    rules: None, send: Any, adjust: Any, db: Any, client: Any, auth: Any
) -> None:
    hook = {"url": "https://example.com/h", "secret": "s" * 20, "events": ["points.adjusted"]}
    assert client.put("/admin/webhooks/h1", json=hook, headers=auth("admin")).status_code == 200
    login(send)

    adjust(delta=-4, reason="typo")

    [notification] = db.notifications.find({"type": "points.adjusted"})
    payload = notification["payload"]
    assert (payload["userId"], payload["points"]) == ("u1", -4)
    assert payload["data"] == {"delta": -4, "balance": 6, "reason": "typo", "actor": "support-ann"}


# --- streak tools --------------------------------------------------------------------------


def restore(client: Any, headers: dict[str, str], count: int, **body: Any) -> Any:
    return client.post(
        "/users/u1/streaks/daily_use/restore", json={"count": count, **body}, headers=headers
    )


def grant(client: Any, headers: dict[str, str], count: int, **body: Any) -> Any:
    return client.post(
        "/users/u1/streaks/daily_use/freezes", json={"count": count, **body}, headers=headers
    )


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def test_restored_streak_goes_on_from_the_restored_count(
    rules: None, send: Any, client: Any, staff: dict[str, str], db: Any
) -> None:
    for days in (6, 5, 4):
        login(send, at=days_ago(days))
    broken = login(send, at=days_ago(1))
    assert broken["streaks"][0]["currentCount"] == 1

    response = restore(client, staff, 3)

    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert (data["userId"], data["streakId"], data["actor"]) == ("u1", "daily_use", "support-ann")
    assert (data["currentCount"], data["longestCount"]) == (3, 3)
    assert data["previous"]["currentCount"] == 1
    today = login(send)
    [streak] = today["streaks"]
    assert (streak["currentCount"], streak["longestCount"]) == (4, 4)
    # Milestone 3 was paid before the break and is not paid again; milestone 4 is new.
    assert (streak["milestoneReached"], streak["pointsAwarded"]) == (True, 7)
    [audit] = db.audit.find({"action": "streak.restored"})
    assert audit["actor"] == "support-ann"
    assert (audit["before"]["currentCount"], audit["after"]["currentCount"]) == (1, 3)
    assert audit["details"] == {"streakId": "daily_use", "count": 3}


def test_a_restore_forgives_a_longer_gap_and_ignores_events_older_than_it(
    rules: None, send: Any, client: Any, staff: dict[str, str]
) -> None:
    login(send, at=days_ago(6))
    login(send, at=days_ago(5))

    assert restore(client, staff, 10).status_code == 200
    late = login(send, at=days_ago(3))
    today = login(send)

    assert late["streaks"][0]["currentCount"] == 10
    assert today["streaks"][0]["currentCount"] == 11
    assert login(send)["streaks"][0]["currentCount"] == 11  # same day: counted once


def test_a_restored_streak_survives_the_next_event(
    rules: None, send: Any, client: Any, staff: dict[str, str], auth: Any
) -> None:
    """The counts are recomputed from the moments a streak keeps: restoring must move those,
    not just the number shown."""
    login(send, at=days_ago(1))
    restore(client, staff, 20)

    after = login(send)

    assert after["streaks"][0]["currentCount"] == 21
    profile = client.get("/users/u1", headers=auth("users:read")).json["data"]
    assert profile["streaks"][0]["currentCount"] == 21


def test_granted_freezes_bridge_missed_days(
    rules: None, send: Any, client: Any, staff: dict[str, str], db: Any
) -> None:
    login(send, at=days_ago(4))
    login(send, at=days_ago(3))

    response = grant(client, staff, 2)

    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert (data["freezes"], data["previous"]["freezes"], data["currentCount"]) == (2, 0, 2)
    today = login(send)
    [streak] = today["streaks"]
    assert (streak["currentCount"], streak["freezesUsed"]) == (3, 2)
    [audit] = db.audit.find({"action": "streak.freezes_granted"})
    assert (audit["before"]["freezes"], audit["after"]["freezes"]) == (0, 2)


def test_freeze_grant_replayed_with_its_key_grants_once(
    rules: None, send: Any, client: Any, staff: dict[str, str]
) -> None:
    login(send)

    first = grant(client, staff, 1, idempotencyKey="f-1")
    replay = grant(client, staff, 1, idempotencyKey="f-1")

    assert replay.json == first.json
    assert replay.headers[REPLAYED] == "true"
    assert replay.json["data"]["freezes"] == 1
    assert grant(client, staff, 1).json["data"]["freezes"] == 2


def test_streak_tools_work_for_a_streak_the_user_never_had(
    rules: None, define: Any, send: Any, client: Any, staff: dict[str, str]
) -> None:
    define("events", "level_completed", {"points": {"fixed": 1}})
    define("streaks", "weekly_play", {"events": ["level_completed"], "period": "week"})
    login(send)

    response = client.post(
        "/users/u1/streaks/weekly_play/restore", json={"count": 5}, headers=staff
    )
    played = send("level_completed", "u1")

    assert response.status_code == 200
    assert response.json["data"]["previous"]["currentCount"] == 0
    # Alive: the first activity of this week continues it.
    assert played.json["data"]["streaks"][0]["currentCount"] == 6


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/users/ghost/streaks/daily_use/restore", {"count": 1}, 404, "not_found"),
        ("/users/u1/streaks/nope/restore", {"count": 1}, 404, "not_found"),
        ("/users/u1/streaks/nope/freezes", {"count": 1}, 404, "not_found"),
        ("/users/u1/streaks/daily_use/restore", {"count": 0}, 400, "validation_error"),
        ("/users/u1/streaks/daily_use/restore", {}, 400, "validation_error"),
        ("/users/u1/streaks/daily_use/freezes", {"count": 366}, 400, "validation_error"),
        ("/users/u1/streaks/daily_use/freezes", {"count": True}, 400, "validation_error"),
    ],
)
def test_streak_tools_refuse_unknown_users_streaks_and_bad_counts(
    rules: None,
    send: Any,
    client: Any,
    staff: dict[str, str],
    db: Any,
    path: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    login(send)
    before = db.users.find_one({"userId": "u1"})

    response = client.post(path, json=body, headers=staff)

    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert db.users.find_one({"userId": "u1"}) == before
    assert db.audit.count_documents({}) == 0


def test_a_retried_debit_that_emptied_the_balance_before_a_crash_is_replayed_not_refused(
    rules: None, send: Any, adjust: Any, db: Any, monkeypatch: Any
) -> None:
    login(send)  # balance 10

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("worker killed")

    monkeypatch.setattr("rules.usecases.unit_of_work.finish_records", crash)
    assert adjust(delta=-10, reason="refund", idempotencyKey="k-debit").status_code == 500
    monkeypatch.undo()
    assert balance(db, "u1") == 0  # applied, its records pending

    retry = adjust(delta=-10, reason="refund", idempotencyKey="k-debit")

    assert retry.status_code == 200, retry.json
    assert retry.headers[REPLAYED] == "true" and retry.json["data"]["balance"] == 0
    assert balance(db, "u1") == ledger_sum(db, "u1") == 0


def test_a_debit_refused_because_another_landed_first_leaves_its_key_free(
    rules: None, send: Any, adjust: Any, db: Any, monkeypatch: Any
) -> None:
    login(send)  # balance 10
    original = UserStore.save_records
    landed: list[bool] = []

    def another_debit_first(self: Any, *args: Any, **kwargs: Any) -> bool:
        if not landed:
            landed.append(True)
            assert adjust(delta=-8, reason="other", idempotencyKey="k-other").status_code == 200
        return original(self, *args, **kwargs)

    monkeypatch.setattr(UserStore, "save_records", another_debit_first)
    refused = adjust(delta=-5, reason="mine", idempotencyKey="k-mine")
    monkeypatch.undo()

    assert refused.status_code == 400  # 10 - 8 - 5 < 0, judged again after the race
    corrected = adjust(delta=-2, reason="mine", idempotencyKey="k-mine")
    assert corrected.status_code == 200, corrected.json
    assert balance(db, "u1") == ledger_sum(db, "u1") == 0
