"""Streak states in the user document: BSON-clean, bounded, exact round trips, and documents
written before streaks kept their moments still read and go on counting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import bson

from core.inmemory import ensure_bson, in_memory_database
from rules.engine.definitions import Milestone, StreakRule
from rules.engine.state import StreakBase, StreakState, UserState
from rules.engine.streak_walk import MAX_KEPT
from rules.engine.streaks import advance_at
from rules.stores.users import UserStore, state_from_document, state_to_fields

RULE = StreakRule.from_document(
    {
        "streakId": "daily",
        "events": ["login"],
        "milestones": [{"count": 2, "points": 5}, {"count": 4, "points": 10}],
        "freezes": {"initial": 1, "max": 2, "earnEvery": 3},
    }
)
ZONES = [ZoneInfo(name) for name in ("UTC", "Asia/Tokyo", "America/New_York", "Pacific/Chatham")]
START = datetime(2026, 1, 5, 18, tzinfo=UTC)


def walked(events: list[tuple[datetime, ZoneInfo]]) -> StreakState:
    state = None
    for at, where in events:
        state = advance_at(RULE, state, at, where).state
    assert state is not None
    return state


def through_bson(state: StreakState) -> StreakState:
    document = {"userId": "u", **state_to_fields(UserState("u", streaks={"daily": state}))}
    ensure_bson(document)  # what MongoDB accepts: no tuples, dates, Decimals or numpy values
    options: bson.CodecOptions[dict[str, Any]] = bson.CodecOptions(tz_aware=True)
    decoded = bson.decode(bson.encode(document), codec_options=options)
    return state_from_document(decoded).streaks["daily"]


def a_travelled_state() -> StreakState:
    """Three weeks of travel (moments folded and kept), a break, then days 0, 4 and 6 (a freeze
    covers day 5: 2 is paid) and a late day 2 that takes that freeze: days 4 and 6 are left
    runs of 1 that were paid 2."""
    travel = [(START + timedelta(hours=19 * i), ZONES[i % len(ZONES)]) for i in range(28)]
    later = START + timedelta(days=40)
    return walked([*travel, *((later + timedelta(days=day), ZONES[0]) for day in (0, 4, 6, 2))])


def test_a_walked_state_round_trips_exactly_through_bson() -> None:
    state = a_travelled_state()
    assert state.recent and state.base.through is not None and state.base.folded
    assert [(run.start, run.through) for run in state.paid] == [
        (START + timedelta(days=44), 2),
        (START + timedelta(days=46), 2),
    ]

    assert through_bson(state) == state


def test_a_decoded_state_goes_on_exactly_like_the_original() -> None:
    state = a_travelled_state()
    decoded = through_bson(state)
    at = START + timedelta(days=45, hours=1)
    for where in ZONES:
        assert advance_at(RULE, decoded, at, where) == advance_at(RULE, state, at, where)


def test_a_walked_state_round_trips_through_the_in_memory_store() -> None:
    store = UserStore(in_memory_database("laurel_streaks"))
    state = UserState(user_id="u", streaks={"daily": a_travelled_state()})
    now = START + timedelta(days=50)

    assert store.save_records("p", None, state, [{"id": 1}], now) is True
    loaded = store.load("p", "u")

    assert loaded is not None
    assert loaded.state.streaks == state.streaks


def test_the_stored_streak_stays_small_however_long_and_far_the_user_travels() -> None:
    events = [(START + timedelta(hours=7 * i), ZONES[i % len(ZONES)]) for i in range(600)]
    state = walked(events)
    document = state_to_fields(UserState("u", streaks={"daily": state}))

    assert len(state.recent) <= MAX_KEPT
    assert len(state.base.folded) <= len(ZONES)
    assert len(bson.encode(document["streaks"][0])) < 3000


def test_the_stored_fields_are_named_plainly() -> None:
    state = walked([(START, ZONES[1]), (START + timedelta(days=1), ZONES[1])])
    entry = state_to_fields(UserState("u", streaks={"daily": state}))["streaks"][0]

    assert entry["streakId"] == "daily"
    assert (entry["currentCount"], entry["longestCount"], entry["freezes"]) == (2, 2, 1)
    assert entry["lastUpdate"] == START + timedelta(days=1)
    assert entry["recent"] == [
        {"at": START, "zone": "Asia/Tokyo"},
        {"at": START + timedelta(days=1), "zone": "Asia/Tokyo"},
    ]


# --- documents written before moments were kept -------------------------------------------

LAST = datetime(2026, 2, 10, 12, tzinfo=UTC)


def legacy_document(**changes: Any) -> dict[str, Any]:
    streak = {
        "streakId": "daily",
        "currentCount": 3,
        "longestCount": 5,
        "lastPeriod": LAST.date().toordinal(),
        "period": "day",
        "lastUpdate": LAST,
        "freezes": 1,
        **changes,
    }
    return {"userId": "u", "streaks": [streak]}


def test_an_older_document_reads_as_a_base_ending_at_its_last_update() -> None:
    state = state_from_document(legacy_document()).streaks["daily"]

    assert (state.current_count, state.longest_count, state.freezes) == (3, 5, 1)
    assert state.last_update == LAST and state.period == "day" and state.recent == ()
    assert state.base == StreakBase(3, 5, 1, LAST, LAST, LAST)
    assert state.paid == ()


def test_an_older_document_goes_on_counting_from_where_it_stood() -> None:
    state = state_from_document(legacy_document()).streaks["daily"]
    utc = ZoneInfo("UTC")

    same_day = advance_at(RULE, state, LAST + timedelta(hours=3), utc)
    next_day = advance_at(RULE, state, LAST + timedelta(days=1), utc)
    after_a_freeze = advance_at(RULE, state, LAST + timedelta(days=2), utc)
    too_old = advance_at(RULE, state, LAST - timedelta(days=1), utc)

    assert same_day.counted is False and same_day.state.current_count == 3
    assert next_day.state.current_count == 4
    assert next_day.milestones == (Milestone(4, 10),)  # 2 was paid before: not again
    assert (after_a_freeze.state.current_count, after_a_freeze.freezes_used) == (4, 1)
    assert too_old.counted is False and too_old.state == state


def test_a_round_trip_after_reading_an_older_document_writes_the_new_fields() -> None:
    state = state_from_document(legacy_document()).streaks["daily"]
    advanced = advance_at(RULE, state, LAST + timedelta(days=1), ZoneInfo("Europe/Berlin")).state

    assert through_bson(advanced) == advanced
    assert through_bson(state) == state
    assert (
        "lastPeriod" not in state_to_fields(UserState("u", streaks={"daily": state}))["streaks"][0]
    )
