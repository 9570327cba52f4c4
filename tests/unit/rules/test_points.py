"""Points from an event's own rule: fixed, per unit, group multipliers, schema and caps."""

from __future__ import annotations

from typing import Any

import pytest

from rules.engine.definitions import EventRule
from rules.engine.points import (
    CONDITIONS_NOT_MET,
    LIMIT_REACHED,
    MAX_AWARD,
    Reward,
    check_metadata_schema,
    decide_reward,
    per_unit_points,
    rule_points,
)
from rules.errors import InvalidEvent


def event_rule(**doc: Any) -> EventRule:
    return EventRule.from_document({"eventId": "purchase_completed", **doc})


def per_unit_rule(
    rate: float, rounding: str = "floor", fixed: int = 0, **per_unit: Any
) -> EventRule:
    return event_rule(
        points={
            "fixed": fixed,
            "perUnit": {"field": "orderValue", "rate": rate, "rounding": rounding, **per_unit},
        }
    )


# --- fixed and per unit ------------------------------------------------------------------


def test_fixed_points_are_awarded_whatever_the_metadata() -> None:
    rule = event_rule(points={"fixed": 5})
    assert rule_points(rule, {}, None) == 5
    assert rule_points(rule, {"orderValue": 100}, None) == 5


def test_a_rule_without_points_awards_nothing() -> None:
    assert rule_points(event_rule(), {"orderValue": 100}, None) == 0


def test_per_unit_points_are_rate_times_the_field() -> None:
    assert rule_points(per_unit_rule(2), {"orderValue": 30}, None) == 60


def test_fixed_and_per_unit_points_add_up() -> None:
    assert rule_points(per_unit_rule(2, fixed=5), {"orderValue": 30}, None) == 65


@pytest.mark.parametrize(
    ("value", "rounding", "points"),
    [
        (12.7, "floor", 25),
        (12.7, "round", 25),
        (12.7, "ceil", 26),  # 25.4
        (12.8, "floor", 25),
        (12.8, "round", 26),
        (12.8, "ceil", 26),  # 25.6
        (12.75, "floor", 25),
        (12.75, "round", 26),
        (12.75, "ceil", 26),  # 25.5: half up
        (13, "floor", 26),
        (13, "round", 26),
        (13, "ceil", 26),  # whole
    ],
)
def test_per_unit_rounding(value: float, rounding: str, points: int) -> None:
    assert rule_points(per_unit_rule(2, rounding), {"orderValue": value}, None) == points


@pytest.mark.parametrize(("value", "points"), [(0.5, 1), (2.5, 3), (3.5, 4), (2.4999, 2)])
def test_round_goes_half_up_not_to_even(value: float, points: int) -> None:
    assert rule_points(per_unit_rule(1, "round"), {"orderValue": value}, None) == points


@pytest.mark.parametrize(
    ("value", "rate", "rounding", "points"),
    [
        (1.1, 100, "ceil", 110),  # 1.1 * 100 == 110.00000000000001 in binary floating point
        (0.29, 100, "floor", 29),  # 0.29 * 100 == 28.999999999999996
        (129.99, 2, "floor", 259),
        (129.99, 2, "ceil", 260),
        (1.15, 100, "floor", 115),  # 114.99999999999999
        (0.285, 100, "round", 29),  # 28.499999999999996
    ],
)
def test_per_unit_arithmetic_is_decimal_exact(
    value: float, rate: float, rounding: str, points: int
) -> None:
    assert rule_points(per_unit_rule(rate, rounding), {"orderValue": value}, None) == points


def test_per_unit_points_are_capped_by_max() -> None:
    rule = per_unit_rule(2, fixed=5, max=1000)
    assert per_unit_points(rule, {"orderValue": 2000}) == 1000
    assert rule_points(rule, {"orderValue": 2000}, None) == 1005  # fixed is not capped


def test_per_unit_points_under_max_are_not_changed() -> None:
    assert rule_points(per_unit_rule(2, max=1000), {"orderValue": 499.5}, None) == 999


@pytest.mark.parametrize(
    "metadata",
    [
        {"orderValue": -30},
        {"orderValue": 0},
        {},
        {"orderValue": None},
        {"orderValue": "30"},
        {"orderValue": True},
        {"orderValue": float("nan")},
        {"orderValue": float("inf")},
        {"otherField": 30},
    ],
    ids=["negative", "zero", "missing", "null", "string", "true", "nan", "infinity", "other"],
)
def test_values_that_are_not_positive_numbers_give_no_per_unit_points(
    metadata: dict[str, Any],
) -> None:
    rule = per_unit_rule(2, fixed=5)
    assert per_unit_points(rule, metadata) == 0
    assert rule_points(rule, metadata, None) == 5


# --- group multipliers -------------------------------------------------------------------


def multiplied_rule(rounding: str = "floor", **groups: float) -> EventRule:
    return event_rule(
        points={"fixed": 5, "perUnit": {"field": "orderValue", "rate": 2, "rounding": rounding}},
        groupRewards={group: {"multiplier": m} for group, m in groups.items()},
    )


def test_group_multiplier_applies_to_the_users_group() -> None:
    rule = multiplied_rule(subscriber=2)
    assert rule_points(rule, {"orderValue": 10}, "subscriber") == 50  # (5 + 20) * 2


@pytest.mark.parametrize("usergroup", [None, "free", "Subscriber", ""])
def test_other_groups_get_no_multiplier(usergroup: str | None) -> None:
    rule = multiplied_rule(subscriber=2)
    assert rule_points(rule, {"orderValue": 10}, usergroup) == 25


