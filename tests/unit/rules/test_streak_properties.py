"""Streak properties over random events within the 7 days an event may arrive late (without the
import scope), random timezones and random streak definitions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine.definitions import Milestone, StreakRule
from rules.engine.periods import period_index
from rules.engine.state import StreakState
from rules.engine.streak_walk import MAX_KEPT
from rules.engine.streaks import StreakStep, advance_at

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
# Each window of 7 days before one of these holds a DST change of Berlin, New York or Chatham.
NOWS = [
    datetime(2026, 3, 30, 12, tzinfo=UTC),  # Berlin springs forward on 29 March
    datetime(2026, 3, 10, 12, tzinfo=UTC),  # New York on 8 March
    datetime(2026, 10, 27, 12, tzinfo=UTC),  # Berlin falls back on 25 October
    datetime(2026, 11, 3, 12, tzinfo=UTC),  # New York on 1 November
    datetime(2026, 4, 7, 12, tzinfo=UTC),  # Chatham falls back on 5 April
]
WINDOW_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Seen:
    at: datetime
    where: ZoneInfo


@st.composite
def streak_rules(draw: st.DrawFn, freezes: bool = True) -> StreakRule:
    milestone_counts = draw(st.lists(st.integers(1, 9), unique=True, max_size=4))
    doc: dict[str, Any] = {
        "streakId": "s",
        "events": ["e"],
        "period": draw(st.sampled_from(["day", "day", "week", "month"])),
        "milestones": [
            {"count": count, "points": draw(st.integers(0, 50)), "badge": f"b{count}"}
            for count in milestone_counts
        ],
    }
    if freezes:
        doc["freezes"] = {
            "initial": draw(st.integers(0, 3)),
            "max": draw(st.integers(0, 3)),
            "earnEvery": draw(st.none() | st.integers(1, 4)),
        }
    return StreakRule.from_document(doc)


@st.composite
def events(
    draw: st.DrawFn,
    one_zone: bool,
    minutes: tuple[int, int] = (0, WINDOW_MINUTES),
    max_size: int = MAX_KEPT - 2,
    now: datetime | None = None,
) -> list[Seen]:
    """Events `minutes` before `now` (one of NOWS unless given): within the 7 days by default."""
    now = now or draw(st.sampled_from(NOWS))
    fixed = ZoneInfo(draw(st.sampled_from(ZONES)))
    items = draw(
        st.lists(
            st.tuples(st.integers(*minutes), st.sampled_from(ZONES)), min_size=1, max_size=max_size
        )
    )
    return [
        Seen(now - timedelta(minutes=ago), fixed if one_zone else ZoneInfo(name))
        for ago, name in items
    ]


def in_time_order(seen: Sequence[Seen]) -> list[Seen]:
    return sorted(seen, key=lambda event: (event.at, event.where.key))


def play(
    rule: StreakRule, seen: Sequence[Seen], state: StreakState | None = None
) -> list[StreakStep]:
    steps = []
    for event in seen:
        step = advance_at(rule, state, event.at, event.where)
        steps.append(step)
        state = step.state
    return steps


def counts_of(state: StreakState) -> tuple[int, int, int]:
    return state.current_count, state.longest_count, state.freezes


def without_payments(state: StreakState) -> StreakState:
    return replace(state, paid=())


def period_of(rule: StreakRule, event: Seen) -> int:
    return period_index(event.at, event.where, rule.period)


@settings(max_examples=300, deadline=None, database=None)
@given(streak_rules(), events(one_zone=True))
def test_in_one_zone_each_period_counts_once_whatever_the_arrival_order(
    rule: StreakRule, seen: list[Seen]
) -> None:
    state: StreakState | None = None
    periods: set[int] = set()
    for event in seen:
        step = advance_at(rule, state, event.at, event.where)
        period = period_of(rule, event)
        if period in periods:  # a second event in a counted period changes no count
            assert step.counted is False and step.milestones == ()
            assert state is not None and counts_of(step.state) == counts_of(state)
            assert step.freezes_used == 0
        else:
            assert step.counted is True
        periods.add(period)
        state = step.state
        assert state.current_count <= state.longest_count <= len(periods)
    assert state is not None
    # Again, later in the same periods: the state does not change at all.
    for event in seen:
        again = Seen(event.at + timedelta(minutes=1), event.where)
        if period_of(rule, again) == period_of(rule, event):
            step = advance_at(rule, state, again.at, again.where)
            assert step.counted is False and step.state == state


@settings(max_examples=300, deadline=None, database=None)
@given(streak_rules(), events(one_zone=False), st.randoms(use_true_random=False))
def test_any_arrival_order_of_events_within_the_window_gives_the_same_state(
    rule: StreakRule, seen: list[Seen], rng: Random
) -> None:
    shuffled = list(seen)
    rng.shuffle(shuffled)

    finals = [play(rule, order)[-1].state for order in (seen, shuffled, in_time_order(seen))]

    # Milestone payments are remembered per run and may differ with arrival order
    # (docs/decisions/0004-streaks-are-a-walk-over-kept-moments.md); every count, freeze and
    # kept moment is the same.
    assert without_payments(finals[0]) == without_payments(finals[1])
    assert without_payments(finals[0]) == without_payments(finals[2])


@st.composite
def history_and_window(draw: st.DrawFn) -> tuple[list[Seen], list[Seen]]:
    """Events before the 7 days, and events within them (at most MAX_KEPT moments in all)."""
    now = draw(st.sampled_from(NOWS))
    older = (WINDOW_MINUTES + 1, 5 * WINDOW_MINUTES)
    history = draw(events(one_zone=False, minutes=older, max_size=15, now=now))
    return history, draw(events(one_zone=False, max_size=15, now=now))


@settings(max_examples=200, deadline=None, database=None)
@given(streak_rules(), history_and_window(), st.randoms(use_true_random=False))
def test_the_arrival_order_within_the_window_does_not_matter_after_older_history(
    rule: StreakRule, both: tuple[list[Seen], list[Seen]], rng: Random
) -> None:
    history, seen = both
    # The history is older than the window (some of it folded into the state's base).
    before = play(rule, in_time_order(history))[-1].state
    shuffled = list(seen)
    rng.shuffle(shuffled)

    finals = [play(rule, order, before)[-1].state for order in (shuffled, in_time_order(seen))]

    assert without_payments(finals[0]) == without_payments(finals[1])


@settings(max_examples=300, deadline=None, database=None)
@given(streak_rules(), events(one_zone=False))
def test_with_travel_no_zone_and_period_counts_twice(rule: StreakRule, seen: list[Seen]) -> None:
    # Travelling west lives a date twice, and both may count (tests/unit/rules/test_travel.py):
    # the bound is on the periods seen where the user was.
    pairs: set[tuple[str | None, int]] = set()
    for event, step in zip(seen, play(rule, seen), strict=True):
        pairs.add((event.where.key, period_of(rule, event)))
        assert step.state.current_count <= step.state.longest_count <= len(pairs)


def in_order_model(rule: StreakRule, seen: Sequence[Seen]) -> list[tuple[object, ...]]:
    """The streak as counted before late events were placed, events taken in time order: the
    last counted moment re-read in the zone of each new event."""
    last: datetime | None = None
    count, longest, freezes = 0, 0, rule.freezes.initial
    results: list[tuple[object, ...]] = []
    for event in seen:
        period = period_of(rule, event)
        previous = None if last is None else period_index(last, event.where, rule.period)
        if previous is not None and period <= previous:
            results.append((False, count, longest, freezes, 0, ()))
            continue
        missed = 0 if previous is None else period - previous - 1
        used, count = 0, count + 1
        if missed and missed <= freezes:
            freezes, used = freezes - missed, missed
        elif missed:
            count = 1
        earn_every = rule.freezes.earn_every
        if earn_every and count % earn_every == 0 and freezes < rule.freezes.max:
            freezes += 1
        longest, last = max(longest, count), event.at
        milestone = rule.milestone_at(count)
        results.append((True, count, longest, freezes, used, (milestone,) if milestone else ()))
    return results


@settings(max_examples=300, deadline=None, database=None)
@given(
    streak_rules(),
    events(one_zone=False) | events(one_zone=False, minutes=(0, 9 * WINDOW_MINUTES), max_size=80),
)
def test_events_in_time_order_count_exactly_as_they_always_did(
    rule: StreakRule, seen: list[Seen]
) -> None:
    ordered = in_time_order(seen)
    steps = play(rule, ordered)
    observed = [(s.counted, *counts_of(s.state), s.freezes_used, s.milestones) for s in steps]
    assert observed == in_order_model(rule, ordered)


@settings(max_examples=300, deadline=None, database=None)
@given(streak_rules(freezes=False), events(one_zone=True), st.randoms(use_true_random=False))
def test_late_events_pay_each_milestone_once_per_run_except_for_runs_they_join(
    rule: StreakRule, seen: list[Seen], rng: Random
) -> None:
    # In one zone and without freezes, a late event can only lengthen or join runs. Each run
    # of the final history is paid each milestone it reaches at least once, and more than once
    # only for runs that were apart when paid (two runs of m and the day between them, ...).
    shuffled = list(seen)
    rng.shuffle(shuffled)
    steps = play(rule, shuffled)
    final = steps[-1].state
    periods = sorted({period_of(rule, event) for event in seen})
    runs: list[list[int]] = []
    for period in periods:
        if runs and runs[-1][-1] == period - 1:
            runs[-1].append(period)
        else:
            runs.append([period])
    assert max(len(run) for run in runs) == final.longest_count
    assert len(runs[-1]) == final.current_count

    paid: dict[tuple[int, Milestone], int] = {}
    for event, step in zip(shuffled, steps, strict=True):
        period = period_of(rule, event)
        run_index = next(i for i, run in enumerate(runs) if period in run)
        for milestone in step.milestones:
            paid[run_index, milestone] = paid.get((run_index, milestone), 0) + 1
    for index, run in enumerate(runs):
        for milestone in rule.milestones:
            times = paid.get((index, milestone), 0)
            if milestone.count > len(run):
                assert times == 0
            else:
                assert 1 <= times <= (len(run) + 1) // (milestone.count + 1)
