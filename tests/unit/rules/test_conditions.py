"""The condition language of docs/api.md#rules-admin-api: operators, combinators and validation
paths."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine.conditions import MAX_CHOICES, MAX_DEPTH, MAX_NODES, compile_condition
from rules.engine.definitions import EventRule
from rules.errors import InvalidDefinition


def leaf(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"field": field, "op": op, **extra}
    if value is not None or op in ("eq", "ne"):
        node["value"] = value
    return node


def holds(tree: Any, metadata: dict[str, Any]) -> bool:
    return compile_condition(tree)(metadata)


def errors_of(tree: Any) -> dict[str, Any]:
    with pytest.raises(InvalidDefinition) as caught:
        compile_condition(tree)
    return caught.value.details


# --- operators ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("ios", True),
        ("android", False),
        ("IOS", False),
    ],
)
def test_eq_compares_strings_exactly(actual: str, expected: bool) -> None:
    assert holds(leaf("platform", "eq", "ios"), {"platform": actual}) is expected


def test_eq_treats_int_and_float_of_same_value_as_equal() -> None:
    assert holds(leaf("level", "eq", 3), {"level": 3.0}) is True


@pytest.mark.parametrize(("actual", "expected"), [(True, 1), (1, True), (False, 0), (0, False)])
def test_eq_never_equates_booleans_with_numbers(actual: Any, expected: Any) -> None:
    assert holds(leaf("flag", "eq", expected), {"flag": actual}) is False


def test_eq_true_matches_true() -> None:
    assert holds(leaf("flag", "eq", True), {"flag": True}) is True


def test_eq_null_matches_an_explicit_null() -> None:
    assert holds(leaf("coupon", "eq", None), {"coupon": None}) is True


def test_ne_holds_for_a_different_value_and_not_for_the_same() -> None:
    condition = compile_condition(leaf("platform", "ne", "ios"))
    assert condition({"platform": "android"}) is True
    assert condition({"platform": "ios"}) is False


def test_ne_holds_between_true_and_one() -> None:
    assert holds(leaf("flag", "ne", 1), {"flag": True}) is True


@pytest.mark.parametrize(
    ("op", "actual", "expected"),
    [
        ("gt", 21, True),
        ("gt", 20, False),
        ("gt", 19.5, False),
        ("gte", 20, True),
        ("gte", 20.0, True),
        ("gte", 19.99, False),
        ("lt", 19.99, True),
        ("lt", 20, False),
        ("lt", 21, False),
        ("lte", 20, True),
        ("lte", 20.01, False),
        ("lte", -5, True),
    ],
)
def test_ordering_operators_compare_numbers(op: str, actual: float, expected: bool) -> None:
    assert holds(leaf("orderValue", op, 20), {"orderValue": actual}) is expected


@pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte"])
@pytest.mark.parametrize("actual", [True, False])
def test_ordering_operators_are_false_on_booleans(op: str, actual: bool) -> None:
    # True > 0 and False < 1 in Python; a boolean is not a number here.
    threshold = 0 if op in ("gt", "gte") else 1
    assert holds(leaf("flag", op, threshold), {"flag": actual}) is False


@pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte"])
@pytest.mark.parametrize("actual", ["10", "9", "", "abc"])
def test_ordering_operators_are_false_on_strings(op: str, actual: str) -> None:
    assert holds(leaf("orderValue", op, 9), {"orderValue": actual}) is False


def test_ordering_operators_are_false_on_null() -> None:
    assert holds(leaf("orderValue", "lt", 100), {"orderValue": None}) is False


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("ios", True),
        ("web", True),
        ("android", False),
        (None, False),
    ],
)
def test_in_holds_when_the_value_is_one_of_the_choices(actual: Any, expected: bool) -> None:
    assert holds(leaf("platform", "in", ["ios", "web"]), {"platform": actual}) is expected


def test_in_does_not_match_a_boolean_against_a_number_choice() -> None:
    condition = compile_condition(leaf("tier", "in", [1, 2]))
    assert condition({"tier": True}) is False
    assert condition({"tier": 1}) is True


def test_in_matches_a_null_choice() -> None:
    assert holds(leaf("coupon", "in", [None, "WELCOME"]), {"coupon": None}) is True


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("android", True),
        ("ios", False),
        ("web", False),
        (True, True),
    ],
)
def test_nin_holds_when_the_value_is_none_of_the_choices(actual: Any, expected: bool) -> None:
    assert holds(leaf("platform", "nin", ["ios", "web", 1]), {"platform": actual}) is expected


def test_exists_true_holds_when_the_field_has_a_value() -> None:
    condition = compile_condition(leaf("coupon", "exists", True))
    assert condition({"coupon": "WELCOME"}) is True
    assert condition({"coupon": 0}) is True
    assert condition({"coupon": False}) is True
    assert condition({}) is False


def test_exists_treats_null_as_absent() -> None:
    assert holds(leaf("coupon", "exists", True), {"coupon": None}) is False
    assert holds(leaf("coupon", "exists", False), {"coupon": None}) is True


def test_exists_false_holds_only_when_the_field_is_missing() -> None:
    condition = compile_condition(leaf("coupon", "exists", False))
    assert condition({}) is True
    assert condition({"coupon": "WELCOME"}) is False


def test_exists_without_value_means_exists_true() -> None:
    condition = compile_condition({"field": "coupon", "op": "exists"})
    assert condition({"coupon": "WELCOME"}) is True
    assert condition({}) is False


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (10, True),
        (15.5, True),
        (20, True),
        (9.99, False),
        (20.01, False),
        ("15", False),
        (True, False),
        (None, False),
    ],
)
def test_between_is_inclusive_and_numeric(actual: Any, expected: bool) -> None:
    assert holds(leaf("orderValue", "between", [10, 20]), {"orderValue": actual}) is expected


def test_between_accepts_equal_bounds() -> None:
    condition = compile_condition(leaf("level", "between", [5, 5]))
    assert condition({"level": 5}) is True
    assert condition({"level": 6}) is False


@settings(database=None)
@given(
    actual=st.floats(allow_nan=False, allow_infinity=False),
    low=st.integers(-1000, 1000),
    span=st.integers(0, 1000),
)
def test_between_agrees_with_gte_low_and_lte_high(actual: float, low: int, span: int) -> None:
    high = low + span
    both = {"all": [leaf("x", "gte", low), leaf("x", "lte", high)]}
    assert holds(leaf("x", "between", [low, high]), {"x": actual}) == holds(both, {"x": actual})


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("summer-sale-2024", True),
        ("sale", True),
        ("SALE", False),
        ("winter", False),
        (123, False),
        (None, False),
        (True, False),
    ],
)
def test_contains_finds_a_substring_of_a_string(actual: Any, expected: bool) -> None:
    assert holds(leaf("campaign", "contains", "sale"), {"campaign": actual}) is expected


@pytest.mark.parametrize(
    ("op", "value"),
    [
        ("eq", "ios"),
        ("ne", "ios"),
        ("gt", 1),
        ("gte", 1),
        ("lt", 1),
        ("lte", 1),
        ("in", ["ios"]),
        ("nin", ["ios"]),
        ("between", [1, 2]),
        ("contains", "x"),
    ],
)
def test_a_missing_field_makes_every_leaf_false_except_exists(op: str, value: Any) -> None:
    assert holds(leaf("absent", op, value), {"other": "ios"}) is False


# --- combinators -------------------------------------------------------------------------


def test_all_holds_only_when_every_part_holds() -> None:
    condition = compile_condition(
        {
            "all": [
                leaf("orderValue", "gte", 20),
                leaf("platform", "eq", "ios"),
            ]
        }
    )
    assert condition({"orderValue": 25, "platform": "ios"}) is True
    assert condition({"orderValue": 25, "platform": "web"}) is False
    assert condition({"orderValue": 5, "platform": "ios"}) is False


def test_any_holds_when_one_part_holds() -> None:
    condition = compile_condition(
        {
            "any": [
                leaf("orderValue", "gte", 100),
                leaf("vip", "eq", True),
            ]
        }
    )
    assert condition({"orderValue": 5, "vip": True}) is True
    assert condition({"orderValue": 150}) is True
    assert condition({"orderValue": 5, "vip": False}) is False
    assert condition({}) is False


def test_not_inverts_its_condition() -> None:
    condition = compile_condition({"not": leaf("platform", "eq", "web")})
    assert condition({"platform": "ios"}) is True
    assert condition({"platform": "web"}) is False


def test_not_of_a_leaf_on_a_missing_field_holds() -> None:
    assert holds({"not": leaf("platform", "eq", "web")}, {}) is True


def test_combinators_nest() -> None:
    condition = compile_condition(
        {
            "all": [
                leaf("orderValue", "between", [20, 500]),
                {
                    "any": [
                        leaf("platform", "in", ["ios", "android"]),
                        {"not": leaf("country", "eq", "US")},
                    ]
                },
            ]
        }
    )
    assert condition({"orderValue": 30, "platform": "web", "country": "DE"}) is True
    assert condition({"orderValue": 30, "platform": "web", "country": "US"}) is False
    assert condition({"orderValue": 30, "platform": "ios", "country": "US"}) is True
    assert condition({"orderValue": 10, "platform": "ios", "country": "DE"}) is False


# --- validation --------------------------------------------------------------------------


def test_unknown_operator_is_reported_at_its_path() -> None:
    details = errors_of({"all": [leaf("orderValue", "gte", 20), leaf("x", "bogus", 1)]})
    assert list(details) == ["all[1].op"]


def test_unknown_operator_at_the_root_is_reported_as_op() -> None:
    assert list(errors_of(leaf("x", "like", "a%"))) == ["op"]


def test_every_bad_node_is_reported() -> None:
    details = errors_of(
        {
            "any": [
                leaf("x", "gt", "ten"),
                {"not": leaf("bad-name", "eq", 1)},
                leaf("y", "eq", 1),
            ]
        }
    )
    assert set(details) == {"any[0].value", "any[1].not.field"}


def test_error_details_are_lists_of_messages() -> None:
    details = errors_of(leaf("x", "bogus", 1))
    assert isinstance(details["op"], list)
    assert "eq" in details["op"][0]


@pytest.mark.parametrize("key", ["values", "operator", "Field"])
def test_unknown_leaf_key_is_reported_at_its_path(key: str) -> None:
    details = errors_of({"any": [{**leaf("x", "eq", 1), key: 2}]})
    assert list(details) == [f"any[0].{key}"]


@pytest.mark.parametrize("field", ["", "order-value", "a.b", "x" * 65, 7, None])
def test_bad_field_name_is_reported(field: Any) -> None:
    assert list(errors_of({"field": field, "op": "eq", "value": 1})) == ["field"]


def test_field_name_of_64_characters_is_accepted() -> None:
    name = "f" * 64
    assert holds(leaf(name, "eq", 1), {name: 1}) is True


@pytest.mark.parametrize(
    "op", ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "between", "contains"]
)
def test_value_is_required_except_for_exists(op: str) -> None:
    assert list(errors_of({"field": "x", "op": op})) == ["value"]


@pytest.mark.parametrize(
    ("op", "value"),
    [
        ("eq", [1]),
        ("eq", {"a": 1}),
        ("ne", float("nan")),
        ("gt", "10"),
        ("gte", True),
        ("lt", None),
        ("lte", float("inf")),
        ("in", []),
        ("in", "ios"),
        ("in", [["a"]]),
        ("nin", [{"a": 1}]),
        ("in", list(range(MAX_CHOICES + 1))),
        ("between", [20, 10]),
        ("between", [1]),
        ("between", [1, 2, 3]),
        ("between", ["1", "2"]),
        ("between", [True, 2]),
        ("between", 5),
        ("contains", ""),
        ("contains", 5),
        ("exists", "yes"),
        ("exists", 1),
    ],
)
def test_bad_value_for_the_operator_is_reported(op: str, value: Any) -> None:
    assert list(errors_of({"all": [{"field": "x", "op": op, "value": value}]})) == ["all[0].value"]


def test_in_accepts_the_maximum_number_of_choices() -> None:
    condition = compile_condition(leaf("x", "in", list(range(MAX_CHOICES))))
    assert condition({"x": MAX_CHOICES - 1}) is True
    assert condition({"x": MAX_CHOICES}) is False


@pytest.mark.parametrize("tree", [[], "orderValue > 20", 5, None])
def test_a_node_that_is_not_an_object_is_rejected(tree: Any) -> None:
    assert list(errors_of(tree)) == [""]


def test_a_non_object_inside_a_combinator_is_reported_at_its_index() -> None:
    assert list(errors_of({"all": [leaf("x", "eq", 1), "x == 1"]})) == ["all[1]"]


@pytest.mark.parametrize("operand", [[], {}, leaf("x", "eq", 1), None])
def test_all_and_any_need_a_non_empty_list(operand: Any) -> None:
    assert list(errors_of({"not": {"any": operand}})) == ["not.any"]


def test_a_combinator_must_be_alone_in_its_object() -> None:
    details = errors_of({"all": [{"any": [leaf("x", "eq", 1)], "field": "y"}]})
    assert list(details) == ["all[0]"]


def nested_nots(levels: int) -> dict[str, Any]:
    tree: dict[str, Any] = leaf("x", "eq", 1)
    for _ in range(levels):
        tree = {"not": tree}
    return tree


def test_conditions_may_nest_up_to_the_depth_limit() -> None:
    condition = compile_condition(nested_nots(MAX_DEPTH))  # an even number of nots
    assert condition({"x": 1}) is (MAX_DEPTH % 2 == 0)


def test_conditions_deeper_than_the_limit_are_rejected_at_the_too_deep_node() -> None:
    assert list(errors_of(nested_nots(MAX_DEPTH + 1))) == [".".join(["not"] * (MAX_DEPTH + 1))]


def test_conditions_may_hold_up_to_the_node_limit() -> None:
    tree = {"any": [leaf("x", "eq", i) for i in range(MAX_NODES - 1)]}  # + the any node
    condition = compile_condition(tree)
    assert condition({"x": MAX_NODES - 2}) is True
    assert condition({"x": MAX_NODES - 1}) is False


def test_conditions_with_more_nodes_than_the_limit_are_rejected_once() -> None:
    tree = {"any": [leaf("x", "eq", i) for i in range(MAX_NODES + 5)]}
    details = errors_of(tree)
    assert list(details) == [f"any[{MAX_NODES - 1}]"]
    assert str(MAX_NODES) in details[f"any[{MAX_NODES - 1}]"][0]


def test_event_rule_reports_condition_errors_under_conditions() -> None:
    with pytest.raises(InvalidDefinition) as caught:
        EventRule.from_document(
            {
                "eventId": "purchase",
                "conditions": {"all": [leaf("orderValue", "gte", 20), leaf("x", "bogus", 1)]},
            }
        )
    assert list(caught.value.details) == ["conditions.all[1].op"]


def test_event_rule_reports_a_non_object_condition_as_conditions() -> None:
    with pytest.raises(InvalidDefinition) as caught:
        EventRule.from_document({"eventId": "purchase", "conditions": "x > 1"})
    assert list(caught.value.details) == ["conditions"]
