"""Levels follow lifetime points: the table, the level a total reaches, level-ups, validation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine.levels import (
    MAX_LEVELS,
    LevelChange,
    LevelDefinition,
    LevelTable,
    level_change,
    level_for,
    level_table_errors,
)
from rules.errors import InvalidDefinition

LEVELS = [
    {"level": 1, "name": "Bronze", "minPoints": 100},
    {"level": 2, "name": "Silver", "minPoints": 500},
    {"level": 3, "name": "Gold", "minPoints": 2000},
]
TABLE = LevelTable.from_document({"levels": LEVELS})


def levels(*items: dict[str, Any]) -> dict[str, Any]:
    return {"levels": list(items)}


# --- the table ---------------------------------------------------------------------------


def test_the_table_lists_levels_in_ascending_order_whatever_the_document_order() -> None:
    table = LevelTable.from_document({"levels": [LEVELS[2], LEVELS[0], LEVELS[1]]})

    assert table.levels == (
        LevelDefinition(1, "Bronze", 100),
        LevelDefinition(2, "Silver", 500),
        LevelDefinition(3, "Gold", 2000),
    )


def test_an_empty_table_is_valid() -> None:
    assert LevelTable.from_document({"levels": []}) == LevelTable(())


def test_a_stored_table_may_carry_bookkeeping_fields() -> None:
    assert level_table_errors({"levels": LEVELS, "project": "acme", "updatedAt": None}) == {}


# --- level_for ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (0, (0, None)),
        (99, (0, None)),
        (100, (1, "Bronze")),
        (499, (1, "Bronze")),
        (500, (2, "Silver")),
        (1999, (2, "Silver")),
        (2000, (3, "Gold")),
        (10**12, (3, "Gold")),
    ],
)
def test_the_level_is_the_highest_whose_min_points_are_reached(
    points: int, expected: tuple[int, str | None]
) -> None:
    assert level_for(TABLE, points) == expected


def test_a_first_level_from_zero_points_holds_every_user() -> None:
    table = LevelTable.from_document(levels({"level": 1, "name": "Newcomer", "minPoints": 0}))

    assert level_for(table, 0) == (1, "Newcomer")


def test_level_numbers_need_not_be_consecutive() -> None:
    table = LevelTable.from_document(
        levels(
            {"level": 10, "name": "Ten", "minPoints": 0},
            {"level": 20, "name": "Twenty", "minPoints": 50},
        )
    )

    assert [level_for(table, points) for points in (49, 50)] == [(10, "Ten"), (20, "Twenty")]


def test_an_empty_table_puts_everyone_at_level_zero() -> None:
    assert level_for(LevelTable(()), 5000) == (0, None)


# --- level_change ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (0, 50, LevelChange(0, None, False)),
        (50, 100, LevelChange(1, "Bronze", True)),
        (100, 499, LevelChange(1, "Bronze", False)),
        (450, 600, LevelChange(2, "Silver", True)),
        (50, 2500, LevelChange(3, "Gold", True)),
        (2500, 2500, LevelChange(3, "Gold", False)),
        (600, 450, LevelChange(1, "Bronze", False)),
    ],
    ids=[
        "below every level",
        "reaching the first level",
        "within a level",
        "next level",
        "skipping a level",
        "no points",
        "points taken away",
    ],
)
def test_level_change_reports_the_new_level_and_whether_it_went_up(
    before: int, after: int, expected: LevelChange
) -> None:
    assert level_change(TABLE, before, after) == expected


@pytest.mark.parametrize("table", [None, LevelTable(())], ids=["no table", "empty table"])
def test_a_project_without_levels_reports_no_level(table: LevelTable | None) -> None:
    assert level_change(table, 0, 1000) is None


# --- validation --------------------------------------------------------------------------


def with_item(index: int, **fields: Any) -> dict[str, Any]:
    items = [dict(item) for item in LEVELS]
    items[index].update(fields)
    return {"levels": items}


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ({}, "levels"),
        ({"levels": {"1": "Bronze"}}, "levels"),
        ({"levels": [LEVELS[0]] * (MAX_LEVELS + 1)}, "levels"),
        ({"levels": ["Bronze"]}, "levels[0]"),
        (with_item(0, level=0), "levels[0].level"),
        (with_item(0, level=-1), "levels[0].level"),
        (with_item(0, level=True), "levels[0].level"),
        (with_item(0, level=1.0), "levels[0].level"),
        (with_item(0, level="1"), "levels[0].level"),
        (with_item(0, level=None), "levels[0].level"),
        (with_item(2, level=2), "levels[2].level"),
        (with_item(0, minPoints=-1), "levels[0].minPoints"),
        (with_item(0, minPoints=0.5), "levels[0].minPoints"),
        (with_item(0, minPoints=None), "levels[0].minPoints"),
        (with_item(0, minPoints=2**63), "levels[0].minPoints"),
        (with_item(2, minPoints=500), "levels[2].minPoints"),
        (with_item(2, minPoints=400), "levels[2].minPoints"),
        (with_item(1, name=""), "levels[1].name"),
        (with_item(1, name="x" * 65), "levels[1].name"),
        (with_item(1, name=None), "levels[1].name"),
        (with_item(1, name="Sil\nver"), "levels[1].name"),
        (with_item(1, color="silver"), "levels[1].color"),
    ],
)
def test_a_bad_level_table_is_reported_at_its_path(doc: dict[str, Any], path: str) -> None:
    assert list(level_table_errors(doc)) == [path]
    with pytest.raises(InvalidDefinition) as raised:
        LevelTable.from_document(doc)
    assert raised.value.details == level_table_errors(doc)


def test_min_points_must_rise_with_the_level_not_with_the_document_order() -> None:
    doc = levels(
        {"level": 3, "name": "Gold", "minPoints": 50},
        {"level": 1, "name": "Bronze", "minPoints": 0},
        {"level": 2, "name": "Silver", "minPoints": 60},
    )

    assert level_table_errors(doc) == {
        "levels[0].minPoints": ["must be greater than level 2's minPoints (60, levels[2])"]
    }


def test_a_duplicate_level_names_the_item_it_repeats() -> None:
    doc = with_item(2, level=1)

    assert level_table_errors(doc) == {"levels[2].level": ["level 1 is already levels[0]"]}


def test_names_of_64_characters_and_the_maximum_number_of_levels_are_accepted() -> None:
    doc = levels(
        *({"level": n + 1, "name": "x" * 64, "minPoints": n * 10} for n in range(MAX_LEVELS))
    )

    assert level_table_errors(doc) == {}
    assert len(LevelTable.from_document(doc).levels) == MAX_LEVELS


def test_every_bad_item_is_reported_at_once() -> None:
    doc = levels({"level": 0, "name": "", "minPoints": -5}, {"level": 2, "name": "Ok"})

    assert sorted(level_table_errors(doc)) == [
        "levels[0].level",
        "levels[0].minPoints",
        "levels[0].name",
        "levels[1].minPoints",
    ]


def test_a_document_that_is_not_an_object_is_reported_as_the_body() -> None:
    assert level_table_errors([]) == {"body": ["must be an object"]}


# --- properties --------------------------------------------------------------------------


@st.composite
def tables(draw: st.DrawFn) -> LevelTable:
    numbers = draw(st.lists(st.integers(1, 1000), min_size=1, max_size=20, unique=True))
    thresholds = draw(
        st.lists(st.integers(0, 10**6), min_size=len(numbers), max_size=len(numbers), unique=True)
    )
    items = [
        {"level": level, "name": f"L{level}", "minPoints": points}
        for level, points in zip(sorted(numbers), sorted(thresholds), strict=True)
    ]
    return LevelTable.from_document({"levels": draw(st.permutations(items))})


@settings(database=None)
@given(table=tables(), points=st.integers(0, 2 * 10**6), more=st.integers(0, 10**6))
def test_the_level_reached_is_the_highest_level_whose_threshold_is_met(
    table: LevelTable, points: int, more: int
) -> None:
    reached = [d for d in table.levels if d.min_points <= points]
    expected = (reached[-1].level, reached[-1].name) if reached else (0, None)

    assert level_for(table, points) == expected
    change = level_change(table, points, points + more)
    assert change is not None
    assert change.level >= expected[0]
    assert change.level_up is (change.level > expected[0])
