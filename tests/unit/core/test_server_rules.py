"""The in-memory store refuses what a MongoDB 6 server refuses and mongomock lets through
(issue 14, item 7): hints naming no index, and field names a server will not store there."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import OperationFailure, WriteError

from core import server_rules
from core.inmemory import in_memory_database
from core.server_rules import check_update


@pytest.fixture
def items() -> Any:
    collection = in_memory_database("strict")["items"]
    collection.create_indexes(
        [IndexModel([("project", ASCENDING), ("at", DESCENDING)], name="project_at")]
    )
    collection.insert_one({"_id": 1, "project": "p", "at": 1, "points": {"balance": 0}})
    return collection


MISSING_HINTS = [
    pytest.param(lambda c: list(c.find({"project": "p"}).hint("nope")), id="cursor.hint"),
    pytest.param(lambda c: list(c.find({"project": "p"}, hint="nope")), id="find(hint=)"),
    pytest.param(lambda c: c.count_documents({"project": "p"}, hint="nope"), id="count"),
    pytest.param(
        lambda c: c.aggregate([{"$match": {"project": "p"}}], hint="nope"), id="aggregate"
    ),
    pytest.param(
        lambda c: list(c.find({}).hint([("at", ASCENDING)])), id="key-pattern-of-no-index"
    ),
]


@pytest.mark.parametrize("query", MISSING_HINTS)
def test_a_hint_naming_no_index_is_refused(items: Any, query: Any) -> None:
    with pytest.raises(OperationFailure, match="hint provided does not correspond") as refused:
        query(items)

    assert refused.value.code == 2


def test_a_hint_naming_an_index_by_name_or_key_pattern_is_taken(items: Any) -> None:
    by_name = list(items.find({"project": "p"}).hint("project_at"))
    by_keys = list(items.find({"project": "p"}).hint([("project", 1), ("at", -1)]))
    by_id = list(items.find({}).hint("_id_"))

    assert [d["_id"] for d in by_name + by_keys + by_id] == [1, 1, 1]


def test_a_replacement_with_a_dollar_prefixed_top_level_field_is_refused(items: Any) -> None:
    with pytest.raises(WriteError) as refused:
        items.replace_one({"_id": 1}, {"project": "p", "$where": "x"})

    assert refused.value.code == 52
    assert items.find_one({"_id": 1})["project"] == "p"


REFUSED_UPDATES = [
    pytest.param({"$set": {"$hotel": 1}}, 52, id="dollar-prefixed-top-level-path"),
    pytest.param({"$set": {"points..balance": 1}}, 56, id="empty-field-in-path"),
    pytest.param({"$set": {"points.": 1}}, 56, id="trailing-dot"),
    pytest.param(
        {"$set": {"points": {"balance": 1}}, "$inc": {"points.balance": 1}},
        40,
        id="path-inside-another",
    ),
    pytest.param({"$set": {"at": 2}, "$setOnInsert": {"at": 3}}, 40, id="same-path-twice"),
]


@pytest.mark.parametrize(("update", "code"), REFUSED_UPDATES)
def test_an_update_path_a_server_refuses_is_refused(
    items: Any, update: dict[str, Any], code: int
) -> None:
    with pytest.raises(WriteError) as refused:
        items.update_one({"_id": 1}, update)

    assert refused.value.code == code
    assert items.find_one({"_id": 1})["at"] == 1


def test_paths_a_server_takes_are_taken(items: Any) -> None:
    items.update_one(
        {"_id": 1},
        {"$set": {"points.balance": 5, "points.lifetime": 5}, "$inc": {"at": 1}},
    )

    stored = items.find_one({"_id": 1})
    assert stored["points"] == {"balance": 5, "lifetime": 5} and stored["at"] == 2


@pytest.mark.parametrize("path", ["tags.$", "tags.$[]", "tags.$[item].n", "address.$street"])
def test_positional_and_nested_dollar_paths_are_a_servers_to_take(path: str) -> None:
    assert check_update({"$set": {path: 1}}) is None


def _first_conflict(update: dict[str, dict[str, int]]) -> str | None:
    """The rule by its definition: the first path that is, holds or lies inside one before it."""
    seen: list[list[str]] = []
    for changes in update.values():
        for path in changes:
            parts = path.split(".")
            for other in seen:
                shorter = min(len(other), len(parts))
                if other[:shorter] == parts[:shorter]:
                    return f"'{path}' would create a conflict at '{'.'.join(parts[:shorter])}'"
            seen.append(parts)
    return None


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["$set", "$inc", "$unset"]),
        st.dictionaries(
            st.lists(st.sampled_from(["a", "b", "ab"]), min_size=1, max_size=3).map(".".join),
            st.just(1),
            max_size=4,
        ),
        max_size=3,
    )
)
def test_conflicting_paths_are_found_as_their_definition_says(
    update: dict[str, dict[str, int]],
) -> None:
    expected = _first_conflict(update)
    try:
        check_update(update)
    except WriteError as error:
        assert error.code == 40 and expected is not None and expected in str(error)
    else:
        assert expected is None


def _outcome(check: Any, update: Any) -> Any:
    try:
        check(update)
    except WriteError as error:
        return (error.code, str(error))
    return None


class Path(str):
    def __str__(self) -> str:
        return "$" + self


# Names of every kind the quick look of `check_update` must hand to the full walk.
UPDATE_NAMES = st.sampled_from(["a", "b", "ab", "", "$a", "a$", "a.b", "a..b", ".a", 1, Path("c")])


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["$set", "$inc", "$unset"]),
        st.dictionaries(UPDATE_NAMES, st.just(1), max_size=4) | st.just(1),
        max_size=3,
    )
)
def test_the_quick_look_at_an_update_answers_as_the_walk_of_every_path(
    update: dict[str, Any],
) -> None:
    assert _outcome(check_update, update) == _outcome(server_rules._check_paths, update)
