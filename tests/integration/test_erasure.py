"""DELETE /users/{userId}: the user leaves no trace in any collection or Redis key, others stay."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import redis

from core import clock
from core.clients import BoardsClient, Clients
from core.sortedsets import SortedSets
from jobs.maintenance import rebuild_leaderboards
from reports.analytics.runner import run_project
from rules.usecases.erasure import erase_user
from tests.conftest import PROJECT
from tests.support.waiting import TIMEOUT, wait_for

VICTIM = "erase-me@example.com"  # what apps were told not to send, and send anyway
OTHER = "keep-me"
SECRET = "whsec_erasure_0123456789"


def strings_in(value: Any) -> Iterator[str]:
    """Every string (and bytes, decoded) in a document, keys included, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
        try:  # RQ keeps job data zlib-compressed
            yield zlib.decompress(value).decode("utf-8", "replace")
        except zlib.error:
            pass
    elif value is not None:
        yield str(value)


def mongo_traces(db: Any, needle: str) -> list[str]:
    found = []
    for name in db.list_collection_names():
        for document in db[name].find():
            if any(needle in text for text in strings_in(document)):
                found.append(f"{name}: {document.get('_id')!r}")
    return found


def redis_values(client: BoardsClient, key: bytes) -> Any:
    if isinstance(client, SortedSets):
        return client.zrange(key, 0, -1)
    kind = client.type(key).decode()
    if kind == "string":
        return client.get(key)
    if kind == "hash":
        return client.hgetall(key)
    if kind == "list":
        return client.lrange(key, 0, -1)
    if kind == "set":
        return client.smembers(key)
    if kind == "zset":
        return client.zrange(key, 0, -1)
    if kind == "stream":
        return client.xrange(key)
    return None


def redis_traces(clients: Clients, needle: str) -> list[str]:
    """Keys holding `needle` in Redis and, kept apart in the embedded default, the boards."""
    stores = [clients.redis] if clients.boards is clients.redis else [clients.redis, clients.boards]
    found = []
    for store in stores:
        for key in store.scan_iter(count=500):
            if any(needle in text for text in strings_in([key, redis_values(store, key)])):
                found.append(key.decode())
    return found


@pytest.fixture
def world(define: Any, client: Any, auth: Any, send: Any, clients: Clients) -> None:
    """VICTIM and OTHER with everything Laurel stores about a user."""
    define("events", "daily_login", {"points": {"fixed": 10}})
    define("events", "purchase", {"points": {"perUnit": {"field": "value", "rate": 1}}})
    define(
        "streaks",
        "daily_use",
        {"events": ["daily_login"], "milestones": [{"count": 1, "points": 5, "badge": "hi"}]},
    )
    define(
        "challenges",
        "buyer",
        {"events": ["purchase"], "goal": {"type": "count", "target": 1}, "reward": {"points": 3}},
    )
    hook = {
        "url": "http://127.0.0.1:9/hooks",
        "secret": SECRET,
        "events": ["event.rewarded", "points.adjusted", "streak.milestone"],
    }
    assert client.put("/admin/webhooks/h1", json=hook, headers=auth("admin")).status_code == 200
    staff = auth("users:write", subject="support-ann")
    yesterday = (clock.now() - timedelta(days=1)).isoformat()
    for user in (VICTIM, OTHER):
        assert send("daily_login", user, timestamp=yesterday).status_code == 200
        assert send("daily_login", user, idempotencyKey=f"login-{user}").status_code == 200
        body = {"value": 12, "name": user, "email": user, "usergroup": "vip"}
        assert send("purchase", user, metadata=body).status_code == 200
        for path, payload in (
            ("adjustments", {"delta": 5, "reason": f"sorry {user}", "idempotencyKey": f"a-{user}"}),
            ("streaks/daily_use/restore", {"count": 9, "idempotencyKey": f"r-{user}"}),
            ("streaks/daily_use/freezes", {"count": 1}),
        ):
            response = client.post(f"/users/{user}/{path}", json=payload, headers=staff)
            assert response.status_code == 200, response.json
    # The boards of a past period hold the user too (rebuilds only touch current ones).
    clients.boards.zadd(f"laurel:lb:{{{PROJECT}}}:day:2020-01-01", {VICTIM: -1.0, OTHER: -2.0})


def test_erasure_leaves_no_trace_of_the_user_anywhere(
    world: None, client: Any, auth: Any, db: Any, clients: Clients
) -> None:
    run_project(db, PROJECT)  # the analytics have counted the user and their metadata
    assert mongo_traces(db, VICTIM), "the setup should have stored the user"
    assert redis_traces(clients, VICTIM)
    touched = {trace.split(":")[0] for trace in mongo_traces(db, VICTIM)}
    assert touched >= {
        "users",
        "events",
        "ledger",
        "audit",
        "idempotency_keys",
        "notifications",
        "deliveries",
        "report_partials",
        "reports",
    }

    response = client.delete(f"/users/{VICTIM}", headers=auth("users:write"))

    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["userId"] == VICTIM
    assert data["erased"]["users"] == 1
    assert data["erased"]["events"] == 3
    assert data["erased"]["audit"] == 3
    assert data["erased"]["idempotency_keys"] == 3
    assert data["leaderboardKeys"] == 6  # 4 current boards, a past one, the markers
    assert mongo_traces(db, VICTIM) == []
    assert redis_traces(clients, VICTIM) == []


