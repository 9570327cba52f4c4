"""Streaks: counting, gaps, milestones and freezes, late events, DST and timezone changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import permutations
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rules.engine.definitions import Milestone, StreakRule
from rules.engine.state import StreakMoment, StreakState
from rules.engine.streak_walk import KEPT_WINDOW
from rules.engine.streaks import StreakStep, advance_at

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)  # a Monday
DAY_1 = T0.date().toordinal()  # the day index of T0 in UTC
HERE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
ON_FIRE = Milestone(count=3, points=20, badge="on_fire")
SEVEN = Milestone(count=7, points=50, badge=None)


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


def moment(day: int, hours: float = 0) -> datetime:
    """09:00 UTC on day `day` after T0, plus `hours`."""
    return T0 + timedelta(days=day, hours=hours)


def advance(rule: StreakRule, state: StreakState | None, day: int, hours: float = 0) -> StreakStep:
    return advance_at(rule, state, moment(day, hours), HERE)


def run(
    rule: StreakRule,
    days: Sequence[int],
    state: StreakState | None = None,
    where: ZoneInfo = HERE,
) -> list[StreakStep]:
    """Advance the streak through one event on each of `days`, in that order."""
    steps = []
    for day in days:
        step = advance_at(rule, state, moment(day), where)
        steps.append(step)
        state = step.state
    return steps


def counts(steps: Sequence[StreakStep]) -> list[int]:
    return [step.state.current_count for step in steps]


# --- counting ----------------------------------------------------------------------------


def test_first_event_starts_the_streak_at_one() -> None:
    step = advance(streak_rule(), None, 0)
    assert step.counted is True
    state = step.state
    assert (state.current_count, state.longest_count, state.freezes) == (1, 1, 0)
    assert (state.period, state.last_period, state.last_update) == ("day", DAY_1, T0)
    assert state.recent == (StreakMoment(T0, "UTC"),)
    assert step.freezes_used == 0
    assert step.milestones == () and step.milestone is None


def test_second_event_in_the_same_period_keeps_the_state() -> None:
    first = advance(streak_rule(), None, 0)
    second = advance(streak_rule(), first.state, 0, hours=5)
    assert second.counted is False
    assert second.state == first.state  # last_update is the counted event's time
    assert second.milestone is None


def test_next_period_adds_one() -> None:
    steps = run(streak_rule(), [0, 1, 2, 3])
    assert counts(steps) == [1, 2, 3, 4]
    assert [s.state.longest_count for s in steps] == [1, 2, 3, 4]
    assert steps[-1].state.last_period == DAY_1 + 3
    assert steps[-1].state.last_update == moment(3)


def test_a_gap_resets_the_count_to_one() -> None:
    steps = run(streak_rule(), [0, 1, 3])
    assert steps[-1].counted is True
    assert steps[-1].state.current_count == 1
    assert steps[-1].state.last_period == DAY_1 + 3


def test_longest_count_survives_a_reset_until_beaten() -> None:
    steps = run(streak_rule(), [0, 1, 2, 10, 11, 12, 13])
    assert counts(steps) == [1, 2, 3, 1, 2, 3, 4]
    assert [s.state.longest_count for s in steps] == [1, 2, 3, 3, 3, 3, 4]


# --- events arriving out of order ----------------------------------------------------------
# Until late events could be placed, any event older than the last counted period changed
# nothing (test_an_event_older_than_the_last_counted_period_changes_nothing): days 1, 3, 2
# counted 1. The tests below replace it.


def test_days_one_three_two_count_three() -> None:
    steps = run(streak_rule(), [1, 3, 2])
    assert counts(steps) == [1, 1, 3]
    assert steps[-1].counted is True
    assert steps[-1].state.longest_count == 3
    assert steps[-1].state.last_update == moment(3)  # still the latest counted moment


def test_every_arrival_order_of_the_same_days_gives_the_same_state() -> None:
    rule = streak_rule(freezes={"initial": 1, "max": 2, "earnEvery": 2})
    days = [0, 1, 3, 4, 7]
    states = {run(rule, list(order))[-1].state for order in permutations(days)}
    assert len(states) == 1
    state = states.pop()
    # Day 2 is covered by the initial freeze, days 5 and 6 by the two earned at counts 2 and 4.
    assert (state.current_count, state.longest_count, state.freezes) == (5, 5, 0)


def test_a_late_event_in_an_already_counted_period_changes_nothing() -> None:
    latest = run(streak_rule(), [0, 1, 2])[-1].state
    late = advance(streak_rule(), latest, 1, hours=3)
    assert late.counted is False
    assert late.state == latest


def test_an_earlier_event_of_a_counted_period_becomes_its_moment_and_counts_nothing() -> None:
    latest = run(streak_rule(), [0, 1, 2])[-1].state
    earlier = advance(streak_rule(), latest, 2, hours=-3)
    assert earlier.counted is False and earlier.milestones == ()
    assert (earlier.state.current_count, earlier.state.longest_count) == (3, 3)
    assert earlier.state.last_update == moment(2, hours=-3)


def test_a_late_event_in_an_older_run_leaves_the_current_count() -> None:
    steps = run(streak_rule(), [0, 1, 4, 5, 2])
    assert counts(steps) == [1, 2, 1, 2, 2]
    assert steps[-1].counted is True
    assert steps[-1].state.longest_count == 3
    assert steps[-1].milestones == (ON_FIRE,)  # that older run reached 3


def test_an_event_older_than_the_kept_moments_is_ignored() -> None:
    latest = run(streak_rule(), list(range(10)))[-1].state
    assert latest.base.through == moment(0)  # day 0 is more than KEPT_WINDOW before day 9
    assert moment(9) - moment(0) > KEPT_WINDOW
    for too_old in (moment(0), moment(0, hours=-1), moment(-5)):
        step = advance_at(streak_rule(), latest, too_old, HERE)
        assert step.counted is False
        assert step.state == latest


def test_older_history_imported_in_time_order_joins_the_streak() -> None:
    today = advance(streak_rule(), None, 30).state
    steps = run(streak_rule(), list(range(30)), state=today)
    assert counts(steps) == [1] * 29 + [31]  # today's run stands alone until day 29 joins it
    assert steps[-1].state.longest_count == 31
    assert len(steps[-1].state.recent) <= 9  # the rest is folded into the base


def test_the_kept_moments_stay_few() -> None:
    state = run(streak_rule(), list(range(100)))[-1].state
    assert state.current_count == 100
    assert len(state.recent) == 9  # one per day within KEPT_WINDOW of the latest
    assert state.base.count == 91


# --- milestones --------------------------------------------------------------------------


def test_milestone_is_reached_exactly_when_the_count_hits_it() -> None:
    steps = run(streak_rule(), list(range(8)))
    reached = [(s.state.current_count, s.milestone) for s in steps if s.milestone]
    assert reached == [(3, ON_FIRE), (7, SEVEN)]


def test_milestone_is_not_reached_again_by_a_second_event_in_the_same_period() -> None:
    third = run(streak_rule(), [0, 1, 2])[-1]
    again = advance(streak_rule(), third.state, 2, hours=2)
    assert third.milestone is not None
    assert again.milestone is None


def test_milestones_are_found_whatever_their_order_in_the_definition() -> None:
    rule = streak_rule(milestones=[{"count": 2, "points": 5}, {"count": 1, "badge": "first"}])
    steps = run(rule, [0, 1])
    assert [s.milestone for s in steps] == [Milestone(1, 0, "first"), Milestone(2, 5, None)]


def test_milestone_is_reached_again_after_a_reset() -> None:
    steps = run(streak_rule(), [0, 1, 2, 5, 6, 7])
    assert [s.milestone.count if s.milestone else None for s in steps] == [
        None,
        None,
        3,
        None,
        None,
        3,
    ]


def test_a_late_event_extending_a_paid_run_backwards_pays_nothing_again() -> None:
    steps = run(streak_rule(), [1, 2, 3, 0])
    assert [s.milestones for s in steps] == [(), (), (ON_FIRE,), ()]
    assert steps[-1].state.current_count == 4


def test_a_late_event_joining_two_runs_pays_every_milestone_it_newly_reaches() -> None:
    rule = streak_rule(milestones=[{"count": 2, "points": 1}, {"count": 3}, {"count": 4}])
    steps = run(rule, [0, 2, 3, 1])
    assert [tuple(m.count for m in s.milestones) for s in steps] == [(), (), (2,), (3, 4)]
    assert steps[-1].milestone == Milestone(4)  # the highest, for callers that take one


def test_runs_joined_late_keep_what_each_was_paid() -> None:
    # 0-2 and 4-6 each reached 3 and were paid; joined by day 3 they are one run of 7, which
    # pays 7 but not 3 a third time (in time order, 3 would have been paid once).
    steps = run(streak_rule(), [0, 1, 2, 4, 5, 6, 3])
    assert [m.count for s in steps for m in s.milestones] == [3, 3, 7]
    assert steps[-1].state.current_count == 7


def test_the_parts_of_a_paid_run_a_late_event_splits_are_not_paid_again() -> None:
    rule = streak_rule(milestones=[{"count": 2, "points": 5}], freezes={"initial": 1, "max": 1})
    # 4 and 6 are one run (the freeze covers 5) and reach 2; the late 2 takes the freeze, so 4
    # and 6 fall apart, and 6 and 7 are a run of 2 again: it was paid as part of 4-6.
    steps = run(rule, [0, 4, 6, 2, 7])
    assert [tuple(m.count for m in s.milestones) for s in steps] == [(), (), (2,), (2,), ()]
    assert counts(steps) == [1, 1, 2, 1, 2]
    assert steps[3].freezes_used == 0 and steps[3].state.freezes == 0


# --- freezes -----------------------------------------------------------------------------


def test_initial_freezes_are_held_from_the_first_event() -> None:
    step = advance(streak_rule(freezes={"initial": 2, "max": 2}), None, 0)
    assert step.state.freezes == 2


def test_a_freeze_covers_a_missed_period_and_the_count_goes_on() -> None:
    rule = streak_rule(freezes={"initial": 2, "max": 2})
    steps = run(rule, [0, 1, 3])
    assert steps[-1].freezes_used == 1
    assert steps[-1].state.current_count == 3
    assert steps[-1].state.freezes == 1
    assert steps[-1].milestone == ON_FIRE


def test_freezes_cover_several_missed_periods_when_there_are_enough() -> None:
    rule = streak_rule(freezes={"initial": 2, "max": 2})
    steps = run(rule, [0, 3])
    assert steps[-1].freezes_used == 2
    assert steps[-1].state.current_count == 2
    assert steps[-1].state.freezes == 0


def test_not_enough_freezes_resets_the_streak_and_keeps_the_freezes() -> None:
    rule = streak_rule(freezes={"initial": 1, "max": 2})
    steps = run(rule, [0, 1, 4])  # two periods missed, one freeze held
    assert steps[-1].freezes_used == 0
    assert steps[-1].state.current_count == 1
    assert steps[-1].state.freezes == 1
    assert steps[-1].state.longest_count == 2


def test_no_freeze_is_used_without_a_gap() -> None:
    rule = streak_rule(freezes={"initial": 2, "max": 2})
    steps = run(rule, [0, 1, 1])
    assert [s.freezes_used for s in steps] == [0, 0, 0]
    assert steps[-1].state.freezes == 2


def test_a_freeze_is_earned_every_earn_every_counts_up_to_max() -> None:
    rule = streak_rule(freezes={"initial": 0, "max": 2, "earnEvery": 2})
    steps = run(rule, list(range(7)))
    assert [s.state.freezes for s in steps] == [0, 1, 1, 2, 2, 2, 2]


def test_earned_freezes_then_cover_a_gap() -> None:
    rule = streak_rule(freezes={"initial": 0, "max": 3, "earnEvery": 2})
    steps = run(rule, [0, 1, 3])
    assert steps[1].state.freezes == 1
    assert steps[-1].freezes_used == 1
    assert steps[-1].state.current_count == 3


def test_no_freezes_are_earned_without_earn_every() -> None:
    rule = streak_rule(freezes={"initial": 0, "max": 5})
    steps = run(rule, list(range(10)))
    assert steps[-1].state.freezes == 0


def test_a_late_event_filling_a_gap_a_freeze_covered_gives_the_freeze_back() -> None:
    rule = streak_rule(freezes={"initial": 1, "max": 1})
    covered, filled = run(rule, [0, 2, 1])[1:]
    assert (covered.freezes_used, covered.state.freezes, covered.state.current_count) == (1, 0, 2)
    assert (filled.freezes_used, filled.state.freezes, filled.state.current_count) == (0, 1, 3)
    assert filled.milestones == (ON_FIRE,)


def test_a_freeze_given_back_late_covers_a_later_gap_that_had_reset_the_count() -> None:
    rule = streak_rule(freezes={"initial": 1, "max": 1})
    steps = run(rule, [0, 2, 4, 1])  # day 2 spends the freeze, day 4 finds none
    assert counts(steps) == [1, 2, 1, 4]
    assert steps[-1].state.freezes == 0
    assert steps[-1].freezes_used == 0  # one given back (day 1), one spent (day 3)


# --- period kind changes -----------------------------------------------------------------


def test_switching_from_day_to_week_restarts_the_count_and_keeps_longest() -> None:
    daily = run(streak_rule(freezes={"initial": 1, "max": 1}), list(range(5)))[-1].state
    weekly_rule = streak_rule(period="week", freezes={"initial": 1, "max": 1})
    step = advance(weekly_rule, daily, 5)
    assert step.counted is True
    assert step.state.current_count == 1
    assert step.state.longest_count == 5
    assert step.state.period == "week"
    assert step.state.last_period == (DAY_1 + 5 - 1) // 7
    assert step.state.freezes == 1
    assert step.freezes_used == 0


def test_the_next_week_after_a_switch_adds_one() -> None:
    daily = run(streak_rule(), [0, 1])[-1].state
    steps = run(streak_rule(period="week"), [7, 14], state=daily)
    assert counts(steps) == [1, 2]


# --- DST and timezone changes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "change"),
    [
        pytest.param(BERLIN, date(2026, 3, 29), id="berlin-spring-forward"),
        pytest.param(BERLIN, date(2026, 10, 25), id="berlin-fall-back"),
        pytest.param(NEW_YORK, date(2026, 3, 8), id="new-york-spring-forward"),
        pytest.param(NEW_YORK, date(2026, 11, 1), id="new-york-fall-back"),
    ],
)
def test_around_a_dst_change_each_local_day_counts_once_and_nothing_breaks(
    where: ZoneInfo, change: date
) -> None:
    start = datetime.combine(change - timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    state, seen = None, set()
    for half_hours in range(5 * 48):  # every 30 minutes for five days, the change included
        at = start + timedelta(minutes=30 * half_hours)
        step = advance_at(streak_rule(), state, at, where)
        local_day = at.astimezone(where).date()
        assert step.counted is (local_day not in seen)
        seen.add(local_day)
        assert step.state.current_count == len(seen)
        state = step.state
    assert change in seen and len(seen) == 6


@pytest.mark.parametrize(
    ("where", "night"),
    [
        pytest.param(BERLIN, datetime(2026, 10, 25, 2, 30), id="berlin"),
        pytest.param(NEW_YORK, datetime(2026, 11, 1, 1, 30), id="new-york"),
    ],
)
def test_the_repeated_hour_of_a_fall_back_night_counts_once(
    where: ZoneInfo, night: datetime
) -> None:
    first = night.replace(tzinfo=where, fold=0)
    second = night.replace(tzinfo=where, fold=1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    before = advance_at(streak_rule(), None, first - timedelta(days=1), where)
    steps = [advance_at(streak_rule(), before.state, first, where)]
    steps.append(advance_at(streak_rule(), steps[0].state, second, where))
    assert [(s.counted, s.state.current_count) for s in steps] == [(True, 2), (False, 2)]


@pytest.mark.parametrize(
    ("where", "local_times"),
    [
        # 02:00-03:00 does not exist on these days: 01:59 and 03:00 are a minute apart.
        pytest.param(BERLIN, [(28, 23, 59), (29, 1, 59), (29, 3, 0), (30, 0, 0)], id="berlin"),
        pytest.param(NEW_YORK, [(7, 23, 59), (8, 1, 59), (8, 3, 0), (9, 0, 0)], id="new-york"),
    ],
)
def test_the_short_spring_forward_day_is_one_day(
    where: ZoneInfo, local_times: list[tuple[int, int, int]]
) -> None:
    state, steps = None, []
    for day, hour, minute in local_times:
        step = advance_at(
            streak_rule(), state, datetime(2026, 3, day, hour, minute, tzinfo=where), where
        )
        steps.append((step.counted, step.state.current_count))
        state = step.state
    assert steps == [(True, 1), (True, 2), (False, 2), (True, 3)]


def test_a_user_changing_timezone_mid_streak_keeps_it_and_counts_no_day_twice() -> None:
    def berlin(day: int, hour: int) -> datetime:
        return datetime(2026, 1, day, hour, tzinfo=BERLIN)

    events = [
        (berlin(5, 20), BERLIN),  # Berlin 5 Jan
        (berlin(6, 23), BERLIN),  # Berlin 6 Jan 23:00, which is 7 Jan 03:30 in Kolkata
        (berlin(7, 0), KOLKATA),  # 7 Jan 04:30 in Kolkata: the day the last count fell on there
        (berlin(7, 20), KOLKATA),  # 8 Jan 00:30 in Kolkata: the next day there
        # West: that count fell on 7 Jan in New York, so 8 Jan there is the next day, not a gap.
        (berlin(8, 20), NEW_YORK),  # 8 Jan 14:00 in New York
        (berlin(9, 3), NEW_YORK),  # 8 Jan 21:00 in New York: the same day
        (berlin(9, 16), NEW_YORK),  # 9 Jan 10:00 in New York
    ]
    state, steps = None, []
    for at, where in events:
        step = advance_at(streak_rule(), state, at, where)
        steps.append((step.counted, step.state.current_count))
        state = step.state
    assert steps == [(True, 1), (True, 2), (False, 2), (True, 3), (True, 4), (False, 4), (True, 5)]


def test_a_late_event_from_before_a_timezone_change_counts_as_if_it_came_in_order() -> None:
    events = [
        (datetime(2026, 1, 5, 12, tzinfo=UTC), BERLIN),
        (datetime(2026, 1, 6, 12, tzinfo=UTC), BERLIN),
        (datetime(2026, 1, 7, 12, tzinfo=UTC), NEW_YORK),
        (datetime(2026, 1, 8, 12, tzinfo=UTC), NEW_YORK),
    ]
    finals = []
    for order in ([0, 1, 2, 3], [0, 2, 3, 1], [3, 2, 1, 0]):
        state = None
        for index in order:
            state = advance_at(streak_rule(), state, *events[index]).state
        assert state is not None
        finals.append(state)
    assert finals[0] == finals[1] == finals[2]
    assert finals[0].current_count == 4
