"""Challenges: count and sum goals, windows, resets in the user's timezone, repeatable
completions, late events, validation and the stored state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import bson
import pytest
from bson.codec_options import CodecOptions
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine.challenge_validation import MAX_TARGET, challenge_errors
from rules.engine.challenges import (
    ChallengeReport,
    ChallengeReward,
    ChallengeRule,
    ChallengeState,
    ChallengeStep,
    Goal,
    advance_challenge,
    challenge_state_from_document,
    challenge_state_to_document,
)
from rules.engine.periods import Span, zone
from rules.engine.points import MAX_AWARD
from rules.errors import InvalidDefinition

EVENT = "level_completed"
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)  # a Monday
BERLIN = zone("Europe/Berlin")
NEW_YORK = zone("America/New_York")
TOKYO = zone("Asia/Tokyo")
TZ_AWARE: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)


def document(**fields: Any) -> dict[str, Any]:
    return {
        "challengeId": "three_levels",
        "name": "Three levels",
        "events": [EVENT],
        "goal": {"type": "count", "target": 3},
        "reward": {"points": 100, "badge": "level_master"},
        **fields,
    }


def challenge(**fields: Any) -> ChallengeRule:
    return ChallengeRule.from_document(document(**fields))


def spend(target: float, **fields: Any) -> ChallengeRule:
    return challenge(goal={"type": "sum", "field": "orderValue", "target": target}, **fields)


def play(
    rule: ChallengeRule,
    events: Sequence[datetime | tuple[datetime, dict[str, Any]]],
    state: ChallengeState | None = None,
    user_zone: ZoneInfo | None = None,
) -> list[ChallengeStep]:
    """Advance `rule` through EVENT at each moment (optionally with metadata), in order."""
    steps = []
    for item in events:
        moment, metadata = item if isinstance(item, tuple) else (item, {})
        step = advance_challenge(rule, state, EVENT, metadata, moment, user_zone)
        steps.append(step)
        state = step.state
    return steps


def reports(steps: Sequence[ChallengeStep]) -> list[ChallengeReport]:
    found = [step.report for step in steps]
    assert None not in found
    return [report for report in found if report is not None]


def hours(count: float) -> datetime:
    return T0 + timedelta(hours=count)


def local(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """A local wall-clock time as the UTC instant it stands for."""
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def final(steps: Sequence[ChallengeStep]) -> ChallengeState:
    state = steps[-1].state
    assert state is not None
    return state


# --- compiling ---------------------------------------------------------------------------


def test_document_compiles_every_field() -> None:
    start, end = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
    rule = ChallengeRule.from_document(
        {
            "challengeId": "big_spender",
            "name": "Spend 100.5",
            "events": ["purchase", "gift"],
            "conditions": {"field": "platform", "op": "eq", "value": "ios"},
            "goal": {"type": "sum", "field": "orderValue", "target": 100.5},
            "window": {"start": start, "end": end},
            "reset": "week",
            "reward": {"points": 40, "badge": "spender"},
            "repeatable": True,
            "active": False,
        }
    )

    assert rule.challenge_id == "big_spender"
    assert rule.name == "Spend 100.5"
    assert rule.events == frozenset({"purchase", "gift"})
    assert rule.goal == Goal(type="sum", target=Decimal("100.5"), field="orderValue")
    assert rule.window == Span(start, end)
    assert rule.reset == "week"
    assert rule.reward == ChallengeReward(points=40, badge="spender")
    assert (rule.repeatable, rule.active) == (True, False)
    assert rule.condition({"platform": "ios"}) is True
    assert rule.condition({"platform": "web"}) is False


def test_omitted_fields_mean_no_window_no_reset_no_reward_once_and_active() -> None:
    rule = ChallengeRule.from_document(
        {"challengeId": "c", "events": [EVENT], "goal": {"type": "count", "target": 1}}
    )

    assert rule.name == ""
    assert rule.window == Span(None, None)
    assert rule.reset == "none"
    assert rule.reward == ChallengeReward(points=0, badge=None)
    assert (rule.repeatable, rule.active) == (False, True)
    assert rule.condition({}) is True


def test_window_bounds_may_be_iso_strings_or_naive_utc_datetimes() -> None:
    rule = challenge(
        window={"start": "2024-05-01T02:00:00+02:00", "end": datetime(2024, 6, 1, 0, 0)}
    )

    assert rule.window == Span(datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC))


def test_stored_documents_may_carry_bookkeeping_fields() -> None:
    stored = document(project="acme", createdAt=T0, updatedAt=T0, _id="x")

    assert challenge_errors(stored) == {}
    assert ChallengeRule.from_document(stored).challenge_id == "three_levels"


# --- count goals -------------------------------------------------------------------------


def test_each_event_adds_one_and_the_one_reaching_the_target_completes_and_pays() -> None:
    steps = play(challenge(), [hours(0), hours(1), hours(2)])

    assert reports(steps) == [
        ChallengeReport("three_levels", 1, 3, False, 0, None),
        ChallengeReport("three_levels", 2, 3, False, 0, None),
        ChallengeReport("three_levels", 3, 3, True, 100, "level_master"),
    ]
    assert final(steps) == ChallengeState(
        progress=Decimal(3), completed=True, completions=1, last_update=hours(2)
    )


def test_a_completed_challenge_that_is_not_repeatable_pays_nothing_more() -> None:
    steps = play(challenge(), [hours(n) for n in range(5)])

    assert [(r.progress, r.completed, r.points_awarded, r.badge) for r in reports(steps)[2:]] == [
        (3, True, 100, "level_master"),
        (3, False, 0, None),
        (3, False, 0, None),
    ]
    assert steps[4].state == steps[3].state == steps[2].state


def test_a_repeatable_challenge_starts_again_from_zero_after_each_completion() -> None:
    steps = play(challenge(repeatable=True), [hours(n) for n in range(7)])

    assert [r.progress for r in reports(steps)] == [1, 2, 3, 1, 2, 3, 1]
    assert [r.completed for r in reports(steps)] == [False, False, True] * 2 + [False]
    assert sum(r.points_awarded for r in reports(steps)) == 200
    assert [r.badge for r in reports(steps)].count("level_master") == 2
    assert final(steps) == ChallengeState(
        progress=Decimal(1), completed=False, completions=2, last_update=hours(6)
    )


def test_a_challenge_made_repeatable_after_completion_starts_again_from_zero() -> None:
    done = final(play(challenge(), [hours(0), hours(1), hours(2)]))

    steps = play(challenge(repeatable=True), [hours(3), hours(4), hours(5)], state=done)

    assert [(r.progress, r.completed) for r in reports(steps)] == [
        (1, False),
        (2, False),
        (3, True),
    ]
    assert final(steps).completions == 2


def test_a_reward_without_points_or_badge_completes_with_nothing_paid() -> None:
    steps = play(challenge(goal={"type": "count", "target": 1}, reward=None), [hours(0)])

    assert reports(steps) == [ChallengeReport("three_levels", 1, 1, True, 0, None)]


# --- which events count ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "event_id", "metadata"),
    [
        (challenge(), "purchase", {}),
        (challenge(active=False), EVENT, {}),
        (challenge(conditions={"field": "stars", "op": "gte", "value": 2}), EVENT, {"stars": 1}),
        (challenge(conditions={"field": "stars", "op": "gte", "value": 2}), EVENT, {}),
    ],
    ids=["other event", "inactive", "conditions not met", "condition field missing"],
)
def test_an_event_the_challenge_does_not_count_gets_no_report_and_changes_nothing(
    rule: ChallengeRule, event_id: str, metadata: dict[str, Any]
) -> None:
    state = ChallengeState(progress=Decimal(1), completions=0, last_update=T0)

    assert advance_challenge(rule, state, event_id, metadata, hours(1)) == ChallengeStep(state)
    assert advance_challenge(rule, None, event_id, metadata, hours(1)) == ChallengeStep(None)


def test_an_event_meeting_the_conditions_counts() -> None:
    rule = challenge(conditions={"field": "stars", "op": "gte", "value": 2})

    step = advance_challenge(rule, None, EVENT, {"stars": 3}, T0)

    assert step.report == ChallengeReport("three_levels", 1, 3, False, 0, None)


def test_any_listed_event_counts() -> None:
    rule = challenge(events=["level_completed", "boss_defeated"])

    first = advance_challenge(rule, None, "boss_defeated", {}, T0)
    second = advance_challenge(rule, first.state, "level_completed", {}, hours(1))

    assert second.report is not None and second.report.progress == 2


START = datetime(2024, 5, 1, tzinfo=UTC)
END = datetime(2024, 5, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "counts"),
    [
        (START - timedelta(milliseconds=1), False),
        (START, True),
        (END - timedelta(milliseconds=1), True),
        (END, False),
    ],
    ids=["just before start", "at start", "just before end", "at end"],
)
def test_the_window_includes_its_start_and_excludes_its_end(moment: datetime, counts: bool) -> None:
    step = advance_challenge(
        challenge(window={"start": START, "end": END}), None, EVENT, {}, moment
    )

    assert (step.report is not None) is counts
    assert step.state == (ChallengeState(Decimal(1), False, 0, moment) if counts else None)


def test_a_window_with_only_a_start_is_open_ended() -> None:
    rule = challenge(window={"start": START})

    assert advance_challenge(rule, None, EVENT, {}, START - timedelta(seconds=1)).report is None
    assert advance_challenge(rule, None, EVENT, {}, datetime(2099, 1, 1, tzinfo=UTC)).report


def test_a_window_with_only_an_end_has_always_begun() -> None:
    rule = challenge(window={"end": END})

    assert advance_challenge(rule, None, EVENT, {}, datetime(1999, 1, 1, tzinfo=UTC)).report
    assert advance_challenge(rule, None, EVENT, {}, END).report is None


# --- sum goals ---------------------------------------------------------------------------


def test_a_sum_goal_adds_metadata_values_exactly() -> None:
    steps = play(spend(0.3), [(hours(0), {"orderValue": 0.1}), (hours(1), {"orderValue": 0.2})])

    assert reports(steps) == [
        ChallengeReport("three_levels", 0.1, 0.3, False, 0, None),
        ChallengeReport("three_levels", 0.3, 0.3, True, 100, "level_master"),
    ]
    assert final(steps).progress == Decimal("0.3")


@pytest.mark.parametrize(
    "metadata",
    [{}, {"orderValue": None}, {"orderValue": "50"}, {"orderValue": True}, {"orderValue": 0}]
    + [{"orderValue": -20}, {"amount": 50}],
    ids=["missing", "null", "string", "boolean", "zero", "negative", "other field"],
)
def test_a_sum_goal_gains_nothing_from_a_missing_non_numeric_or_non_positive_value(
    metadata: dict[str, Any],
) -> None:
    start = ChallengeState(progress=Decimal(30), last_update=T0)

    step = advance_challenge(spend(100), start, EVENT, metadata, hours(1))

    assert step.report == ChallengeReport("three_levels", 30, 100, False, 0, None)
    assert step.state == ChallengeState(progress=Decimal(30), last_update=hours(1))


def test_an_event_adding_nothing_completes_nothing_even_past_a_lowered_target() -> None:
    past_target = ChallengeState(progress=Decimal(120), last_update=T0)

    nothing = advance_challenge(spend(100), past_target, EVENT, {}, hours(1))
    something = advance_challenge(spend(100), past_target, EVENT, {"orderValue": 1}, hours(1))

    assert nothing.report is not None and nothing.report.completed is False
    assert something.report is not None and something.report.completed is True


def test_a_sum_that_is_not_repeatable_keeps_its_overshoot() -> None:
    steps = play(spend(100), [(hours(0), {"orderValue": 60}), (hours(1), {"orderValue": 70})])

    assert reports(steps)[-1] == ChallengeReport(
        "three_levels", 130, 100, True, 100, "level_master"
    )
    assert final(steps).progress == Decimal(130)


def test_a_repeatable_sum_carries_no_overshoot_into_the_next_round() -> None:
    steps = play(
        spend(100, repeatable=True),
        [(hours(n), {"orderValue": value}) for n, value in enumerate([60, 70, 50])],
    )

    assert [(r.progress, r.completed) for r in reports(steps)] == [
        (60, False),
        (130, True),
        (50, False),
    ]
    assert final(steps).progress == Decimal(50)


def test_one_event_completes_a_repeatable_sum_at_most_once() -> None:
    steps = play(spend(100, repeatable=True), [(T0, {"orderValue": 250})])

    assert reports(steps) == [ChallengeReport("three_levels", 250, 100, True, 100, "level_master")]
    assert final(steps) == ChallengeState(Decimal(0), False, 1, T0)


def test_whole_sums_are_reported_as_integers_and_fractions_as_floats() -> None:
    steps = play(spend(100.5), [(hours(0), {"orderValue": 40.0}), (hours(1), {"orderValue": 60})])

    first, second = reports(steps)
    assert (first.progress, second.progress, second.target) == (40, 100, 100.5)
    assert type(first.progress) is int and type(second.progress) is int
    assert type(second.target) is float


# --- resets ------------------------------------------------------------------------------


def test_a_daily_reset_restarts_at_midnight_in_the_users_timezone() -> None:
    # 23:30 and 00:30 in Berlin: one UTC day (21:30Z, 22:30Z), two Berlin days.
    late = local(date(2024, 5, 6), 23, 30, BERLIN)
    after_midnight = local(date(2024, 5, 7), 0, 30, BERLIN)
    rule = challenge(reset="day")

    in_berlin = play(rule, [late, after_midnight], user_zone=BERLIN)
    in_utc = play(rule, [late, after_midnight], user_zone=None)

    assert [r.progress for r in reports(in_berlin)] == [1, 1]
    assert [r.progress for r in reports(in_utc)] == [1, 2]


def test_a_daily_reset_lets_a_challenge_complete_again_each_day() -> None:
    rule = challenge(reset="day", goal={"type": "count", "target": 2})
    day_1 = [local(date(2024, 5, 6), hour, 0, BERLIN) for hour in (8, 9, 10)]
    day_2 = [local(date(2024, 5, 7), hour, 0, BERLIN) for hour in (8, 9)]

    steps = play(rule, day_1 + day_2, user_zone=BERLIN)

    assert [(r.progress, r.completed, r.points_awarded) for r in reports(steps)] == [
        (1, False, 0),
        (2, True, 100),
        (2, False, 0),
        (1, False, 0),
        (2, True, 100),
    ]
    assert final(steps) == ChallengeState(Decimal(2), True, 2, day_2[-1])


def test_a_repeatable_challenge_with_a_reset_drops_the_unfinished_round_at_the_new_period() -> None:
    rule = challenge(reset="day", repeatable=True, goal={"type": "count", "target": 2})
    day_1 = [local(date(2024, 5, 6), hour, 0, BERLIN) for hour in (8, 9, 10)]

    steps = play(rule, [*day_1, local(date(2024, 5, 7), 8, 0, BERLIN)], user_zone=BERLIN)

    assert [(r.progress, r.completed) for r in reports(steps)] == [
        (1, False),
        (2, True),
        (1, False),
        (1, False),
    ]
    assert final(steps).completions == 1


def test_a_daily_reset_counts_the_short_dst_day_as_one_day() -> None:
    # Berlin springs forward on 31 March 2024: a 23-hour day.
    before = local(date(2024, 3, 30), 23, 30, BERLIN)
    first = local(date(2024, 3, 31), 0, 30, BERLIN)  # one hour after `before`
    last = local(date(2024, 3, 31), 23, 30, BERLIN)  # 22 hours after `first`
    assert last - first == timedelta(hours=22)

    steps = play(challenge(reset="day"), [before, first, last], user_zone=BERLIN)

    assert [r.progress for r in reports(steps)] == [1, 1, 2]


def test_a_daily_reset_counts_the_long_dst_day_as_one_day() -> None:
    # Berlin falls back on 27 October 2024: a 25-hour day.
    first = local(date(2024, 10, 27), 0, 10, BERLIN)
    last = local(date(2024, 10, 27), 23, 50, BERLIN)
    assert last - first == timedelta(hours=24, minutes=40)

    steps = play(challenge(reset="day"), [first, last], user_zone=BERLIN)

    assert [r.progress for r in reports(steps)] == [1, 2]


def test_a_weekly_reset_restarts_on_monday_in_the_users_timezone() -> None:
    # Sunday 19:00 and 21:00 in New York straddle Monday 00:00 UTC.
    sunday_evening = local(date(2024, 5, 12), 19, 0, NEW_YORK)
    sunday_night = local(date(2024, 5, 12), 21, 0, NEW_YORK)
    monday = local(date(2024, 5, 13), 0, 30, NEW_YORK)
    moments = [sunday_evening, sunday_night, monday]

    in_new_york = play(challenge(reset="week"), moments, user_zone=NEW_YORK)
    in_utc = play(challenge(reset="week"), moments)

    assert [r.progress for r in reports(in_new_york)] == [1, 2, 1]
    assert [r.progress for r in reports(in_utc)] == [1, 1, 2]


def test_a_monthly_reset_follows_the_users_calendar() -> None:
    # 31 January 23:30 and 1 February 00:30 in Tokyo are both 31 January in UTC.
    moments = [local(date(2024, 1, 31), 23, 30, TOKYO), local(date(2024, 2, 1), 0, 30, TOKYO)]

    in_tokyo = play(challenge(reset="month"), moments, user_zone=TOKYO)
    in_utc = play(challenge(reset="month"), moments)

    assert [r.progress for r in reports(in_tokyo)] == [1, 1]
    assert [r.progress for r in reports(in_utc)] == [1, 2]


def test_a_timezone_change_does_not_open_the_next_period_early() -> None:
    # One minute later it is already 2 May in Kiritimati (UTC+14), but the event counted on
    # 1 May was at 02:00 on 2 May there too.
    first = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    counted = final(play(challenge(reset="day"), [first], user_zone=zone("UTC")))

    step = advance_challenge(
        challenge(reset="day"),
        counted,
        EVENT,
        {},
        first + timedelta(minutes=1),
        zone("Pacific/Kiritimati"),
    )

    assert step.report is not None and step.report.progress == 2


# --- late events -------------------------------------------------------------------------


def test_an_event_from_an_earlier_period_does_not_count() -> None:
    rule = challenge(reset="day")
    today = final(play(rule, [datetime(2024, 5, 7, 10, tzinfo=UTC)]))

    step = advance_challenge(rule, today, EVENT, {}, datetime(2024, 5, 6, 23, tzinfo=UTC))

    assert step.state == today
    assert step.report == ChallengeReport("three_levels", 1, 3, False, 0, None)


def test_a_late_event_from_the_current_period_counts_and_keeps_the_latest_moment() -> None:
    rule = challenge(reset="day")
    afternoon, morning = datetime(2024, 5, 7, 15, tzinfo=UTC), datetime(2024, 5, 7, 9, tzinfo=UTC)

    steps = play(rule, [afternoon, morning])

    assert final(steps) == ChallengeState(Decimal(2), False, 0, afternoon)


def test_without_a_reset_the_order_of_events_does_not_matter() -> None:
    steps = play(challenge(), [hours(24 * 5), hours(0), hours(24)])

    assert [(r.progress, r.completed) for r in reports(steps)] == [
        (1, False),
        (2, False),
        (3, True),
    ]
    assert final(steps).last_update == hours(24 * 5)


# --- stored state ------------------------------------------------------------------------


def round_trip(state: ChallengeState) -> tuple[dict[str, Any], ChallengeState]:
    stored = challenge_state_to_document(state)
    read = bson.decode(bson.encode({"challengeId": "c", **stored}), codec_options=TZ_AWARE)
    return stored, challenge_state_from_document(read)


def test_count_progress_is_stored_as_an_integer() -> None:
    state = ChallengeState(Decimal(2), False, 3, datetime(2024, 5, 7, 9, 30, 0, 123000, UTC))

    stored, read = round_trip(state)

    assert stored == {
        "progress": 2,
        "completed": False,
        "completions": 3,
        "lastUpdate": state.last_update,
    }
    assert type(stored["progress"]) is int  # 2.0 == 2, but only an int stores as one
    assert read == state


def test_a_fractional_sum_is_stored_as_its_decimal_string() -> None:
    state = ChallengeState(Decimal("0.3"), True, 1, None)

    stored, read = round_trip(state)

    assert stored["progress"] == "0.3"
    assert read == state and str(read.progress) == "0.3"


def test_a_whole_sum_beyond_64_bits_is_stored_as_a_string() -> None:
    state = ChallengeState(Decimal("1E+30"))

    stored, read = round_trip(state)

    assert stored["progress"] == "1E+30"
    assert read == state


def test_missing_state_fields_read_as_a_fresh_challenge() -> None:
    assert challenge_state_from_document({"challengeId": "c"}) == ChallengeState()


def test_a_float_progress_reads_as_the_decimal_it_shows() -> None:
    assert challenge_state_from_document({"progress": 0.3}).progress == Decimal("0.3")


@settings(database=None)
@given(
    progress=st.decimals(min_value=0, max_value=10**15, allow_nan=False, allow_infinity=False)
    | st.decimals(min_value=0, max_value=10**6, places=4),
    completed=st.booleans(),
    completions=st.integers(0, 2**62),
    last_update=st.none()
    | st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2199, 12, 31), timezones=st.just(UTC)
    ).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)),
)
def test_any_state_survives_bson_exactly(
    progress: Decimal, completed: bool, completions: int, last_update: datetime | None
) -> None:
    state = ChallengeState(progress, completed, completions, last_update)

    stored, read = round_trip(state)

    assert read == state
    assert challenge_state_to_document(read) == stored


# --- validation --------------------------------------------------------------------------

GOOD_END = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"challengeId": None}, "challengeId"),
        ({"challengeId": "no spaces"}, "challengeId"),
        ({"name": "x" * 201}, "name"),
        ({"name": "tab\there"}, "name"),
        ({"name": None}, "name"),
        ({"events": None}, "events"),
        ({"events": []}, "events"),
        ({"events": [f"e{n}" for n in range(51)]}, "events"),
        ({"events": ["ok", "not ok"]}, "events[1]"),
        ({"conditions": "stars > 2"}, "conditions"),
        (
            {"conditions": {"all": [{"field": "stars", "op": "over", "value": 2}]}},
            "conditions.all[0].op",
        ),
        ({"goal": None}, "goal"),
        ({"goal": {"type": "average", "target": 3}}, "goal.type"),
        ({"goal": {"type": "count", "target": 0}}, "goal.target"),
        ({"goal": {"type": "count", "target": 2.5}}, "goal.target"),
        ({"goal": {"type": "count", "target": True}}, "goal.target"),
        ({"goal": {"type": "count"}}, "goal.target"),
        ({"goal": {"type": "count", "target": MAX_TARGET + 1}}, "goal.target"),
        ({"goal": {"type": "count", "target": 3, "field": "orderValue"}}, "goal.field"),
        ({"goal": {"type": "count", "target": 3, "targte": 4}}, "goal.targte"),
        ({"goal": {"type": "sum", "target": 100}}, "goal.field"),
        ({"goal": {"type": "sum", "field": "order-value", "target": 100}}, "goal.field"),
        ({"goal": {"type": "sum", "field": "orderValue", "target": 0}}, "goal.target"),
        ({"goal": {"type": "sum", "field": "orderValue", "target": -1.5}}, "goal.target"),
        ({"goal": {"type": "sum", "field": "orderValue", "target": float("nan")}}, "goal.target"),
        ({"goal": {"type": "sum", "field": "orderValue", "target": "100"}}, "goal.target"),
        ({"goal": {"type": "sum", "field": "orderValue", "target": 1e13}}, "goal.target"),
        ({"window": "May"}, "window"),
        ({"window": {}}, "window"),
        ({"window": {"start": "2024-05-01T00:00:00"}}, "window.start"),
        ({"window": {"start": "1 May 2024"}}, "window.start"),
        ({"window": {"start": "0001-01-01T00:30:00+01:00"}}, "window.start"),
        ({"window": {"end": 1714521600000}}, "window.end"),
        ({"window": {"start": GOOD_END, "end": GOOD_END}}, "window.end"),
        ({"window": {"start": GOOD_END, "end": GOOD_END - timedelta(days=1)}}, "window.end"),
        ({"window": {"start": START, "until": GOOD_END}}, "window.until"),
        ({"reset": "year"}, "reset"),
        ({"reset": None}, "reset"),
        ({"reward": 100}, "reward"),
        ({"reward": {"points": -1}}, "reward.points"),
        ({"reward": {"points": 1.5}}, "reward.points"),
        ({"reward": {"points": MAX_AWARD + 1}}, "reward.points"),
        ({"reward": {"badge": "level master"}}, "reward.badge"),
        ({"reward": {"point": 5}}, "reward.point"),
        ({"repeatable": "yes"}, "repeatable"),
        ({"active": 1}, "active"),
    ],
)
def test_a_bad_field_is_reported_at_its_path(fields: dict[str, Any], path: str) -> None:
    doc = document(**fields)

    assert list(challenge_errors(doc)) == [path]
    with pytest.raises(InvalidDefinition) as raised:
        ChallengeRule.from_document(doc)
    assert list(raised.value.details) == [path]
    assert raised.value.details[path] == challenge_errors(doc)[path]


def test_every_bad_field_is_reported_at_once() -> None:
    doc = {"challengeId": "c", "events": ["x y"], "goal": {"type": "sum"}, "reset": "hour"}

    errors = challenge_errors(doc)

    assert sorted(errors) == ["events[0]", "goal.field", "goal.target", "reset"]
    assert errors["goal.target"] == ["must be a positive number"]


def test_a_document_that_is_not_an_object_is_reported_as_the_body() -> None:
    assert challenge_errors(["three_levels"]) == {"body": ["must be an object"]}


def test_a_valid_document_has_no_errors() -> None:
    assert (
        challenge_errors(
            document(
                conditions={"any": [{"field": "stars", "op": "gte", "value": 2}]},
                window={"start": START, "end": "2024-06-01T00:00:00Z"},
                reset="month",
                repeatable=True,
                active=False,
            )
        )
        == {}
    )


# --- properties --------------------------------------------------------------------------

# (listed event?, conditions met?, hours after START: the window is the first 100 hours)
events_strategy = st.lists(
    st.tuples(st.booleans(), st.booleans(), st.integers(-20, 120)), max_size=60
)


@settings(database=None)
@given(target=st.integers(1, 6), events=events_strategy)
def test_a_repeatable_count_completes_once_per_full_target_of_counted_events(
    target: int, events: list[tuple[bool, bool, int]]
) -> None:
    rule = challenge(
        goal={"type": "count", "target": target},
        repeatable=True,
        conditions={"field": "ok", "op": "eq", "value": True},
        window={"start": START, "end": START + timedelta(hours=100)},
    )
    state: ChallengeState | None = None
    completed = paid = reported = 0
    for listed, ok, offset in events:
        step = advance_challenge(
            rule, state, EVENT if listed else "other", {"ok": ok}, START + timedelta(hours=offset)
        )
        state = step.state
        if step.report is not None:
            reported += 1
            completed += step.report.completed
            paid += step.report.points_awarded
    counted = sum(1 for listed, ok, offset in events if listed and ok and 0 <= offset < 100)

    assert reported == counted
    assert completed == counted // target
    assert paid == 100 * (counted // target)
    if counted:
        assert state is not None
        assert state.completions == counted // target
        assert state.progress == counted % target
    else:
        assert state is None


@settings(database=None)
@given(
    target=st.decimals(min_value="0.01", max_value=500, places=2),
    values=st.lists(st.decimals(min_value="0.01", max_value=100, places=2), max_size=40),
)
def test_a_sum_completes_exactly_at_the_first_event_whose_exact_running_total_reaches_target(
    target: Decimal, values: list[Decimal]
) -> None:
    rule = spend(float(target))
    steps = play(rule, [(hours(n), {"orderValue": float(v)}) for n, v in enumerate(values)])
    running = [sum(values[: n + 1], Decimal(0)) for n in range(len(values))]
    first = next((n for n, total in enumerate(running) if total >= target), None)

    assert [n for n, r in enumerate(reports(steps)) if r.completed] == (
        [] if first is None else [first]
    )
    if values:
        expected = running[-1] if first is None else running[first]
        assert final(steps).progress == expected
