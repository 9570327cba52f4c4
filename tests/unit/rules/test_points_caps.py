"""Points a client cannot award itself (issue 19, finding 11), in the pure engine: a rule's
`points.maxPerEvent` and `maxPoints` per period, and a project that takes usergroups from
the support API only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from rules.engine.definitions import EventRule
from rules.engine.evaluation import Evaluation, Event, evaluate
from rules.engine.state import PERIODS_KEPT, PointsTally, UserState

PURCHASE = {
    "eventId": "purchase",
    "points": {"perUnit": {"field": "orderValue", "rate": 2}},
    "groupRewards": {"subscriber": {"multiplier": 2}},
}


def rule(**changes: Any) -> EventRule:
    doc = {**PURCHASE, **changes}
    return EventRule.from_document(doc)


def purchase(at: datetime, order_value: float, **metadata: Any) -> Event:
    return Event("purchase", "u", at, {"orderValue": order_value, **metadata})


def utc(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def play(
    events: Sequence[Event],
    event_rule: EventRule,
    user: UserState | None = None,
    *,
    usergroup_from_metadata: bool = True,
) -> list[Evaluation]:
    state = user or UserState(user_id="u")
    results = []
    for item in events:
        result = evaluate(
            item, event_rule, (), state, usergroup_from_metadata=usergroup_from_metadata
        )
        results.append(result)
        state = result.state
    return results


def awarded(results: Sequence[Evaluation]) -> list[int]:
    return [r.outcome.points_awarded for r in results]


def test_max_per_event_caps_one_event_after_the_group_multiplier() -> None:
    capped = rule(points={**PURCHASE["points"], "maxPerEvent": 150})  # type: ignore[dict-item]

    results = play(
        [
            purchase(utc(1), 10),
            purchase(utc(1), 1000),
            purchase(utc(1), 50, usergroup="subscriber"),
        ],
        capped,
    )

    assert awarded(results) == [20, 150, 150]  # 2000 and 2 * 100 = 200 are cut to 150
    assert results[-1].state.balance == 320


def test_max_points_per_day_cuts_the_event_that_crosses_it_and_refuses_the_next() -> None:
    capped = rule(maxPoints={"amount": 100, "period": "day"})

    results = play(
        [purchase(utc(1, 9), 30), purchase(utc(1, 10), 30), purchase(utc(1, 11), 5)], capped
    )

    assert awarded(results) == [60, 40, 0]
    assert [r.outcome.rewarded for r in results] == [True, True, False]
    assert results[-1].outcome.reason == "limit_reached"
    assert results[-1].state.balance == 100


def test_max_points_starts_again_in_the_next_period() -> None:
    capped = rule(maxPoints={"amount": 100, "period": "day"})

    results = play([purchase(utc(1), 80), purchase(utc(2), 80)], capped)

    assert awarded(results) == [100, 100]


def test_max_points_counts_days_in_the_users_timezone() -> None:
    capped = rule(maxPoints={"amount": 50, "period": "day"})
    berlin = UserState(user_id="u", timezone="Europe/Berlin")

    # 23:30 UTC on the 1st is already the 2nd in Berlin: a new day there.
    results = play(
        [purchase(utc(1, 22), 25), purchase(utc(1, 23) + timedelta(minutes=30), 25)], capped, berlin
    )

    assert awarded(results) == [50, 50]


def test_a_late_event_counts_against_its_own_period() -> None:
    capped = rule(maxPoints={"amount": 100, "period": "day"})

    results = play([purchase(utc(3), 50), purchase(utc(1), 40), purchase(utc(1), 40)], capped)

    assert awarded(results) == [100, 80, 20]


def test_an_event_older_than_the_periods_kept_earns_nothing_from_a_capped_rule() -> None:
    capped = rule(maxPoints={"amount": 100, "period": "day"})
    recent = [purchase(utc(day), 1) for day in range(10, 10 + PERIODS_KEPT + 1)]

    results = play([*recent, purchase(utc(10), 1)], capped)

    assert awarded(results)[:-1] == [2] * len(recent)
    assert results[-1].outcome.points_awarded == 0
    assert results[-1].outcome.reason == "limit_reached"


def test_a_lifetime_cap_never_resets() -> None:
    capped = rule(maxPoints={"amount": 30, "period": "lifetime"})

    results = play([purchase(utc(1), 10), purchase(datetime(2027, 1, 1, tzinfo=UTC), 10)], capped)

    assert awarded(results) == [20, 10]


def test_an_uncapped_rule_keeps_no_tally() -> None:
    results = play([purchase(utc(1), 10)], rule())

    assert results[0].state.earned == {}


def test_the_tally_keeps_the_latest_periods_and_remembers_what_it_dropped() -> None:
    tally = PointsTally()
    for day in range(1, PERIODS_KEPT + 3):
        tally = tally.added(utc(day, 0), day)

    assert len(tally.periods) == PERIODS_KEPT
    assert tally.within(utc(2, 0)) is None
    assert tally.within(utc(PERIODS_KEPT + 2, 0)) == PERIODS_KEPT + 2
    assert tally.dropped_through == utc(2, 0)


def test_usergroup_from_metadata_sets_the_multiplier_by_default() -> None:
    results = play([purchase(utc(1), 10, usergroup="subscriber")], rule())

    assert results[0].state.usergroup == "subscriber"
    assert awarded(results) == [40]


def test_a_project_trusting_only_the_api_ignores_usergroup_in_metadata() -> None:
    results = play(
        [purchase(utc(1), 10, usergroup="subscriber")], rule(), usergroup_from_metadata=False
    )

    assert results[0].state.usergroup is None
    assert awarded(results) == [20]


def test_a_usergroup_set_by_the_api_still_applies_when_metadata_is_ignored() -> None:
    subscriber = UserState(user_id="u", usergroup="subscriber")

    results = play(
        [purchase(utc(1), 10, usergroup="basic")], rule(), subscriber, usergroup_from_metadata=False
    )

    assert results[0].state.usergroup == "subscriber"
    assert awarded(results) == [40]


def test_timezone_in_metadata_is_still_taken_when_usergroup_is_not() -> None:
    results = play(
        [purchase(utc(1), 1, timezone="Asia/Tokyo", usergroup="x")],
        rule(),
        usergroup_from_metadata=False,
    )

    assert (results[0].state.timezone, results[0].state.usergroup) == ("Asia/Tokyo", None)
