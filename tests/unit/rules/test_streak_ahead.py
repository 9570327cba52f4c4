"""The in-order fast path (rules.engine.streak_ahead) decides every step it takes exactly as the
plain path (streaks._in_order) would, on random histories: long ones (folds, missed periods,
freezes spent and earned, milestones), mostly in one zone, across DST changes that move
midnight (Santiago, Havana) and the day Samoa skipped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine.definitions import StreakRule
from rules.engine.periods import period_index, zone
from rules.engine.state import StreakMoment, StreakState
from rules.engine.streak_ahead import ahead
from rules.engine.streaks import LATEST_PERIOD, _in_order, advance_at, for_rule
from tests.unit.rules.test_streak_properties import streak_rules

ZONES = ["Europe/Berlin", "America/Santiago", "America/Havana", "Pacific/Apia", "Asia/Kolkata"]
STARTS = [
    datetime(2026, 3, 20, tzinfo=UTC),  # Berlin springs forward on 29 March
    datetime(2026, 3, 28, tzinfo=UTC),  # Santiago falls back at midnight, 4 to 5 April
    datetime(2026, 3, 1, tzinfo=UTC),  # Havana springs forward at midnight on 8 March
    datetime(2011, 12, 20, tzinfo=UTC),  # Samoa skipped 30 December 2011
    datetime(2026, 8, 25, tzinfo=UTC),  # Santiago springs forward on 6 September
]


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[datetime, str]]:
    """Events mostly in time order and in one zone; a few late, a few from another zone."""
    home = draw(st.sampled_from(ZONES))
    at = draw(st.sampled_from(STARTS)) + timedelta(minutes=draw(st.integers(0, 24 * 60)))
    seen = []
    for _ in range(draw(st.integers(1, 60))):
        at += timedelta(minutes=draw(st.integers(-12 * 60, 5 * 24 * 60)))
        travel = draw(st.integers(0, 19)) == 0
        seen.append((at, draw(st.sampled_from(ZONES)) if travel else home))
    return seen


def _checked_step(rule: StreakRule, state: StreakState, at: datetime, name: str) -> None:
    """Where the fast path applies, its step is the plain path's, whether or not the state
    remembers its latest period."""
    recent = state.recent
    if not recent or (recent[-1].at, recent[-1].zone) >= (at, name):
        return
    plain = _in_order(rule, state, StreakMoment(at, name), None)
    for start in (state, replace(state)):  # replace(): nothing remembered
        fast = ahead(rule, start, at, name, None)
        if fast is not None:
            assert fast == plain
            latest = fast.state.recent[-1]
            remembered = fast.state.__dict__.get(LATEST_PERIOD)
            assert remembered in (None, period_index(latest.at, zone(latest.zone), rule.period))


@settings(max_examples=400, deadline=None, database=None)
@given(streak_rules(), histories())
def test_the_fast_path_steps_exactly_as_the_plain_path(
    rule: StreakRule, seen: list[tuple[datetime, str]]
) -> None:
    state = for_rule(rule, None)
    for at, name in seen:
        _checked_step(rule, state, at, name)
        state = advance_at(rule, state, at, zone(name)).state


def test_a_daily_streak_in_one_zone_takes_the_fast_path_and_folds() -> None:
    """The test above compares something: days in a row take the fast path, folding."""
    rule = StreakRule.from_document({"streakId": "s", "events": ["e"], "period": "day"})
    state, taken, folded = for_rule(rule, None), 0, 0
    for day in range(30):
        at = datetime(2026, 3, 1, 9, tzinfo=UTC) + timedelta(days=day)
        fast = ahead(rule, state, at, "Europe/Berlin", None) if state.recent else None
        step = advance_at(rule, state, at, zone("Europe/Berlin"))
        if fast is not None:
            taken += 1
            folded += fast.state.base != state.base
            assert fast == step
        state = step.state
    assert (taken, folded) == (29, 21)  # 9 days kept (KEPT_WINDOW)
    assert state.current_count == 30


def test_a_later_period_start_among_the_kept_moments_sets_the_window() -> None:
    """Goose Bay fell back at 00:01 to 23:01 the day before: an event after that, in the time
    order, is of an earlier day than the one before it, whose day then sets the window
    (first_kept_index). Made visible with a moment left unfolded (as a stored state may be)."""
    rule = StreakRule.from_document({"streakId": "s", "events": ["e"], "period": "day"})
    where, state = zone("America/Goose_Bay"), for_rule(rule, None)
    for day in range(21, 28):  # noon, 21 to 27 October 1995
        state = advance_at(rule, state, datetime(1995, 10, day, 16, tzinfo=UTC), where).state
    just_before = datetime(1995, 10, 29, 3, 0, 30, tzinfo=UTC)  # 00:00:30 on the 29th there
    state = advance_at(rule, state, just_before, where).state
    unfolded = StreakMoment(datetime(1995, 10, 20, 16, tzinfo=UTC), where.key)
    state = replace(state, recent=(unfolded, *state.recent))
    after = datetime(1995, 10, 29, 3, 30, tzinfo=UTC)  # 23:30 on the 28th there
    fast = ahead(rule, state, after, where.key, None)
    assert fast == _in_order(rule, state, StreakMoment(after, where.key), None)
    assert fast is not None and fast.state.recent[0].at.day == 21  # the 20th is folded
