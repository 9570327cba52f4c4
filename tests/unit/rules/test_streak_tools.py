"""Support's streak tools on the walked streak state: restore a count, grant freezes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rules.engine.definitions import StreakRule
from rules.engine.state import StreakState
from rules.engine.streak_tools import Counts, grant_freezes, restore
from rules.engine.streaks import advance_at

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)  # a Monday
UTC_ZONE = ZoneInfo("UTC")
TOKYO = ZoneInfo("Asia/Tokyo")


def rule(**doc: Any) -> StreakRule:
    return StreakRule.from_document(
        {
            "streakId": "daily",
            "events": ["login"],
            "milestones": [{"count": 3, "points": 20}, {"count": 5, "points": 50}],
            **doc,
        }
    )


def day(number: float) -> datetime:
    return T0 + timedelta(days=number)


def walk(streak: StreakRule, days: Sequence[float], state: StreakState | None = None) -> Any:
    step = None
    for number in days:
        step = advance_at(streak, state, day(number), UTC_ZONE)
        state = step.state
    return step


def test_restore_after_a_break_continues_from_the_restored_count() -> None:
    streak = rule()
    broken = walk(streak, [0, 1, 2, 5]).state  # 3, then a gap: 1
    assert broken.current_count == 1

    restored = restore(streak, broken, 3, day(5.5), UTC_ZONE)
    step = walk(streak, [6], restored)

    assert Counts.of(restored) == Counts(3, 3, 0, day(5))
    assert (step.state.current_count, step.state.longest_count) == (4, 4)
    assert step.milestones == ()  # 3 was paid before the break; 4 is no milestone


def test_a_restore_settles_milestones_up_to_the_count_and_pays_later_ones() -> None:
    streak = rule()
    restored = restore(streak, walk(streak, [0]).state, 4, day(0.5), UTC_ZONE)

    step = walk(streak, [1], restored)

    assert step.state.current_count == 5
    assert [m.count for m in step.milestones] == [5]


def test_a_restore_after_a_long_gap_is_alive_today() -> None:
    streak = rule()
    old = walk(streak, [0, 1]).state

    restored = restore(streak, old, 7, day(10), UTC_ZONE)

    assert walk(streak, [10], restored).state.current_count == 8
    assert walk(streak, [11], restored).state.current_count == 1  # a day missed after it
    assert restored.last_update == datetime(2024, 1, 11, tzinfo=UTC) - timedelta(milliseconds=1)


def test_a_restore_counts_alive_in_the_users_zone() -> None:
    """Late evening UTC is already tomorrow in Tokyo: the streak must be alive there."""
    streak = rule()
    now = datetime(2024, 1, 10, 20, 0, tzinfo=UTC)  # Jan 11, 05:00 in Tokyo

    restored = restore(streak, None, 2, now, TOKYO)
    step = advance_at(streak, restored, now + timedelta(hours=1), TOKYO)

    assert step.state.current_count == 3


def test_events_older_than_a_restore_no_longer_change_the_streak() -> None:
    streak = rule()
    restored = restore(streak, walk(streak, [0, 1, 4]).state, 9, day(4.5), UTC_ZONE)

    late = advance_at(streak, restored, day(3), UTC_ZONE)

    assert late.counted is False
    assert late.state == restored


def test_restore_keeps_freezes_and_raises_longest_only_upwards() -> None:
    streak = rule(freezes={"initial": 2, "max": 3})
    state = walk(streak, [0, 1, 2, 3, 4, 5])  # longest 6

    restored = restore(streak, state.state, 2, day(5.5), UTC_ZONE)

    assert (restored.current_count, restored.longest_count, restored.freezes) == (2, 6, 2)


def test_granted_freezes_bridge_a_gap_later() -> None:
    streak = rule()
    state = walk(streak, [0, 1]).state

    granted = grant_freezes(streak, state, 3)
    step = walk(streak, [5], granted)  # days 2, 3 and 4 missed

    assert Counts.of(granted) == Counts(2, 2, 3, day(1))
    assert (step.state.current_count, step.freezes_used, step.state.freezes) == (3, 3, 0)


def test_freezes_granted_do_not_rewrite_what_already_happened() -> None:
    """A gap inside the kept moments stays a break: the grant applies from now on."""
    streak = rule()
    state = walk(streak, [0, 1, 3, 4]).state  # broken on day 2: count 2
    assert state.current_count == 2

    granted = grant_freezes(streak, state, 5)

    assert (granted.current_count, granted.freezes) == (2, 5)
    assert walk(streak, [5], granted).state.current_count == 3


def test_tools_on_a_streak_the_user_never_had() -> None:
    streak = rule(freezes={"initial": 1, "max": 2})

    granted = grant_freezes(streak, None, 2)
    restored = restore(streak, None, 5, day(0), UTC_ZONE)

    assert Counts.of(granted) == Counts(0, 0, 3, None)
    assert walk(streak, [0], granted).state.current_count == 1
    assert (restored.current_count, restored.freezes) == (5, 1)
    assert walk(streak, [0], restored).state.current_count == 6


def test_tools_restart_a_streak_whose_period_kind_changed() -> None:
    daily = rule()
    weekly = rule(period="week")
    state = walk(daily, [0, 1, 2]).state

    restored = restore(weekly, state, 2, day(3), UTC_ZONE)

    assert restored.period == "week"
    assert (restored.current_count, restored.longest_count) == (2, 3)
    assert advance_at(weekly, restored, day(4), UTC_ZONE).state.current_count == 3  # this week
    assert advance_at(weekly, restored, day(7), UTC_ZONE).state.current_count == 1  # one skipped


@pytest.mark.parametrize("count", [0, -1, 100_001])
def test_restore_refuses_counts_out_of_range(count: int) -> None:
    with pytest.raises(ValueError):
        restore(rule(), None, count, T0, UTC_ZONE)


@pytest.mark.parametrize("count", [0, 366])
def test_grant_refuses_counts_out_of_range(count: int) -> None:
    with pytest.raises(ValueError):
        grant_freezes(rule(), None, count)
