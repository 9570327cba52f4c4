"""The engine's shortcuts decide exactly as the plain computations they stand for: challenge
progress as plain numbers, a streak's remembered latest period and report, and advance_at told
the event's period by its caller.
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

import tests.bench.reference.challenges as old_challenges
from rules.engine.challenges import plain_number
from rules.engine.definitions import EventRule, StreakRule
from rules.engine.evaluation import Event, StreakReport, evaluate
from rules.engine.periods import period_index, zone
from rules.engine.state import StreakState, UserState
from rules.engine.streaks import LATEST_PERIOD, advance_at, latest_period
from tests.unit.rules.test_engine_equivalence import ZONES, streak_documents, streak_walks

SPECIAL = ("NaN", "-NaN", "Infinity", "-Infinity", "-0", "0E-40", "1E+40", "1E-29", "1E-30")
INT64 = (2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**19, 10**19 - 1)

decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: Decimal(str(f))),
    st.integers(-(2**70), 2**70).map(Decimal),
    st.sampled_from(INT64).map(Decimal),
    st.builds(
        lambda digits, exponent: Decimal(digits).scaleb(exponent),
        st.integers(-(10**30), 10**30),
        st.integers(-40, 40),
    ),
    st.sampled_from(SPECIAL).map(Decimal),
)


def same_number(new: Any, old: Any) -> bool:
    if isinstance(old, float) and math.isnan(old):
        return isinstance(new, float) and math.isnan(new)
    return type(new) is type(old) and new == old


@settings(max_examples=3000, deadline=None, database=None)
@given(decimals)
def test_plain_number_is_the_reference_plain_number(amount: Decimal) -> None:
    # The ratio shortcut: whole amounts of int64 as int, every other one as float() reads it.
    assert same_number(plain_number(amount), old_challenges.plain_number(amount))


def test_plain_number_on_the_edges_of_the_shortcut() -> None:
    assert plain_number(Decimal(2**63 - 1)) == 2**63 - 1
    assert type(plain_number(Decimal(2**63))) is float
    assert type(plain_number(Decimal("5.0"))) is int
    assert plain_number(Decimal("0.1")) == 0.1
    assert plain_number(Decimal("1E+40")) == 1e40  # past the shortcut: as before
    assert plain_number(Decimal("-Infinity")) == -math.inf
    # Not whole, but read as a whole float: a float all the same, never the int.
    assert type(plain_number(Decimal("1.00000000000000000001"))) is float
    assert plain_number(Decimal("12.50")) == 12.5
    assert plain_number(Decimal("1E+400")) == math.inf  # whole, past the float range


def rule(period: str = "day") -> StreakRule:
    return StreakRule.from_document({"streakId": "s", "events": ["a"], "period": period})


START = datetime(2026, 3, 28, 20, tzinfo=UTC)


def test_latest_period_is_the_period_of_the_latest_kept_moment_in_its_zone() -> None:
    tokyo = zone("Asia/Tokyo")
    state = None
    for hours in (0, 30, 55):
        state = advance_at(rule("week"), state, START + timedelta(hours=hours), tokyo).state
    assert isinstance(state, StreakState)
    expected = period_index(state.recent[-1].at, tokyo, "week")
    assert latest_period(state, "week") == expected
    # Remembered on the state, not a field: equality and asdict() do not see it.
    assert state.__dict__[LATEST_PERIOD] == expected
    copy = replace(state)
    assert copy == state and asdict(copy) == asdict(state)
    assert LATEST_PERIOD not in vars(copy)


def test_latest_period_of_a_state_read_back_is_worked_out_and_remembered() -> None:
    state = advance_at(rule(), None, START, ZoneInfo("UTC")).state
    fresh = StreakState(
        state.current_count,
        state.longest_count,
        state.last_update,
        state.freezes,
        state.period,
        state.recent,
        state.base,
        state.paid,
        state.walked_with,
    )
    assert LATEST_PERIOD not in vars(fresh)
    assert latest_period(fresh, "day") == START.toordinal() == vars(fresh)[LATEST_PERIOD]


@settings(max_examples=300, deadline=None, database=None)
@given(streak_documents("s"), streak_walks())
def test_advance_at_told_the_events_period_decides_as_when_not(
    doc: dict[str, Any], walk: list[tuple[datetime, str]]
) -> None:
    streak = StreakRule.from_document(doc)
    told: Any = None
    plain: Any = None
    for at, zone_name in walk:
        assert zone_name in ZONES
        here = zone(zone_name)
        index = period_index(at.astimezone(UTC), here, streak.period)
        step = advance_at(streak, told, at, here, index=index)
        expected = advance_at(streak, plain, at, ZoneInfo(zone_name))
        assert step == expected
        told, plain = step.state, expected.state
        if told.recent and LATEST_PERIOD in vars(told):
            latest = told.recent[-1]
            assert vars(told)[LATEST_PERIOD] == period_index(
                latest.at, zone(latest.zone), streak.period
            )


def test_an_advanced_streak_remembers_its_report_for_the_next_event_that_leaves_it() -> None:
    # The report of an advance with no milestone and no freeze spent is also the report of
    # an event that leaves the new state as it is: the next one in the same day reuses it.
    streak = StreakRule.from_document(
        {"streakId": "s", "events": ["a"], "milestones": [{"count": 2, "points": 5}]}
    )
    rule = EventRule.from_document({"eventId": "a", "points": {"fixed": 1}})
    user = UserState(user_id="u")
    reports = []
    for hours in (0, 2, 24, 26):
        event = Event("a", "u", START + timedelta(hours=hours), {})
        evaluation = evaluate(event, rule, [streak], user)
        user = evaluation.state
        reports.append(evaluation.outcome.streaks[0])
    first, same_day, milestone, after_milestone = reports
    assert same_day is first  # remembered by the advance
    assert milestone.milestone_reached and milestone.points_awarded == 5
    # An advance that paid a milestone reports it: the next event reports it unpaid.
    assert after_milestone is not milestone
    assert after_milestone == StreakReport("s", 2, 2, milestone.last_update, False, 0, 0)
    assert first == StreakReport("s", 1, 1, START, False, 0, 0)


def test_a_streak_rules_plan_is_what_the_rule_says_and_no_field() -> None:
    doc = {"streakId": "s", "events": ["a"], "period": "week", "timezone": "Asia/Tokyo"}
    streak = StreakRule.from_document(doc)
    events, condition, streak_id, timezone, period, key = streak.plan
    assert (events, condition, streak_id) == (frozenset({"a"}), streak.condition, "s")
    assert (timezone, period, key) == ("Asia/Tokyo", "week", ("Asia/Tokyo", "week"))
    assert StreakRule.from_document({**doc, "active": False}).plan[0] == frozenset()
    assert "plan" not in asdict(streak) and streak == StreakRule.from_document(doc)
