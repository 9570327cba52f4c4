"""Timezone changes (travel) never double-count a streak or a daily cap, nor break a streak."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rules.definitions import EventRule, StreakRule
from rules.engine import Evaluation, Event, evaluate
from rules.state import UserState

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