def test_each_group_gets_its_own_multiplier() -> None:
    rule = multiplied_rule(subscriber=2, vip=3)
    assert rule_points(rule, {"orderValue": 10}, "vip") == 75
    assert rule_points(rule, {"orderValue": 10}, "subscriber") == 50


def test_fractional_multiplier_is_exact_and_rounded_with_the_rules_rounding() -> None:
    assert rule_points(multiplied_rule("floor", partner=1.1), {"orderValue": 0.5}, "partner") == 6
    assert rule_points(multiplied_rule("ceil", partner=1.1), {"orderValue": 0.5}, "partner") == 7


def test_multiplier_on_fixed_points_only_rounds_down() -> None:
    rule = event_rule(points={"fixed": 5}, groupRewards={"subscriber": {"multiplier": 1.5}})
    assert rule_points(rule, {}, "subscriber") == 7


# --- metadataSchema ----------------------------------------------------------------------

SCHEMA_RULE = event_rule(
    points={"fixed": 5},
    metadataSchema={"orderValue": "number", "platform": "string", "firstOrder": "boolean"},
)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("orderValue", "30"),
        ("orderValue", True),
        ("platform", 7),
        ("platform", False),
        ("firstOrder", "yes"),
        ("firstOrder", 1),
    ],
)
def test_metadata_of_another_type_than_declared_is_rejected(field: str, value: Any) -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_metadata_schema(SCHEMA_RULE, {field: value})
    assert list(caught.value.details) == [f"metadata.{field}"]


def test_every_mismatching_field_is_reported() -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_metadata_schema(SCHEMA_RULE, {"orderValue": "30", "platform": 1, "firstOrder": True})
    assert set(caught.value.details) == {"metadata.orderValue", "metadata.platform"}


def test_schema_mismatch_message_names_the_expected_type() -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_metadata_schema(SCHEMA_RULE, {"orderValue": "30"})
    assert "number" in caught.value.details["metadata.orderValue"][0]


def test_metadata_matching_the_schema_is_accepted_and_rewarded() -> None:
    metadata = {"orderValue": 30.5, "platform": "ios", "firstOrder": False, "extra": "x"}
    assert check_metadata_schema(SCHEMA_RULE, metadata) is None
    assert decide_reward(SCHEMA_RULE, metadata, None, 0) == Reward(5, True, None)


@pytest.mark.parametrize(
    "metadata", [{}, {"orderValue": None, "platform": None}], ids=["absent", "null"]
)
def test_null_or_absent_declared_fields_are_accepted(metadata: dict[str, Any]) -> None:
    assert check_metadata_schema(SCHEMA_RULE, metadata) is None
    assert decide_reward(SCHEMA_RULE, metadata, None, 0).points == 5


# --- decide_reward -----------------------------------------------------------------------

CAPPED = event_rule(
    points={"fixed": 5, "perUnit": {"field": "orderValue", "rate": 2}},
    conditions={"all": [{"field": "orderValue", "op": "gte", "value": 20}]},
    maxCompletions={"count": 2, "period": "day"},
)


def test_reward_when_conditions_hold_and_under_the_cap() -> None:
    assert decide_reward(CAPPED, {"orderValue": 20}, None, 1) == Reward(
        points=45, completed=True, reason=None
    )


def test_no_reward_when_conditions_are_not_met() -> None:
    assert decide_reward(CAPPED, {"orderValue": 19}, None, 0) == Reward(
        points=0, completed=False, reason=CONDITIONS_NOT_MET
    )
    assert CONDITIONS_NOT_MET == "conditions_not_met"


def test_no_reward_when_the_cap_is_reached() -> None:
    assert decide_reward(CAPPED, {"orderValue": 50}, None, 2) == Reward(
        points=0, completed=False, reason=LIMIT_REACHED
    )
    assert LIMIT_REACHED == "limit_reached"


def test_conditions_are_reported_before_the_cap() -> None:
    assert decide_reward(CAPPED, {"orderValue": 5}, None, 2).reason == CONDITIONS_NOT_MET


def test_a_rule_without_a_cap_never_reaches_a_limit() -> None:
    rule = event_rule(points={"fixed": 5})
    assert decide_reward(rule, {}, None, 10_000) == Reward(5, True, None)


def test_reward_applies_the_group_multiplier() -> None:
    rule = event_rule(points={"fixed": 5}, groupRewards={"subscriber": {"multiplier": 2}})
    assert decide_reward(rule, {}, "subscriber", 0).points == 10


# --- the ceiling of one award --------------------------------------------------------------


@pytest.mark.parametrize("value", [5e17, 1e30, 1.7e308, 2**63 - 1])
def test_one_award_never_exceeds_the_ceiling(value: float) -> None:
    assert rule_points(per_unit_rule(2), {"orderValue": value}, None) == MAX_AWARD


def test_per_unit_max_applies_even_to_astronomical_values() -> None:
    assert rule_points(per_unit_rule(2, max=1000), {"orderValue": 1e30}, None) == 1000


def test_multiplier_cannot_push_an_award_past_the_ceiling() -> None:
    rule = event_rule(points={"fixed": 900_000_000}, groupRewards={"vip": {"multiplier": 1000}})
    assert rule_points(rule, {}, "vip") == MAX_AWARD


def test_a_completion_worth_zero_points_is_still_a_completion() -> None:
    reward = decide_reward(per_unit_rule(2), {}, None, completions_so_far=0)
    assert reward == Reward(points=0, completed=True, reason=None)
