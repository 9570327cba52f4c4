"""The funnel walk (reports.insights.funnels) against docs/api.md#insights: hand-made journeys with
repeated and out-of-order steps and users who enter twice, and properties over random ones: users
never increase from one step to the next, every count equals a brute-force per-user walk, and the
walk over stored timelines (reports.insights.funnel_arrays) gives the same journeys as the walk over
events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.insights import funnel_arrays
from reports.insights.funnels import FunnelEvent, Journey, segments, step_figures, walk
from reports.insights.hashes import user_hash
from reports.insights.timelines import Columns, decode, timelines
from rules.engine.funnels import FunnelRule, FunnelStep

HOUR = 3_600_000
DAY = 24 * HOUR
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rule(*steps: dict[str, Any], window: int = 86_400) -> FunnelRule:
    return FunnelRule.from_document({"steps": list(steps), "windowSeconds": window})


def users_per_step(events: Sequence[FunnelEvent], funnel: FunnelRule, end: int = DAY) -> list[int]:
    journeys = walk(events, funnel.steps, 0, end, funnel.window_seconds * 1000)
    return [step["users"] for step in step_figures(journeys, funnel.steps)]


def test_events_of_one_moment_are_taken_in_the_order_given() -> None:
    # The store hands them over ordered by record id (reports.insights.service): a tie has one
    # answer.
    funnel = rule({"eventId": "a"}, {"eventId": "a", "conditions": {"field": "x", "op": "exists"}})
    plain_first = [("u", HOUR, "a", {}), ("u", HOUR, "a", {"x": 1})]
    assert users_per_step(plain_first, funnel) == [1, 1]
    assert users_per_step(plain_first[::-1], funnel) == [1, 0]


def test_a_step_needs_an_event_at_or_after_the_previous_one() -> None:
    funnel = rule({"eventId": "a"}, {"eventId": "b"})
    out_of_order = [("u", 2 * HOUR, "b", {}), ("u", 3 * HOUR, "a", {})]
    same_moment = [("v", HOUR, "b", {}), ("v", HOUR, "a", {})]
    assert users_per_step(out_of_order, funnel) == [1, 0]
    assert users_per_step(same_moment, funnel) == [1, 1]  # "at or after"


def test_a_repeated_step_needs_another_event_than_the_one_that_reached_the_last() -> None:
    funnel = rule({"eventId": "view"}, {"eventId": "view"}, {"eventId": "buy"})
    once = [("u", HOUR, "view", {}), ("u", 2 * HOUR, "buy", {})]
    twice = [("v", HOUR, "view", {}), ("v", 2 * HOUR, "view", {}), ("v", 3 * HOUR, "buy", {})]
    assert users_per_step(once, funnel) == [1, 0, 0]
    assert users_per_step(twice, funnel) == [1, 1, 1]


def test_a_user_enters_once_at_the_first_step_one_event_of_the_range() -> None:
    funnel = rule({"eventId": "a"}, {"eventId": "b"}, window=3_600)
    # Enters at 01:00; b at 03:00 is past the hour from that entry, although it is within the
    # hour of the second a (02:30): a second entry does not restart the funnel.
    events = [("u", HOUR, "a", {}), ("u", 2 * HOUR + HOUR // 2, "a", {}), ("u", 3 * HOUR, "b", {})]
    journeys = walk(events, funnel.steps, 0, DAY, 3_600_000)
    assert [j.times for j in journeys] == [(HOUR,)]
    # An a before the range does not count: the user enters at the a inside it.
    assert [j.times for j in walk(events, funnel.steps, 2 * HOUR, DAY, 3_600_000)] == [
        (2 * HOUR + HOUR // 2, 3 * HOUR)
    ]


def test_the_window_counts_from_entry_and_later_steps_may_fall_after_the_range() -> None:
    funnel = rule({"eventId": "a"}, {"eventId": "b"}, {"eventId": "c"}, window=7_200)
    events = [("u", DAY - HOUR, "a", {}), ("u", DAY, "b", {}), ("u", DAY + HOUR, "c", {})]
    late = [("v", DAY - HOUR, "a", {}), ("v", DAY, "b", {}), ("v", DAY + HOUR + 1, "c", {})]
    assert users_per_step(events + late, funnel, end=DAY - 1) == [2, 2, 1]


def test_conditions_choose_the_events_of_every_step_the_first_too() -> None:
    funnel = rule(
        {"eventId": "a", "conditions": {"field": "platform", "op": "eq", "value": "ios"}},
        {"eventId": "b", "conditions": {"field": "value", "op": "gte", "value": 10}},
    )
    events = [
        ("u", HOUR, "a", {"platform": "web"}),
        ("u", 2 * HOUR, "a", {"platform": "ios"}),
        ("u", 3 * HOUR, "b", {"value": 5}),
        ("u", 4 * HOUR, "b", {"value": 50}),
    ]
    journeys = walk(events, funnel.steps, 0, DAY, DAY)
    assert [j.times for j in journeys] == [(2 * HOUR, 4 * HOUR)]
    assert step_figures(journeys, funnel.steps)[1]["medianSecondsFromPrevious"] == 7200


def test_figures_conversions_and_medians_follow_the_contract() -> None:
    funnel = rule({"eventId": "a"}, {"eventId": "b"}, {"eventId": "c"})
    events = [
        ("u1", 0, "a", {}),
        ("u1", 10_000, "b", {}),
        ("u2", 0, "a", {}),
        ("u2", 30_000, "b", {}),
        ("u2", 40_000, "c", {}),
        ("u3", 0, "a", {}),
        ("u4", 0, "a", {}),
        ("u4", 60_000, "b", {}),
    ]
    figures = step_figures(walk(events, funnel.steps, 0, DAY, DAY), funnel.steps)
    assert figures == [
        {
            "eventId": "a",
            "users": 4,
            "conversion": 1.0,
            "stepConversion": 1.0,
            "medianSecondsFromPrevious": None,
        },
        {
            "eventId": "b",
            "users": 3,
            "conversion": 0.75,
            "stepConversion": 0.75,
            "medianSecondsFromPrevious": 30.0,
        },
        {
            "eventId": "c",
            "users": 1,
            "conversion": 0.25,
            "stepConversion": 1 / 3,
            "medianSecondsFromPrevious": 10.0,
        },
    ]
    assert step_figures([], funnel.steps)[1] == {
        "eventId": "b",
        "users": 0,
        "conversion": 0,
        "stepConversion": 0,
        "medianSecondsFromPrevious": None,
    }


def test_segments_by_the_entering_event_most_users_first_null_for_absent() -> None:
    funnel = rule({"eventId": "a"}, {"eventId": "b"})
    events = [
        ("u1", 0, "a", {"platform": "ios"}),
        ("u1", 1, "a", {"platform": "web"}),  # not the entering event
        ("u2", 0, "a", {"platform": "web"}),
        ("u3", 0, "a", {"platform": "web"}),
        ("u3", 5, "b", {}),
        ("u4", 0, "a", {}),
        ("u5", 0, "a", {"platform": True}),
    ]
    result = segments(walk(events, funnel.steps, 0, DAY, DAY), funnel.steps, "platform")
    assert [(s["value"], s["steps"][0]["users"], s["steps"][1]["users"]) for s in result] == [
        ("web", 2, 1),
        (None, 1, 0),
        (True, 1, 0),
        ("ios", 1, 0),
    ]


# --- properties

EVENT_IDS = ("a", "b", "c")
events_strategy = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3"]),
        st.integers(0, 40),  # minutes
        st.sampled_from(EVENT_IDS),
        # JSON types kept apart: true is not 1, "1" is not 1, null is not absent.
        st.sampled_from([{}, {"x": 1}, {"x": 2}, {"x": True}, {"x": 1.0}, {"x": None}, {"x": "1"}]),
    ),
    max_size=30,
)
steps_strategy = st.lists(
    st.tuples(st.sampled_from(EVENT_IDS), st.booleans()), min_size=2, max_size=5
)


def brute_force(
    events: Sequence[FunnelEvent],
    steps: Sequence[FunnelStep],
    start: int,
    end: int,
    window: int,
) -> dict[str, tuple[int, ...]]:
    """Every user's reached times, by trying the contract's rule on every candidate."""
    reached = {}
    for user in sorted({e[0] for e in events}):
        mine = [(t, i, e, m) for i, (u, t, e, m) in enumerate(events) if u == user]

        def ok(event: tuple[int, int, str, Mapping[str, Any]], step: FunnelStep) -> bool:
            return event[2] == step.event_id and step.matches(event[3])

        entries = [ev for ev in mine if start <= ev[0] <= end and ok(ev, steps[0])]
        if not entries:
            continue
        entry = min(entries)
        used, times = {entry[1]}, [entry[0]]
        for step in steps[1:]:
            options = [
                ev
                for ev in mine
                if ev[1] not in used and ok(ev, step) and times[-1] <= ev[0] <= times[0] + window
            ]
            if not options:
                break
            chosen = min(options)
            used.add(chosen[1])
            times.append(chosen[0])
        reached[user] = tuple(times)
    return reached


@settings(max_examples=300, deadline=None)
@given(events_strategy, steps_strategy, st.integers(0, 20), st.integers(1, 30))
def test_funnel_counts_match_a_brute_force_walk_and_never_increase(
    raw: list[tuple[str, int, str, dict[str, Any]]],
    step_spec: list[tuple[str, bool]],
    start: int,
    window_minutes: int,
) -> None:
    events = [(u, t * 60_000, e, m) for u, t, e, m in raw]
    funnel = rule(
        *(
            {"eventId": e, "conditions": {"field": "x", "op": "eq", "value": 1}}
            if conditional
            else {"eventId": e}
            for e, conditional in step_spec
        ),
        window=window_minutes * 60,
    )
    start_ms, end_ms, window_ms = start * 60_000, (start + 15) * 60_000, window_minutes * 60_000
    journeys = walk(events, funnel.steps, start_ms, end_ms, window_ms)

    expected = brute_force(events, funnel.steps, start_ms, end_ms, window_ms)
    assert {j.user: j.times for j in journeys} == expected
    users = [step["users"] for step in step_figures(journeys, funnel.steps)]
    assert users == sorted(users, reverse=True)
    assert users[0] == len(expected)
    for k in range(len(users)):
        assert users[k] == sum(1 for times in expected.values() if len(times) > k)


# --- the same walk over timelines (reports.insights.funnel_arrays)


def as_timelines(events: Sequence[FunnelEvent]) -> list[Columns]:
    """The events as the report run stores them: one timeline per (eventId, UTC day), record
    ids growing in the order given (the raw walk's tie-break), handed over in another order,
    as a store may return them."""
    records = [
        {
            "_id": ObjectId(f"{order:024x}"),
            "userId": user,
            "eventId": event_id,
            "timestamp": EPOCH + timedelta(milliseconds=moment),
            "metadata": dict(metadata),
        }
        for order, (user, moment, event_id, metadata) in enumerate(events)
    ]
    stored = timelines(list(reversed(records)))
    decoded = [decode(event_id, doc) for (event_id, _), doc in sorted(stored.items())]
    assert all(columns is not None for columns in decoded)
    return [columns for columns in decoded if columns is not None]


def by_hash(journeys: Sequence[Journey]) -> dict[str, tuple[tuple[int, ...], Any]]:
    return {j.user: (j.times, j.entry_metadata.get("x")) for j in journeys}


@settings(max_examples=300, deadline=None)
@given(events_strategy, steps_strategy, st.integers(0, 20), st.integers(1, 30))
def test_the_walk_over_timelines_equals_the_walk_over_events(
    raw: list[tuple[str, int, str, dict[str, Any]]],
    step_spec: list[tuple[str, bool]],
    start: int,
    window_minutes: int,
) -> None:
    # Spread over three UTC days, so that a funnel crosses the timelines of several days.
    events = [(u, t * 60_000 * 100, e, m) for u, t, e, m in raw]
    funnel = rule(
        *(
            {"eventId": e, "conditions": {"field": "x", "op": "eq", "value": 1}}
            if conditional
            else {"eventId": e}
            for e, conditional in step_spec
        ),
        window=window_minutes * 60 * 100,
    )
    start_ms, end_ms = start * 6_000_000, (start + 15) * 6_000_000
    window_ms = window_minutes * 6_000_000
    expected = walk(events, funnel.steps, start_ms, end_ms, window_ms)
    got = funnel_arrays.journeys(
        as_timelines(events), funnel.steps, start_ms, end_ms, window_ms, "x"
    )
    assert got is not None
    assert by_hash(got) == {
        str(user_hash(j.user)): (j.times, j.entry_metadata.get("x")) for j in expected
    }
    assert step_figures(got, funnel.steps) == step_figures(expected, funnel.steps)
    assert segments(got, funnel.steps, "x") == segments(expected, funnel.steps, "x")


def test_timelines_keep_ties_repeated_steps_and_json_types_apart() -> None:
    funnel = rule(
        {"eventId": "a", "conditions": {"field": "x", "op": "eq", "value": True}},
        {"eventId": "a"},
        {"eventId": "b", "conditions": {"field": "x", "op": "eq", "value": 1}},
    )
    events: list[FunnelEvent] = [
        ("u", HOUR, "a", {"x": 1}),  # 1 is not true: does not enter, but reaches step 2
        ("u", HOUR, "a", {"x": True}),  # enters (recorded after the first, same moment)
        ("u", HOUR, "b", {"x": True}),  # true is not 1
        ("u", HOUR, "b", {"x": 1.0}),  # 1.0 is 1: step 3
        ("v", HOUR, "a", {"x": True}),  # enters
        ("v", HOUR, "a", {"x": True}),  # step 2: another event than the entry
        ("v", 2 * HOUR, "b", {"x": 1}),  # step 3
        ("w", HOUR, "a", {"x": True}),  # enters; its only a cannot also be step 2
        ("w", 2 * HOUR, "b", {"x": 1}),
    ]
    expected = walk(events, funnel.steps, 0, DAY, DAY)
    got = funnel_arrays.journeys(as_timelines(events), funnel.steps, 0, DAY, DAY, "x")
    assert sorted(j.times for j in expected) == [
        (HOUR,),
        (HOUR, HOUR, HOUR),
        (HOUR, HOUR, 2 * HOUR),
    ]
    assert got is not None
    assert sorted((j.times, j.entry_metadata["x"]) for j in got) == [
        ((HOUR,), True),
        ((HOUR, HOUR, HOUR), True),
        ((HOUR, HOUR, 2 * HOUR), True),
    ]


def test_timelines_that_cannot_hold_the_metadata_send_conditions_to_the_raw_events() -> None:
    funnel = rule({"eventId": "a", "conditions": {"field": "x", "op": "exists"}}, {"eventId": "b"})
    events: list[FunnelEvent] = [("u", HOUR, "a", {"x": 2**70}), ("u", 2 * HOUR, "b", {})]
    (columns, *_) = as_timelines(events)
    assert not columns.complete
    assert funnel_arrays.journeys(as_timelines(events), funnel.steps, 0, DAY, DAY, None) is None
    plain = rule({"eventId": "a"}, {"eventId": "b"})
    got = funnel_arrays.journeys(as_timelines(events), plain.steps, 0, DAY, DAY, None)
    assert got is not None and [j.times for j in got] == [(HOUR, 2 * HOUR)]


def test_a_step_exactly_a_window_after_entry_is_reached_and_a_millisecond_later_is_not() -> None:
    window = 600_000
    events: list[FunnelEvent] = [
        ("on_time", 0, "a", {}),
        ("on_time", window, "b", {}),
        ("late", 0, "a", {}),
        ("late", window + 1, "b", {}),
    ]
    steps = rule({"eventId": "a"}, {"eventId": "b"}, window=window // 1000).steps
    expected = {"on_time": (0, window), "late": (0,)}

    assert {j.user: j.times for j in walk(events, steps, 0, 0, window)} == expected
    got = funnel_arrays.journeys(as_timelines(events), steps, 0, 0, window, None)
    assert got is not None
    assert {j.user: j.times for j in got} == {str(user_hash(u)): t for u, t in expected.items()}
