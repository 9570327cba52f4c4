"""core.storable's one walk gives the verdict of the checks it stands for: BSON's encoding (and
its length), the refusal of lookalikes of plain values, and the copy core.fastpath's `_patch`
makes; on random documents mixing plain values with ones the walk leaves to the full checks."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import bson
import mongomock.helpers
import numpy
import pytest
from bson import ObjectId
from bson.errors import InvalidDocument
from hypothesis import given, settings
from hypothesis import strategies as st

from core import fastpath, storable

MOMENT = datetime(2026, 5, 4, 12, 0, 0, 123456)
PLAIN_LEAVES = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63 - 1, -(2**63)]),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
    st.builds(ObjectId),
    st.sampled_from(
        [
            MOMENT,
            MOMENT.replace(microsecond=123000),
            MOMENT.replace(tzinfo=UTC),
            MOMENT.replace(tzinfo=mongomock.helpers.utc),
            MOMENT.replace(tzinfo=UTC, microsecond=0),
        ]
    ),
)
NAMES = st.one_of(st.sampled_from(["a", "_id", "$set", "b.c", ""]), st.text(max_size=4))


class Name(str):
    pass


# What the walk leaves to the full checks: refused ones, and accepted ones it does not know.
IRREGULAR_LEAVES = st.sampled_from(
    [
        numpy.int64(7),
        numpy.float64(7.5),
        numpy.bool_(True),
        Decimal("1.5"),
        date(2024, 1, 1),
        2**63,
        -(2**63) - 1,
        2**70,
        "\ud800",
        b"bytes",
        (1, MOMENT),
        Name("x"),
        MOMENT.replace(tzinfo=timezone(timedelta(hours=2))),
        OrderedDict(a=1),
        bson.Int64(3),
        {"a\0b": 1},
        {1: "a"},
        {"é": MOMENT},
    ]
)


def documents(leaves: Any, names: Any) -> Any:
    values = st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=12), st.dictionaries(names, inner, max_size=4)
        ),
        max_leaves=20,
    )
    return st.dictionaries(names, values, max_size=5)


def typed(value: Any) -> Any:
    """Values with their types spelled out (1 == 1.0 == True in Python, not in BSON)."""
    if isinstance(value, dict):
        return (type(value).__name__, [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(item) for item in value])
    if isinstance(value, float) and value != value:
        return (type(value).__name__, "nan")
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), repr(value.tzinfo))
    return (type(value).__name__, value)


def full_verdict(document: Any) -> Any:
    """What the store's checks answered before the walk: the size, or the error."""
    try:
        size = len(bson.encode(document))
        storable._refuse_lookalikes(document)
    except (InvalidDocument, OverflowError, UnicodeEncodeError) as error:
        return ("refused", type(error), str(error))
    return size


@settings(max_examples=600)
@given(documents(st.one_of(PLAIN_LEAVES, IRREGULAR_LEAVES), NAMES))
def test_the_walk_answers_as_the_full_checks(document: dict[str, Any]) -> None:
    expected = full_verdict(document)
    try:
        [(form, size)] = storable.checked([document])
    except (InvalidDocument, OverflowError, UnicodeEncodeError) as error:
        assert ("refused", type(error), str(error)) == expected
        return
    assert size == expected
    if form is not None:
        assert typed(form) == typed(fastpath._patch(document))
        assert form is not document


@settings(max_examples=300)
@given(documents(PLAIN_LEAVES, NAMES.filter(lambda name: name.isascii() and "\0" not in name)))
def test_plain_documents_are_decided_by_the_walk_alone(document: dict[str, Any]) -> None:
    form, size = storable.stored_form(document)

    assert size == len(bson.encode(document))
    assert typed(form) == typed(fastpath._patch(document))


def test_the_stored_form_shares_no_container_with_the_document() -> None:
    document = {"a": {"b": [1, {"c": MOMENT}]}, "d": []}
    form, _ = storable.stored_form(document)
    document["a"]["b"][1]["c"] = 1
    document["a"]["b"].append(2)
    document["d"].append(3)

    assert form == {"a": {"b": [1, {"c": MOMENT.replace(microsecond=123000)}]}, "d": []}


@pytest.mark.parametrize("count", [0, 1, 9, 10, 11, 99, 100, 101, 1000, 1234])
def test_the_size_of_an_array_counts_the_digits_of_its_indexes(count: int) -> None:
    document = {"items": [None] * count}
    assert storable.stored_form(document)[1] == len(bson.encode(document))
