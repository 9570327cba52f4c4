"""core.sortedsets.encode turns keys and members into bytes as redis-py's own encoder does
(and refuses what it refuses), whatever shortcut it takes for the usual str."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis._parsers.encoders import Encoder
from redis.exceptions import DataError

from core.sortedsets import encode


class Name(str):
    """A str subclass: not the shortcut's exact type."""


# What a redis-py client sends (redis.connection builds its connections' encoder so).
REDIS_PY = Encoder("utf-8", "strict", False)  # type: ignore[no-untyped-call]
values = (
    st.text()
    | st.text().map(Name)
    | st.binary()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
    | st.lists(st.integers(), max_size=2)
)


def outcome(function: Any, value: Any) -> tuple[str, Any]:
    try:
        return "sent", function(value)
    except DataError:
        return "refused", None


@given(values)
def test_encodes_and_refuses_as_redis_py_does(value: Any) -> None:
    assert outcome(encode, value) == outcome(REDIS_PY.encode, value)


@pytest.mark.parametrize("value", ["laurel:lb:{demo}:all", "ü", ""])
def test_a_plain_str_is_its_utf8(value: str) -> None:
    assert encode(value) == value.encode("utf-8")