def test_erasure_keeps_everyone_else(
    world: None, client: Any, auth: Any, db: Any, clients: Clients
) -> None:
    before = {
        name: db[name].count_documents({"userId": OTHER}) for name in db.list_collection_names()
    }
    other_keys = redis_traces(clients, OTHER)

    client.delete(f"/users/{VICTIM}", headers=auth("users:write"))

    after = {
        name: db[name].count_documents({"userId": OTHER}) for name in db.list_collection_names()
    }
    assert after == before
    assert redis_traces(clients, OTHER) == other_keys
    profile = client.get(f"/users/{OTHER}", headers=auth("users:read"))
    assert profile.status_code == 200
    board = client.get("/leaderboards", headers=auth("users:read")).json["data"]["items"]
    assert [item["userId"] for item in board] == [OTHER]
    replay = client.post(
        f"/users/{OTHER}/adjustments",
        json={"delta": 5, "reason": f"sorry {OTHER}", "idempotencyKey": f"a-{OTHER}"},
        headers=auth("users:write", subject="support-ann"),
    )
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_erasure_is_final_and_a_repeat_is_404(
    world: None, client: Any, auth: Any, db: Any, clients: Clients
) -> None:
    assert client.delete(f"/users/{VICTIM}", headers=auth("users:write")).status_code == 200

    again = client.delete(f"/users/{VICTIM}", headers=auth("users:write"))

    assert again.status_code == 404
    assert again.json["error"]["code"] == "not_found"
    assert client.get(f"/users/{VICTIM}", headers=auth("users:read")).status_code == 404
    # Nothing brings the user back: not the sweep, nor a rebuild of the boards.
    rebuild_leaderboards(db)
    assert redis_traces(clients, VICTIM) == []
    assert mongo_traces(db, VICTIM) == []


def test_erasure_names_the_analytics_days_to_re_aggregate(
    world: None, db: Any, clients: Clients
) -> None:
    today = clock.now().strftime("%Y-%m-%d")
    yesterday = (clock.now() - timedelta(days=1)).strftime("%Y-%m-%d")

    erased = erase_user(db, clients.boards, PROJECT, VICTIM)

    assert erased.report_days == {
        ("daily_login", yesterday),
        ("daily_login", today),
        ("purchase", today),
    }


def test_erasing_a_user_who_was_never_seen_is_404(client: Any, auth: Any) -> None:
    response = client.delete("/users/nobody", headers=auth("users:write"))

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_an_erasure_cut_short_by_redis_is_503_and_a_repeat_finishes_it(
    world: None, client: Any, auth: Any, db: Any, clients: Clients, monkeypatch: Any
) -> None:
    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise redis.ConnectionError("connection refused")

    monkeypatch.setattr("rules.stores.boards.erase_user", down)
    cut_short = client.delete(f"/users/{VICTIM}", headers=auth("users:write"))
    monkeypatch.undo()

    assert cut_short.status_code == 503
    assert mongo_traces(db, VICTIM) == []
    assert redis_traces(clients, VICTIM)
    repeat = client.delete(f"/users/{VICTIM}", headers=auth("users:write"))
    assert repeat.status_code == 200
    assert repeat.json["data"]["erased"]["users"] == 0
    assert redis_traces(clients, VICTIM) == []


def test_erasure_needs_users_write(world: None, client: Any, auth: Any, db: Any) -> None:
    assert client.delete(f"/users/{VICTIM}").status_code == 401
    for scope in ("users:read", "events:write", "reports:read"):
        assert client.delete(f"/users/{VICTIM}", headers=auth(scope)).status_code == 403
    assert db.users.count_documents({"userId": VICTIM}) == 1


def test_erasure_recomputes_the_days_that_keep_no_user_ids_too(
    world: None, client: Any, auth: Any, db: Any
) -> None:
    run_project(db, PROJECT)
    # Days with more users than partials list by id keep a sketch instead; their metadata
    # values (the victim's email here) still name the user.
    db.report_partials.update_many({}, {"$set": {"users.ids": []}})
    assert any("report_partials" in trace for trace in mongo_traces(db, VICTIM))

    response = client.delete(f"/users/{VICTIM}", headers=auth("users:write"))

    assert response.status_code == 200
    assert mongo_traces(db, VICTIM) == []


def test_a_request_finishing_its_writes_during_the_erasure_leaves_nothing_behind(
    world: None, client: Any, auth: Any, db: Any, clients: Clients, monkeypatch: Any
) -> None:
    from rules.stores.ledger import Ledger
    from rules.usecases import erasure

    saved, original = threading.Event(), Ledger.insert

    def late_insert(self: Ledger, entries: Any) -> None:
        saved.set()  # the user document is saved; its records are being written
        # ... and they land after the erasure's first pass has removed the user document.
        wait_for(lambda: db.users.find_one({"userId": VICTIM}) is None, "the first pass")
        original(self, entries)

    monkeypatch.setattr(Ledger, "insert", late_insert)
    late = threading.Thread(target=lambda: send_login(client, auth))
    # The erasure's settle pause lasts until the late request has finished its writes, however
    # long a busy machine makes that take (in production it is ERASE_SETTLE seconds).
    monkeypatch.setattr(erasure, "time", SimpleNamespace(sleep=lambda _: late.join(TIMEOUT)))
    late.start()
    assert saved.wait(TIMEOUT)

    response = client.delete(f"/users/{VICTIM}", headers=auth("users:write"))
    late.join(TIMEOUT)

    assert response.status_code == 200
    assert mongo_traces(db, VICTIM) == []
    assert redis_traces(clients, VICTIM) == []


def send_login(client: Any, auth: Any) -> None:
    body = {"eventId": "daily_login", "userId": VICTIM}
    assert client.post("/event", json=body, headers=auth()).status_code == 200
