"""web.bodies judges nesting without walking a body that holds too few brackets to nest too
deep: the answer is always the walk's (`json_depth(data) > MAX_JSON_DEPTH`)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from web.bodies import MAX_JSON_DEPTH, json_depth, nests_too_deep

# Strings full of brackets and escapes: they must never count as nesting.
TEXT = st.text(st.sampled_from('[]{}"\\ab'), max_size=8)
VALUES = st.recursive(
    st.none() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=40,
)


def wrapped(value: Any, depth: int) -> Any:
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@settings(max_examples=500, deadline=None)
@given(value=VALUES, depth=st.integers(0, MAX_JSON_DEPTH + 3))
def test_nests_too_deep_answers_as_the_walk_on_json(value: Any, depth: int) -> None:
    data = json.dumps(wrapped(value, depth)).encode()
    assert nests_too_deep(data) == (json_depth(data) > MAX_JSON_DEPTH)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80) | st.text(st.sampled_from('[]{}"\\x'), max_size=80).map(str.encode))
def test_nests_too_deep_answers_as_the_walk_on_any_bytes(data: bytes) -> None:
    assert nests_too_deep(data) == (json_depth(data) > MAX_JSON_DEPTH)


def test_the_limit_is_drawn_where_the_walk_draws_it() -> None:
    at_limit = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    over = b"[" + at_limit + b"]"
    in_strings = json.dumps(["[" * 100, "{" * 100]).encode()

    assert not nests_too_deep(at_limit)
    assert nests_too_deep(over)
    assert not nests_too_deep(in_strings)
