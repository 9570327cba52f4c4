"""The SDK's surface against the embedded server: track, replay, batches, history, support."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest
from laurel_client import (
    AsyncLaurel,
    EventResult,
    HistoryItem,
    Laurel,
    LaurelError,
    LevelResult,
    StreakResult,
)

from core import clock
from tests.brief import BRIEF_LEVEL_METADATA, BRIEF_LOGIN_METADATA, BRIEF_PURCHASE_METADATA
from tests.sdk.conftest import SUPPORT_SCOPES, TIMEOUT

pytestmark = pytest.mark.usefixtures("rewards")

# Epoch ms an hour ago: events a minute apart from here, for the history's order.
LATER = int(clock.timestamp() * 1000) - 3_600_000


def test_track_answers_the_brief_example_as_typed_objects(laurel: Laurel) -> None:
    result = laurel.track("daily_login", "user123", BRIEF_LOGIN_METADATA)

    assert isinstance(result, EventResult)
    assert (result.event_id, result.user_id) == ("daily_login", "user123")
    assert (result.points_awarded, result.balance, result.rewarded) == (10, 10, True)
    assert result.replayed is False
    [streak] = result.streaks
    assert isinstance(streak, StreakResult)
    assert (streak.streak_id, streak.current_count) == ("daily_app_use", 1)
    assert isinstance(streak.last_update, datetime) and streak.last_update.utcoffset() is not None
    assert isinstance(result.level, LevelResult)
    assert (result.level.level, result.level.name) == (1, "Bronze")


def test_the_other_brief_examples_award_their_rules(laurel: Laurel) -> None:
    purchase = laurel.track("purchase_completed", "user456", BRIEF_PURCHASE_METADATA)
    level = laurel.track("level_completed", "gamer789", BRIEF_LEVEL_METADATA)

    assert purchase.points_awarded == 129  # 129.99 at 1 point per unit, floored
    assert level.points_awarded == 5


def test_the_same_key_is_replayed_and_awards_once(laurel: Laurel) -> None:
    first = laurel.track("daily_login", "ann", idempotency_key="login-ann-1")
    again = laurel.track("daily_login", "ann", idempotency_key="login-ann-1")

    assert (first.replayed, again.replayed) == (False, True)
    assert again.balance == first.balance == 10
    assert laurel.user("ann").points.balance == 10


def test_without_a_key_each_call_is_a_new_event(laurel: Laurel) -> None:
    laurel.track("daily_login", "bob")
    second = laurel.track("daily_login", "bob")

    assert second.replayed is False
    assert second.balance == 20


def test_the_same_key_with_another_body_is_a_422_laurel_error(laurel: Laurel) -> None:
    laurel.track("daily_login", "ann", idempotency_key="k-1")

    with pytest.raises(LaurelError) as raised:
        laurel.track("daily_login", "someone-else", idempotency_key="k-1")

    assert (raised.value.status, raised.value.code) == (422, "idempotency_conflict")


def test_an_unknown_event_is_a_404_laurel_error(laurel: Laurel) -> None:
    with pytest.raises(LaurelError) as raised:
        laurel.track("no_such_event", "ann")

    error = raised.value
    assert (error.status, error.code) == (404, "event_not_found")
    assert "no_such_event" in error.message
    assert isinstance(error.details, dict)


def test_invalid_input_is_a_400_with_details_by_field(laurel: Laurel) -> None:
    with pytest.raises(LaurelError) as raised:
        laurel.track("daily_login", "ann", {f"f{i}": i for i in range(11)})

    assert (raised.value.status, raised.value.code) == (400, "validation_error")
    assert list(raised.value.details) == ["metadata"]
    assert raised.value.details["metadata"] == ["may hold at most 10 fields"]


def test_a_bad_token_is_a_401_and_not_retried(server: str, sleeps: Any) -> None:
    with Laurel(server, "not-a-jwt", timeout=TIMEOUT, sleep=sleeps) as laurel:
        with pytest.raises(LaurelError) as raised:
            laurel.track("daily_login", "ann")

    assert (raised.value.status, raised.value.code) == (401, "unauthorized")
    assert sleeps.waits == []


def test_track_many_sends_250_events_in_3_batches_in_order_with_bad_items(
    server: str, make_token: Any
) -> None:
    batch_sizes: list[int] = []

    def count(request: httpx.Request) -> None:
        if request.url.path == "/events/batch":
            batch_sizes.append(len(httpx.Response(200, content=request.content).json()["events"]))

    events: list[dict[str, Any]] = [
        {"eventId": "daily_login", "userId": f"u{i}"} for i in range(250)
    ]
    events[7] = {"eventId": "no_such_event", "userId": "u7"}
    events[120] = {"eventId": "daily_login", "userId": ""}
    events[249] = {"eventId": "daily_login", "userId": "u249", "metadata": {"a": [1]}}
    with httpx.Client(timeout=TIMEOUT, event_hooks={"request": [count]}) as http:
        laurel = Laurel(server, make_token(SUPPORT_SCOPES, subject="t"), http_client=http)
        results = laurel.track_many(events)

    assert batch_sizes == [100, 100, 50]
    assert [result.index for result in results] == list(range(250))
    failed = {r.index: (r.status, r.error.code if r.error else None) for r in results if not r.ok}
    assert failed == {
        7: (404, "event_not_found"),
        120: (400, "validation_error"),
        249: (400, "validation_error"),
    }
    assert results[249].error is not None and "metadata.a" in results[249].error.details
    for result in results:
        if result.ok:
            assert result.data is not None and result.data.user_id == f"u{result.index}"
    keys = [result.idempotency_key for result in results]
    assert None not in keys and len(set(keys)) == 250


def test_track_many_again_with_the_returned_keys_replays_every_item(laurel: Laurel) -> None:
    events = [{"eventId": "daily_login", "userId": f"u{i}"} for i in range(3)]
    first = laurel.track_many(events)

    keys = [result.idempotency_key for result in first]
    again = laurel.track_many(
        [{**event, "idempotencyKey": key} for event, key in zip(events, keys, strict=True)]
    )

    assert [r.replayed for r in again] == [True, True, True]
    assert laurel.user("u0").points.balance == 10


def test_history_follows_every_page_newest_first(
    server: str, make_token: Any, laurel: Laurel
) -> None:
    for minute in range(5):
        laurel.track("level_completed", "ann", {"n": minute}, timestamp=LATER + minute * 60_000)
    pages: list[str] = []

    def count(request: httpx.Request) -> None:
        pages.append(request.url.params.get("cursor", "first"))

    with httpx.Client(timeout=TIMEOUT, event_hooks={"request": [count]}) as http:
        reader = Laurel(server, make_token(SUPPORT_SCOPES), http_client=http)
        items = list(reader.history("ann", type="event", page_size=2))

    assert len(pages) == 3 and pages[0] == "first"
    assert all(isinstance(item, HistoryItem) for item in items)
    assert [item.metadata for item in items] == [{"n": n} for n in (4, 3, 2, 1, 0)]
    assert [item.timestamp for item in items] == [LATER + n * 60_000 for n in (4, 3, 2, 1, 0)]
    assert items[0].outcome is not None and items[0].outcome.points_awarded == 5


def test_history_filters_by_type_and_range(laurel: Laurel) -> None:
    for minute in range(3):
        laurel.track("level_completed", "ann", timestamp=LATER + minute * 60_000)

    points = list(laurel.history("ann", type="points", since=LATER + 60_000, until=LATER + 60_000))
    events = list(laurel.history("ann", since=LATER + 60_000, type="event"))

    assert len(events) == 2
    assert all(item.type == "points" for item in points)


def test_adjust_writes_once_per_key_and_the_leaderboard_ranks(laurel: Laurel) -> None:
    laurel.track("daily_login", "ann")
    laurel.track("daily_login", "bob")
    laurel.track("daily_login", "bob", idempotency_key="second")

    adjusted = laurel.adjust("ann", 50, "Goodwill", idempotency_key="t-1")
    again = laurel.adjust("ann", 50, "Goodwill", idempotency_key="t-1")
    board = laurel.leaderboard(period="all", limit=5)

    assert (adjusted.balance, adjusted.actor, adjusted.replayed) == (60, "sdk-tests", False)
    assert (again.entry_id, again.replayed) == (adjusted.entry_id, True)
    assert laurel.user("ann").points.balance == 60
    assert [(row.rank, row.user_id, row.points) for row in board.items] == [
        (1, "bob", 20),
        (2, "ann", 10),
    ]


def test_an_unknown_user_is_a_404(laurel: Laurel) -> None:
    with pytest.raises(LaurelError) as raised:
        laurel.user("nobody")

    assert (raised.value.status, raised.value.code) == (404, "not_found")


def test_the_async_twin_tracks_pages_and_batches(server: str, make_token: Any) -> None:
    async def scenario() -> tuple[Any, ...]:
        async with AsyncLaurel(
            server, make_token(SUPPORT_SCOPES, subject="a"), timeout=TIMEOUT
        ) as laurel:
            first = await laurel.track("daily_login", "ann", idempotency_key="a-1")
            again = await laurel.track("daily_login", "ann", idempotency_key="a-1")
            batch = await laurel.track_many([{"eventId": "level_completed", "userId": "ann"}] * 3)
            items = [item async for item in laurel.history("ann", type="event", page_size=1)]
            profile = await laurel.user("ann")
            return first, again, batch, items, profile

    first, again, batch, items, profile = asyncio.run(scenario())

    assert (first.balance, again.replayed) == (10, True)
    assert [result.status for result in batch] == [200, 200, 200]
    assert len(items) == 4
    assert profile.points.balance == 25
