"""Streak arithmetic on period indexes: counting, gaps, milestones and freezes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from rules.definitions import Milestone, StreakRule
from rules.state import StreakState
from rules.streaks import StreakStep, advance

DAY_1 = 19_000  # any period index; the arithmetic only compares integers
T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def streak_rule(**doc: Any) -> StreakRule:
    return StreakRule.from_document(
        {
            "streakId": "daily_app_use",
            "events": ["daily_login"],
            "period": "day",
            "milestones": [
                {"count": 3, "points": 20, "badge": "on_fire"},
                {"count": 7, "points": 50},
            ],
            **doc,
        }
    )


def moment(period: int) -> datetime:
    return T0 + timedelta(days=period - DAY_1)


def run(
    rule: StreakRule, periods: Sequence[int], state: StreakState | None = None
) -> list[StreakStep]:
    """Advance the streak through one event in each of `periods`, in order."""
    steps = []
    for period in periods:
        step = advance(rule, state, period, moment(period))
        steps.append(step)
        state = step.state
    return steps


# --- counting ----------------------------------------------------------------------------


def test_first_event_starts_the_streak_at_one() -> None:
    step = advance(streak_rule(), None, DAY_1, T0)
    assert step.counted is True
    assert step.state == StreakState(
        current_count=1, longest_count=1, last_period=DAY_1, period="day", last_update=T0, freezes=0
    )
    assert step.freezes_used == 0
    assert step.milestone is None


def test_second_event_in_the_same_period_keeps_the_state() -> None:
    first = advance(streak_rule(), None, DAY_1, T0)
    second = advance(streak_rule(), first.state, DAY_1, T0 + timedelta(hours=5))
    assert second.counted is False
    assert second.state == first.state  # last_update is the counted event's time
    assert second.milestone is None


def test_next_period_adds_one() -> None:
    steps = run(streak_rule(), [DAY_1, DAY_1 + 1, DAY_1 + 2, DAY_1 + 3])
    assert [s.state.current_count for s in steps] == [1, 2, 3, 4]
    assert [s.state.longest_count for s in steps] == [1, 2, 3, 4]
    assert steps[-1].state.last_period == DAY_1 + 3
    assert steps[-1].state.last_update == moment(DAY_1 + 3)


def test_a_gap_resets_the_count_to_one() -> None:
    steps = run(streak_rule(), [DAY_1, DAY_1 + 1, DAY_1 + 3])
    assert steps[-1].counted is True
    assert steps[-1].state.current_count == 1
    assert steps[-1].state.last_period == DAY_1 + 3


def test_longest_count_survives_a_reset_until_beaten() -> None:
    steps = run(
        streak_rule(), [DAY_1, DAY_1 + 1, DAY_1 + 2, DAY_1 + 10, DAY_1 + 11, DAY_1 + 12, DAY_1 + 13]
    )
    assert [s.state.current_count for s in steps] == [1, 2, 3, 1, 2, 3, 4]
    assert [s.state.longest_count for s in steps] == [1, 2, 3, 3, 3, 3, 4]


def test_an_event_older_than_the_last_counted_period_changes_nothing() -> None:
    latest = run(streak_rule(), [DAY_1, DAY_1 + 1, DAY_1 + 2])[-1].state
    late = advance(streak_rule(), latest, DAY_1 + 1, moment(DAY_1 + 1))
    much_older = advance(streak_rule(), latest, DAY_1 - 30, moment(DAY_1 - 30))
    assert late.counted is False and much_older.counted is False
    assert late.state == latest and much_older.state == latest


# --- milestones --------------------------------------------------------------------------


def test_milestone_is_reached_exactly_when_the_count_hits_it() -> None:
    steps = run(streak_rule(), [DAY_1 + i for i in range(8)])
    reached = [(s.state.current_count, s.milestone) for s in steps if s.milestone]
    assert reached == [
        (3, Milestone(count=3, points=20, badge="on_fire")),
        (7, Milestone(count=7, points=50, badge=None)),
    ]


def test_milestone_is_not_reached_again_by_a_second_event_in_the_same_period() -> None:
    third = run(streak_rule(), [DAY_1, DAY_1 + 1, DAY_1 + 2])[-1]
    again = advance(streak_rule(), third.state, DAY_1 + 2, moment(DAY_1 + 2))
    assert third.milestone is not None
    assert again.milestone is None


def test_milestones_are_found_whatever_their_order_in_the_definition() -> None:
    rule = streak_rule(milestones=[{"count": 2, "points": 5}, {"count": 1, "badge": "first"}])
    steps = run(rule, [DAY_1, DAY_1 + 1])
    assert [s.milestone for s in steps] == [Milestone(1, 0, "first"), Milestone(2, 5, None)]


def test_milestone_is_reached_again_after_a_reset() -> None:
    steps = run(streak_rule(), [DAY_1, DAY_1 + 1, DAY_1 + 2, DAY_1 + 5, DAY_1 + 6, DAY_1 + 7])
    assert [s.milestone.count if s.milestone else None for s in steps] == [
        None,
        None,
        3,
        None,
        None,
        3,
    ]


# --- freezes -----------------------------------------------------------------------------


def test_initial_freezes_are_held_from_the_first_event() -> None:
    step = advance(streak_rule(freezes={"initial": 2, "max": 2}), None, DAY_1, T0)
    assert step.state.freezes == 2


def test_a_freeze_covers_a_missed_period_and_the_count_goes_on() -> None:
    rule = streak_rule(freezes={"initial": 2, "max": 2})
    steps = run(rule, [DAY_1, DAY_1 + 1, DAY_1 + 3])
    assert steps[-1].freezes_used == 1
    assert steps[-1].state.current_count == 3
    assert steps[-1].state.freezes == 1
    assert steps[-1].milestone == Milestone(3, 20, "on_fire")


def test_freezes_cover_several_missed_periods_when_there_are_enough() -> None:
    rule = streak_rule(freezes={"initial": 2, "max": 2})
    steps = run(rule, [DAY_1, DAY_1 + 3])
    assert steps[-1].freezes_used == 2
    assert steps[-1].state.current_count == 2
    assert steps[-1].state.freezes == 0


def test_not_enough_freezes_resets_the_streak_and_keeps_the_freezes() -> None:
    rule = streak_rule(freezes={"initial": 1, "max": 2})
    steps = run(rule, [DAY_1, DAY_1 + 1, DAY_1 + 4])  # two periods missed, one freeze held
    assert steps[-1].freezes_used == 0
    assert steps[-1].state.current_count == 1
    assert steps[-1].state.freezes == 1
    assert steps[-1].state.longest_count == 2


def test_no_freeze_is_used_without_a_gap() -> None:
    rule = streak_rule(freezes={"initial": 2, "max": 2})
    steps = run(rule, [DAY_1, DAY_1 + 1, DAY_1 + 1])
    assert [s.freezes_used for s in steps] == [0, 0, 0]
    assert steps[-1].state.freezes == 2


def test_a_freeze_is_earned_every_earn_every_counts_up_to_max() -> None:
    rule = streak_rule(freezes={"initial": 0, "max": 2, "earnEvery": 2})
    steps = run(rule, [DAY_1 + i for i in range(7)])
    assert [s.state.freezes for s in steps] == [0, 1, 1, 2, 2, 2, 2]


def test_earned_freezes_then_cover_a_gap() -> None:
    rule = streak_rule(freezes={"initial": 0, "max": 3, "earnEvery": 2})
    steps = run(rule, [DAY_1, DAY_1 + 1, DAY_1 + 3])
    assert steps[1].state.freezes == 1
    assert steps[-1].freezes_used == 1
    assert steps[-1].state.current_count == 3


def test_no_freezes_are_earned_without_earn_every() -> None:
    rule = streak_rule(freezes={"initial": 0, "max": 5})
    steps = run(rule, [DAY_1 + i for i in range(10)])
    assert steps[-1].state.freezes == 0


# --- period kind changes -----------------------------------------------------------------


def test_switching_from_day_to_week_restarts_the_count_and_keeps_longest() -> None:
    daily = run(streak_rule(freezes={"initial": 1, "max": 1}), [DAY_1 + i for i in range(5)])[
        -1
    ].state
    weekly_rule = streak_rule(period="week", freezes={"initial": 1, "max": 1})
    week_index = (DAY_1 + 5 - 1) // 7  # far smaller than any day index
    step = advance(weekly_rule, daily, week_index, moment(DAY_1 + 5))
    assert step.counted is True
    assert step.state.current_count == 1
    assert step.state.longest_count == 5
    assert step.state.period == "week"
    assert step.state.last_period == week_index
    assert step.state.freezes == 1
    assert step.freezes_used == 0


def test_the_next_week_after_a_switch_adds_one() -> None:
    daily = run(streak_rule(), [DAY_1, DAY_1 + 1])[-1].state
    weekly_rule = streak_rule(period="week")
    steps = run(weekly_rule, [3000, 3001], state=daily)
    assert [s.state.current_count for s in steps] == [1, 2]
