"""Timezone changes (travel): seen from where the user is at each event, no day counts twice
for a streak or a daily cap, and a streak continues over consecutive days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine.definitions import EventRule, StreakRule
from rules.engine.evaluation import Evaluation, Event, evaluate
from rules.engine.periods import period_index, zone
from rules.engine.state import UserState
from rules.stores.users import state_from_document, state_to_fields

PURCHASE = EventRule.from_document(
    {
        "eventId": "purchase",
        "points": {"fixed": 25},
        "maxCompletions": {"count": 1, "period": "day"},
    }
)
DAILY = StreakRule.from_document({"streakId": "daily", "events": ["purchase"]})


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 5, day, hour, minute, tzinfo=UTC)


def play(events: Sequence[tuple[datetime, dict[str, Any]]]) -> list[Evaluation]:
    state, results = UserState(user_id="traveller"), []
    for moment, metadata in events:
        result = evaluate(
            Event("purchase", "traveller", moment, metadata), PURCHASE, [DAILY], state
        )
        results.append(result)
        state = result.state
    return results


def summary(results: list[Evaluation]) -> list[tuple[int, int]]:
    return [(r.outcome.points_awarded, r.outcome.streaks[0].current_count) for r in results]


def test_flying_east_does_not_open_tomorrow_early() -> None:
    results = play(
        [
            (at(1, 12), {"timezone": "UTC"}),
            # One minute later it is already 2 May in Kiritimati (UTC+14), but 1 May has not
            # ended where it was counted.
            (at(1, 12, 1), {"timezone": "Pacific/Kiritimati"}),
        ]
    )

    assert summary(results) == [(25, 1), (0, 1)]
    assert results[1].outcome.reason == "limit_reached"


def test_flying_east_keeps_the_streak_going_the_next_local_day() -> None:
    results = play(
        [
            (at(1, 12), {"timezone": "UTC"}),
            (at(1, 12, 1), {"timezone": "Pacific/Kiritimati"}),
            (at(2, 10, 30), {}),  # 3 May, 00:30 in Kiritimati: the next day there
        ]
    )

    assert summary(results) == [(25, 1), (0, 1), (25, 2)]


def test_flying_west_counts_the_first_day_that_starts_after_the_last_one_ended() -> None:
    results = play(
        [
            (at(1, 0), {"timezone": "Pacific/Kiritimati"}),  # 1 May, 14:00 in Kiritimati
            (at(1, 5), {"timezone": "Pacific/Honolulu"}),  # 30 Apr, 19:00 in Honolulu
            (at(1, 20), {}),  # 1 May, 10:00 in Honolulu, after Kiritimati's 1 May ended
        ]
    )

    assert summary(results) == [(25, 1), (0, 1), (25, 2)]


def test_moving_back_and_forth_within_a_day_counts_once() -> None:
    zones = ["Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin", "Pacific/Kiritimati"]
    results = play([(at(10, 9, minute), {"timezone": zone}) for minute, zone in enumerate(zones)])

    assert [r.outcome.points_awarded for r in results] == [25, 0, 0, 0]
    assert [r.outcome.streaks[0].current_count for r in results] == [1, 1, 1, 1]


def test_new_york_tokyo_new_york_on_consecutive_days_keeps_the_streak() -> None:
    results = play(
        [
            (at(1, 14), {"timezone": "America/New_York"}),  # 1 May, 10:00 in New York
            (at(2, 11), {"timezone": "Asia/Tokyo"}),  # 2 May, 20:00 in Tokyo
            (at(3, 14), {"timezone": "America/New_York"}),  # 3 May, 10:00 in New York
        ]
    )

    assert summary(results) == [(25, 1), (25, 2), (25, 3)]


def test_a_cap_holds_across_three_zones_on_one_day() -> None:
    results = play(
        [
            (at(1, 0, 30), {"timezone": "Pacific/Honolulu"}),  # 30 Apr, 14:30 in Honolulu
            (at(1, 10, 30), {"timezone": "Asia/Tokyo"}),  # 1 May, 19:30: the first payout is
            (at(1, 15, 30), {"timezone": "Europe/Berlin"}),  # 1 May in Tokyo and Berlin too
        ]
    )

    assert [r.outcome.points_awarded for r in results] == [25, 0, 0]


def test_a_weekly_streak_survives_a_trip_and_back() -> None:
    weekly = StreakRule.from_document(
        {"streakId": "weekly", "events": ["purchase"], "period": "week"}
    )
    state, counts = UserState(user_id="traveller"), []
    for moment, zone_name in [
        (at(1, 14), "America/New_York"),
        (at(8, 11), "Asia/Tokyo"),
        (at(15, 14), "America/New_York"),
    ]:
        result = evaluate(
            Event("purchase", "traveller", moment, {"timezone": zone_name}),
            PURCHASE,
            [weekly],
            state,
        )
        counts.append(result.outcome.streaks[0].current_count)
        state = result.state

    assert counts == [1, 2, 3]


ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "Pacific/Kiritimati",
    "Pacific/Honolulu",
    "Australia/Lord_Howe",
    "America/Santiago",
]


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(st.tuples(st.integers(1, 36 * 60), st.sampled_from(ZONES)), min_size=1, max_size=30)
)
def test_seen_from_where_the_user_is_no_day_counts_twice_and_no_streak_breaks(
    steps: list[tuple[int, str]],
) -> None:
    moment = datetime(2024, 3, 28, tzinfo=UTC)  # spans the March DST changes
    state = UserState(user_id="traveller")
    paid: list[datetime] = []
    counted: list[datetime] = []
    for gap_minutes, zone_name in steps:
        moment += timedelta(minutes=gap_minutes)
        result = evaluate(
            Event("purchase", "traveller", moment, {"timezone": zone_name}),
            PURCHASE,
            [DAILY],
            state,
        )
        here = zone(zone_name)
        today = period_index(moment, here, "day")
        streak = result.outcome.streaks[0]
        if result.outcome.points_awarded:
            # The cap: a payout is the only one on its local day, seen from where the user is.
            assert all(period_index(p, here, "day") != today for p in paid)
            paid.append(moment)
        else:
            assert any(period_index(p, here, "day") == today for p in paid)
        if counted:
            last_seen_here = period_index(counted[-1], here, "day")
            previous = state.streaks["daily"].current_count
            if today <= last_seen_here:
                assert streak.current_count == previous  # same day from here: no count
            elif today == last_seen_here + 1:
                assert streak.current_count == previous + 1  # next day from here: no break
            else:
                assert streak.current_count == 1
        if streak.last_update == moment:
            counted.append(moment)
        # The user document goes through BSON between events, as it does in MongoDB.
        document = {"userId": "traveller", **state_to_fields(result.state)}
        state = state_from_document(
            bson.decode(bson.encode(document), codec_options=bson.CodecOptions(tz_aware=True))
        )
