"""rules.engine.evaluation.evaluate end to end on plain data: ledger, balance, caps, streaks,
badges."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from rules.engine.definitions import EventRule, StreakRule
from rules.engine.evaluation import Evaluation, Event, LedgerLine, StreakReport, evaluate
from rules.engine.state import COMPLETIONS_KEPT, UserState
from rules.errors import InvalidEvent

LOGIN = EventRule.from_document({"eventId": "daily_login", "points": {"fixed": 10}})
DAILY_APP_USE = StreakRule.from_document(
    {
        "streakId": "daily_app_use",
        "events": ["daily_login"],
        "period": "day",
        "timezone": "UTC",
        "milestones": [{"count": 3, "points": 20, "badge": "on_fire"}, {"count": 7, "points": 50}],
    }
)


def utc(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def event(at: datetime, event_id: str = "daily_login", **metadata: Any) -> Event:
    return Event(event_id=event_id, user_id="user123", timestamp=at, metadata=metadata)


def event_rule(event_id: str = "daily_login", **doc: Any) -> EventRule:
    return EventRule.from_document({"eventId": event_id, **doc})


def streak_rule(streak_id: str = "daily_app_use", **doc: Any) -> StreakRule:
    return StreakRule.from_document({"streakId": streak_id, "events": ["daily_login"], **doc})


def play(
    events: Sequence[Event],
    rule: EventRule = LOGIN,
    streaks: Sequence[StreakRule] = (DAILY_APP_USE,),
    user: UserState | None = None,
) -> list[Evaluation]:
    """Evaluate `events` in order, each on the state the previous one left."""
    state = user or UserState(user_id="user123")
    results = []
    for item in events:
        result = evaluate(item, rule, streaks, state)
        results.append(result)
        state = result.state
    return results


def days(start: datetime, count: int) -> list[Event]:
    return [event(start + timedelta(days=i)) for i in range(count)]


# --- points, ledger and balance ----------------------------------------------------------


def test_first_login_awards_the_event_points_and_starts_the_streak() -> None:
    at = utc(2024, 1, 1, 9)
    result = evaluate(event(at), LOGIN, [DAILY_APP_USE], UserState(user_id="user123"))
    assert result.ledger == (LedgerLine(10, "event", "event:daily_login"),)
    outcome = result.outcome
    assert (outcome.event_id, outcome.user_id, outcome.timestamp) == ("daily_login", "user123", at)
    assert (outcome.points_awarded, outcome.total_points_awarded, outcome.balance) == (10, 10, 10)
    assert (outcome.rewarded, outcome.reason) == (True, None)
    assert outcome.streaks == (
        StreakReport(
            streak_id="daily_app_use",
            current_count=1,
            longest_count=1,
            last_update=at,
            milestone_reached=False,
            points_awarded=0,
            freezes_used=0,
        ),
    )
    assert outcome.badges == ()
    assert (result.state.balance, result.state.lifetime) == (10, 10)


def test_third_consecutive_day_adds_the_milestone_points_to_the_total() -> None:
    third = play(days(utc(2024, 1, 1), 3))[-1]
    assert third.ledger == (
        LedgerLine(10, "event", "event:daily_login"),
        LedgerLine(20, "streak", "streak:daily_app_use:milestone:3"),
    )
    assert third.outcome.points_awarded == 10
    assert third.outcome.total_points_awarded == 30
    assert third.outcome.balance == 50
    assert third.state.lifetime == 50
    report = third.outcome.streaks[0]
    assert (report.current_count, report.milestone_reached, report.points_awarded) == (3, True, 20)


def test_milestones_of_several_streaks_add_up_in_one_event() -> None:
    streaks = [
        streak_rule("first", milestones=[{"count": 1, "points": 20}]),
        streak_rule("second", milestones=[{"count": 1, "points": 30}]),
    ]
    result = play([event(utc(2024, 1, 1))], streaks=streaks)[0]
    assert [(line.delta, line.source) for line in result.ledger] == [
        (10, "event"),
        (20, "streak"),
        (30, "streak"),
    ]
    assert result.outcome.total_points_awarded == 60
    assert result.outcome.balance == 60


def test_balance_and_lifetime_grow_from_the_users_current_values() -> None:
    user = UserState(user_id="user123", balance=5, lifetime=100)
    result = play([event(utc(2024, 1, 1))], user=user)[0]
    assert (result.state.balance, result.state.lifetime) == (15, 110)
    assert result.outcome.balance == 15


def test_event_whose_conditions_fail_awards_nothing_and_says_why() -> None:
    rule = event_rule(
        "purchase_completed",
        points={"fixed": 5},
        conditions={"all": [{"field": "orderValue", "op": "gte", "value": 20}]},
    )
    result = evaluate(
        event(utc(2024, 1, 1), "purchase_completed", orderValue=19),
        rule,
        [],
        UserState(user_id="user123", balance=7, lifetime=7),
    )
    assert result.ledger == ()
    assert (result.outcome.rewarded, result.outcome.reason) == (False, "conditions_not_met")
    assert (result.outcome.points_awarded, result.outcome.total_points_awarded) == (0, 0)
    assert (result.state.balance, result.state.lifetime) == (7, 7)


def test_per_unit_points_come_from_the_event_metadata() -> None:
    rule = event_rule(
        "purchase_completed",
        points={"fixed": 5, "perUnit": {"field": "orderValue", "rate": 2, "rounding": "floor"}},
    )
    result = evaluate(
        event(utc(2024, 1, 1), "purchase_completed", orderValue=129.99),
        rule,
        [],
        UserState(user_id="user123"),
    )
    assert result.ledger == (LedgerLine(264, "event", "event:purchase_completed"),)


def test_metadata_breaking_the_schema_is_rejected() -> None:
    rule = event_rule("purchase_completed", metadataSchema={"orderValue": "number"})
    with pytest.raises(InvalidEvent) as caught:
        evaluate(
            event(utc(2024, 1, 1), "purchase_completed", orderValue="12"),
            rule,
            [],
            UserState(user_id="user123"),
        )
    assert list(caught.value.details) == ["metadata.orderValue"]


# --- profile fields from metadata --------------------------------------------------------

GROUP_RULE = event_rule(points={"fixed": 10}, groupRewards={"subscriber": {"multiplier": 2}})


def test_usergroup_from_metadata_is_stored_and_used_for_this_event() -> None:
    result = play([event(utc(2024, 1, 1), usergroup="subscriber")], rule=GROUP_RULE)[0]
    assert result.state.usergroup == "subscriber"
    assert result.outcome.points_awarded == 20


def test_stored_usergroup_applies_to_later_events_until_changed() -> None:
    results = play(
        [
            event(utc(2024, 1, 1), usergroup="subscriber"),
            event(utc(2024, 1, 2)),
            event(utc(2024, 1, 3), usergroup="free"),
        ],
        rule=GROUP_RULE,
    )
    assert [r.outcome.points_awarded for r in results] == [20, 20, 10]
    assert results[-1].state.usergroup == "free"


def test_timezone_from_metadata_is_stored() -> None:
    result = play([event(utc(2024, 1, 1), timezone="Asia/Tokyo")])[0]
    assert result.state.timezone == "Asia/Tokyo"


@pytest.mark.parametrize("value", [5, True, None])
def test_profile_metadata_that_is_not_a_string_leaves_the_profile_alone(value: Any) -> None:
    user = UserState(user_id="user123", usergroup="subscriber", timezone="Europe/Berlin")
    result = play([event(utc(2024, 1, 1), usergroup=value, timezone=value)], user=user)[0]
    assert (result.state.usergroup, result.state.timezone) == ("subscriber", "Europe/Berlin")


# --- timezones ---------------------------------------------------------------------------


def test_user_timezone_decides_the_streak_day() -> None:
    # 2024-01-01 10:00 UTC is 19:00 on Jan 1 in Tokyo; 23:30 UTC is 08:30 on Jan 2.
    results = play(
        [
            event(utc(2024, 1, 1, 10), timezone="Asia/Tokyo"),
            event(utc(2024, 1, 1, 23, 30)),
        ]
    )
    assert [r.outcome.streaks[0].current_count for r in results] == [1, 2]
    assert results[-1].state.streaks["daily_app_use"].last_period == date(2024, 1, 2).toordinal()


def test_without_a_user_timezone_the_same_events_fall_on_one_utc_day() -> None:
    results = play([event(utc(2024, 1, 1, 10)), event(utc(2024, 1, 1, 23, 30))])
    assert results[-1].state.streaks["daily_app_use"].current_count == 1


def test_streak_timezone_applies_when_the_user_has_none() -> None:
    streak = streak_rule(timezone="America/New_York")
    # 2024-01-02 03:00 UTC is still 22:00 on Jan 1 in New York.
    results = play([event(utc(2024, 1, 1, 15)), event(utc(2024, 1, 2, 3))], streaks=[streak])
    state = results[-1].state.streaks["daily_app_use"]
    assert state.current_count == 1
    assert state.last_period == date(2024, 1, 1).toordinal()


def test_streaks_of_different_timezones_each_read_the_event_in_their_own() -> None:
    # The engine reads an event's period once per zone and kind of period: a UTC streak must
    # not lend its reading to a Tokyo one. 16:00 UTC on Jan 5 is already Jan 6 in Tokyo.
    utc_days = streak_rule("utc_days", timezone="UTC")
    tokyo_days = streak_rule("tokyo_days", timezone="Asia/Tokyo")
    events = [event(utc(2026, 1, 5, 10)), event(utc(2026, 1, 5, 16))]
    streaks = play(events, streaks=[utc_days, tokyo_days])[-1].state.streaks
    assert streaks["utc_days"].current_count == 1
    assert streaks["tokyo_days"].current_count == 2


def test_user_timezone_wins_over_the_streak_timezone() -> None:
    streak = streak_rule(timezone="America/New_York")
    user = UserState(user_id="user123", timezone="Asia/Tokyo")
    result = play([event(utc(2024, 1, 1, 23, 30))], streaks=[streak], user=user)[0]
    assert result.state.streaks["daily_app_use"].last_period == date(2024, 1, 2).toordinal()


def test_logins_on_consecutive_berlin_days_across_dst_count_once_each() -> None:
    user = UserState(user_id="user123", timezone="Europe/Berlin")
    results = play(
        [
            event(utc(2024, 3, 30, 22, 30)),  # 2024-03-30 23:30 CET
            event(utc(2024, 3, 30, 23, 30)),  # 2024-03-31 00:30 CET
            event(utc(2024, 3, 31, 21, 30)),  # 2024-03-31 23:30 CEST, same local day
            event(utc(2024, 3, 31, 22, 30)),  # 2024-04-01 00:30 CEST
        ],
        user=user,
    )
    assert [r.state.streaks["daily_app_use"].current_count for r in results] == [1, 2, 2, 3]


def test_moving_west_judges_days_as_seen_from_the_new_zone() -> None:
    user = UserState(user_id="user123", timezone="Asia/Tokyo")
    results = play(
        [
            event(utc(2024, 1, 1, 23)),  # Tokyo Jan 2 08:00, which is Jan 1 18:00 in New York
            event(utc(2024, 1, 2, 1), timezone="America/New_York"),  # New York Jan 1 20:00
            event(utc(2024, 1, 2, 13)),  # New York Jan 2 08:00: the next day, seen from here
            event(utc(2024, 1, 3, 13)),  # New York Jan 3 08:00
        ],
        user=user,
    )
    assert [r.state.streaks["daily_app_use"].current_count for r in results] == [1, 1, 2, 3]


# --- maxCompletions ----------------------------------------------------------------------


def test_daily_cap_counts_days_in_the_users_timezone() -> None:
    rule = event_rule(points={"fixed": 5}, maxCompletions={"count": 1, "period": "day"})
    user = UserState(user_id="user123", timezone="Asia/Tokyo")
    results = play(
        [
            event(utc(2024, 1, 1, 10)),  # Tokyo Jan 1 19:00
            event(utc(2024, 1, 1, 14)),  # Tokyo Jan 1 23:00
            event(utc(2024, 1, 1, 16)),  # Tokyo Jan 2 01:00, same UTC day as the others
        ],
        rule=rule,
        streaks=[],
        user=user,
    )
    assert [r.outcome.points_awarded for r in results] == [5, 0, 5]
    assert [r.outcome.reason for r in results] == [None, "limit_reached", None]
    assert [r.outcome.rewarded for r in results] == [True, False, True]
    assert results[1].ledger == ()
    assert results[-1].state.balance == 10


def test_daily_cap_counts_utc_days_for_a_user_without_timezone() -> None:
    rule = event_rule(points={"fixed": 5}, maxCompletions={"count": 1, "period": "day"})
    results = play(
        [event(utc(2024, 1, 1, 16)), event(utc(2024, 1, 1, 23, 59)), event(utc(2024, 1, 2, 0, 1))],
        rule=rule,
        streaks=[],
    )
    assert [r.outcome.points_awarded for r in results] == [5, 0, 5]


def test_weekly_cap_allows_count_completions_per_week() -> None:
    rule = event_rule(points={"fixed": 5}, maxCompletions={"count": 2, "period": "week"})
    monday = utc(2024, 1, 1)
    results = play([event(monday + timedelta(days=i)) for i in (0, 2, 6, 7)], rule=rule, streaks=[])
    assert [r.outcome.reason for r in results] == [None, None, "limit_reached", None]


def test_lifetime_cap_holds_forever() -> None:
    rule = event_rule(
        "complete_profile", points={"fixed": 25}, maxCompletions={"count": 1, "period": "lifetime"}
    )
    results = play(
        [event(utc(2024, 1, 1), "complete_profile"), event(utc(2025, 6, 1), "complete_profile")],
        rule=rule,
        streaks=[],
    )
    assert [r.outcome.points_awarded for r in results] == [25, 0]
    assert results[-1].outcome.reason == "limit_reached"
    assert results[-1].state.balance == 25


def test_an_event_failing_its_conditions_does_not_use_up_the_cap() -> None:
    rule = event_rule(
        points={"fixed": 5},
        maxCompletions={"count": 1, "period": "day"},
        conditions={"field": "minutes", "op": "gte", "value": 5},
    )
    results = play(
        [event(utc(2024, 1, 1, 8), minutes=1), event(utc(2024, 1, 1, 9), minutes=9)],
        rule=rule,
        streaks=[],
    )
    assert [r.outcome.reason for r in results] == ["conditions_not_met", None]
    assert results[-1].outcome.points_awarded == 5


def test_daily_cap_holds_for_an_imported_event_older_than_the_recent_days_kept() -> None:
    # events:import accepts timestamps of any age; the cap must still allow one per day.
    rule = event_rule(points={"fixed": 5}, maxCompletions={"count": 1, "period": "day"})
    recent = days(utc(2024, 2, 1), 12)
    imported_day = utc(2024, 1, 1, 8)
    results = play(
        [*recent, event(imported_day), event(imported_day + timedelta(hours=2))],
        rule=rule,
        streaks=[],
    )
    assert [r.outcome.reason for r in results[-2:]] == [None, "limit_reached"]


def test_imported_event_in_a_period_whose_payouts_were_dropped_is_not_paid() -> None:
    # Past COMPLETIONS_KEPT payouts the oldest instants are dropped; an event imported into a
    # period that may hold a dropped one cannot be checked against the cap, so it is refused.
    rule = event_rule(points={"fixed": 5}, maxCompletions={"count": 1, "period": "day"})
    history = days(utc(2024, 1, 1), COMPLETIONS_KEPT + 1)
    results = play(
        [*history, event(utc(2024, 1, 1, 18)), event(utc(2024, 1, 2, 18))], rule=rule, streaks=[]
    )

    assert all(r.outcome.points_awarded == 5 for r in results[: len(history)])
    assert [r.outcome.reason for r in results[-2:]] == ["limit_reached", "limit_reached"]
    counter = results[-1].state.completions["daily_login"]
    assert (counter.total, len(counter.recent)) == (COMPLETIONS_KEPT + 1, COMPLETIONS_KEPT)


def test_changing_a_cap_period_never_reopens_it() -> None:
    moment = utc(2024, 5, 1, 9)
    state = UserState(user_id="user123")
    paid = []
    for minute, period in enumerate(["lifetime", "day", "lifetime", "week", "month"]):
        rule = event_rule(points={"fixed": 25}, maxCompletions={"count": 1, "period": period})
        result = evaluate(event(moment + timedelta(minutes=minute)), rule, [], state)
        paid.append(result.outcome.points_awarded)
        state = result.state

    assert paid == [25, 0, 0, 0, 0]


def test_milestone_points_count_even_when_the_event_hit_its_cap() -> None:
    rule = event_rule(points={"fixed": 10}, maxCompletions={"count": 1, "period": "lifetime"})
    streak = streak_rule(milestones=[{"count": 2, "points": 20}])
    second = play(days(utc(2024, 1, 1), 2), rule=rule, streaks=[streak])[-1]
    assert (second.outcome.rewarded, second.outcome.reason) == (False, "limit_reached")
    assert second.outcome.points_awarded == 0
    assert second.outcome.total_points_awarded == 20
    assert second.ledger == (LedgerLine(20, "streak", "streak:daily_app_use:milestone:2"),)
    assert second.outcome.balance == 30


# --- streak selection --------------------------------------------------------------------


def test_inactive_streaks_are_not_reported_or_advanced() -> None:
    inactive = streak_rule("paused", active=False, milestones=[{"count": 1, "points": 99}])
    result = play([event(utc(2024, 1, 1))], streaks=[inactive, DAILY_APP_USE])[0]
    assert [r.streak_id for r in result.outcome.streaks] == ["daily_app_use"]
    assert set(result.state.streaks) == {"daily_app_use"}
    assert result.outcome.total_points_awarded == 10


def test_streaks_of_other_events_are_not_reported_or_advanced() -> None:
    purchases = StreakRule.from_document(
        {"streakId": "weekly_purchase", "events": ["purchase_completed"], "period": "week"}
    )
    result = play([event(utc(2024, 1, 1))], streaks=[purchases])[0]
    assert result.outcome.streaks == ()
    assert dict(result.state.streaks) == {}


def test_an_unchanged_streak_reports_its_own_id_when_its_state_object_is_shared() -> None:
    # The report of an unchanged streak is remembered on its state object: one object held
    # under two streak ids (equal states, as a copy may make) must still report each id.
    first = play([event(utc(2024, 1, 1, 9))])[0].state.streaks["daily_app_use"]
    twin = streak_rule("twin_streak", period="day")
    user = UserState(user_id="user123", streaks={"daily_app_use": first, "twin_streak": first})
    later = event(utc(2024, 1, 1, 15))
    for _ in range(2):  # the second time, both find a report remembered
        reports = evaluate(later, LOGIN, [DAILY_APP_USE, twin], user).outcome.streaks
        assert [(r.streak_id, r.current_count, r.milestone_reached) for r in reports] == [
            ("daily_app_use", 1, False),
            ("twin_streak", 1, False),
        ]


def test_what_a_state_remembers_is_no_part_of_its_value() -> None:
    state = play([event(utc(2024, 1, 1, 9))])[0].state
    streak = state.streaks["daily_app_use"]
    fresh = dataclasses.replace(streak)  # the same fields, nothing remembered
    evaluate(event(utc(2024, 1, 1, 15)), LOGIN, [DAILY_APP_USE], state)  # remembers a report
    assert "_unchanged_report" in vars(streak)
    assert streak == fresh
    assert hash(streak) == hash(fresh)
    assert dataclasses.asdict(streak) == dataclasses.asdict(fresh)


def test_a_streak_counts_every_event_it_lists() -> None:
    streak = StreakRule.from_document(
        {"streakId": "active_days", "events": ["daily_login", "level_completed"]}
    )
    level = event_rule("level_completed")
    first = evaluate(event(utc(2024, 1, 1)), LOGIN, [streak], UserState(user_id="user123"))
    second = evaluate(event(utc(2024, 1, 2), "level_completed"), level, [streak], first.state)
    assert second.outcome.streaks[0].current_count == 2


def test_streak_conditions_decide_whether_the_event_counts() -> None:
    streak = streak_rule(conditions={"field": "minutes", "op": "gte", "value": 5})
    short, long = play(
        [event(utc(2024, 1, 1), minutes=3), event(utc(2024, 1, 1), minutes=10)], streaks=[streak]
    )
    assert short.outcome.streaks == ()
    assert "daily_app_use" not in short.state.streaks
    assert [(r.streak_id, r.current_count) for r in long.outcome.streaks] == [("daily_app_use", 1)]


def test_freezes_used_are_reported() -> None:
    streak = streak_rule(freezes={"initial": 1, "max": 1})
    results = play([event(utc(2024, 1, 1)), event(utc(2024, 1, 3))], streaks=[streak])
    report = results[-1].outcome.streaks[0]
    assert (report.current_count, report.freezes_used) == (2, 1)
    assert results[-1].state.streaks["daily_app_use"].freezes == 0


# --- badges ------------------------------------------------------------------------------


def test_a_badge_earned_by_two_streaks_at_once_is_listed_once() -> None:
    streaks = [
        streak_rule("a", milestones=[{"count": 1, "badge": "starter"}]),
        streak_rule("b", milestones=[{"count": 1, "badge": "starter"}]),
    ]
    result = play([event(utc(2024, 1, 1))], streaks=streaks)[0]
    assert result.outcome.badges == ("starter",)
    assert result.state.badges == ("starter",)


def test_a_badge_already_held_is_not_listed_again() -> None:
    streak = streak_rule(milestones=[{"count": 1, "badge": "starter"}])
    first, _, again = play(
        [
            event(utc(2024, 1, 1)),
            event(utc(2024, 1, 2)),
            event(utc(2024, 1, 5)),
        ],  # a gap: count 1 again
        streaks=[streak],
    )
    assert first.outcome.badges == ("starter",)
    assert again.outcome.streaks[0].milestone_reached is True
    assert again.outcome.badges == ()
    assert again.state.badges == ("starter",)


def test_new_badges_are_appended_to_those_held() -> None:
    user = UserState(user_id="user123", badges=("founder",))
    third = play(days(utc(2024, 1, 1), 3), user=user)[-1]
    assert third.outcome.badges == ("on_fire",)
    assert third.state.badges == ("founder", "on_fire")


# --- activity ----------------------------------------------------------------------------


def test_event_count_and_first_and_last_seen_follow_the_events() -> None:
    first, second = play([event(utc(2024, 1, 5)), event(utc(2024, 1, 6))])
    assert (first.state.event_count, first.state.first_seen, first.state.last_seen) == (
        1,
        utc(2024, 1, 5),
        utc(2024, 1, 5),
    )
    assert (second.state.event_count, second.state.first_seen, second.state.last_seen) == (
        2,
        utc(2024, 1, 5),
        utc(2024, 1, 6),
    )


def test_an_older_imported_event_moves_first_seen_back_but_not_last_seen() -> None:
    *_, late = play([event(utc(2024, 1, 5)), event(utc(2024, 1, 6)), event(utc(2023, 12, 1))])
    assert (late.state.event_count, late.state.first_seen, late.state.last_seen) == (
        3,
        utc(2023, 12, 1),
        utc(2024, 1, 6),
    )


def test_an_event_without_reward_still_counts_as_activity() -> None:
    rule = event_rule(conditions={"field": "minutes", "op": "gte", "value": 5})
    result = play([event(utc(2024, 1, 1))], rule=rule, streaks=[])[0]
    assert result.outcome.rewarded is False
    assert (result.state.event_count, result.state.last_seen) == (1, utc(2024, 1, 1))


def test_a_late_event_filling_a_gap_pays_every_milestone_it_reaches() -> None:
    streak = streak_rule(
        milestones=[{"count": 3, "points": 20, "badge": "on_fire"}, {"count": 5, "points": 50}]
    )
    arrival = [utc(2026, 3, d) for d in (1, 2, 4, 5)] + [utc(2026, 3, 3)]  # day 3 comes last

    results = play([event(at) for at in arrival], streaks=[streak])

    late = results[-1]
    assert [r.outcome.streaks[0].current_count for r in results] == [1, 2, 1, 2, 5]
    assert late.outcome.streaks[0].milestone_reached is True
    assert late.outcome.streaks[0].points_awarded == 70
    assert late.outcome.total_points_awarded == 10 + 70
    assert late.outcome.badges == ("on_fire",)
    assert [line.reason for line in late.ledger][1:] == [
        "streak:daily_app_use:milestone:3",
        "streak:daily_app_use:milestone:5",
    ]


def test_evaluate_carries_every_field_of_the_user_state() -> None:
    # evaluate() builds the next UserState field by field (faster than replace()): a field it
    # does not name would fall back to its default. Name the new field there, then here.
    assert [f.name for f in dataclasses.fields(UserState)] == [
        "user_id",
        "usergroup",
        "timezone",
        "balance",
        "lifetime",
        "streaks",
        "completions",
        "earned",
        "challenges",
        "badges",
        "first_seen",
        "last_seen",
        "event_count",
    ]
