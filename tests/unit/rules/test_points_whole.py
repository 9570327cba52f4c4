"""rules.engine.points.rule_points in int arithmetic for whole points and a whole group
multiplier: the same points as the decimal arithmetic it stands for, on random rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine.definitions import EventRule
from rules.engine.points import _ONE, _to_points, per_unit_points, rule_points


def decimal_points(rule: EventRule, metadata: dict[str, Any], usergroup: str | None) -> int:
    """rule_points as it was: every step in decimals."""
    rounding = rule.per_unit.rounding if rule.per_unit else "floor"
    base = Decimal(rule.fixed) + per_unit_points(rule, metadata)
    multiplier = rule.multipliers.get(usergroup, _ONE) if usergroup else _ONE
    points = _to_points(base * multiplier, rounding)
    return points if rule.max_per_event is None else min(points, rule.max_per_event)


multipliers = st.one_of(
    st.integers(0, 1000),
    st.decimals(0, 1000, places=2, allow_nan=False, allow_infinity=False).map(float),
)
rules = st.builds(
    lambda fixed, per_unit, groups, most: EventRule.from_document(
        {
            "eventId": "e",
            "points": {
                "fixed": fixed,
                **({"perUnit": per_unit} if per_unit else {}),
                **({"maxPerEvent": most} if most else {}),
            },
            "groupRewards": {group: {"multiplier": m} for group, m in groups.items()},
        }
    ),
    st.integers(0, 2_000_000_000),
    st.none()
    | st.fixed_dictionaries(
        {
            "field": st.just("value"),
            "rate": st.sampled_from([1, 2, 0.5, 0.01, 3.3]),
            "rounding": st.sampled_from(["floor", "round", "ceil"]),
        },
        optional={"max": st.integers(1, 10_000)},
    ),
    st.dictionaries(st.sampled_from(["gold", "silver", "bronze"]), multipliers, max_size=3),
    st.none() | st.integers(1, 1_000_000),
)


@settings(max_examples=300, deadline=None)
@given(
    rule=rules,
    value=st.one_of(st.none(), st.integers(-5, 10**12), st.floats(-5, 1e12, allow_nan=False)),
    usergroup=st.sampled_from([None, "gold", "silver", "bronze", "none"]),
)
def test_whole_points_are_those_of_decimal_arithmetic(
    rule: EventRule, value: float | None, usergroup: str | None
) -> None:
    metadata = {} if value is None else {"value": value}

    assert rule_points(rule, metadata, usergroup) == decimal_points(rule, metadata, usergroup)


def test_a_multiplier_is_whole_only_when_its_value_is() -> None:
    rule = EventRule.from_document(
        {
            "eventId": "e",
            "groupRewards": {
                "a": {"multiplier": 2},
                "b": {"multiplier": 2.0},
                "c": {"multiplier": 1.5},
            },
        }
    )

    assert rule.whole_multipliers == {"a": 2, "b": 2, "c": None}
