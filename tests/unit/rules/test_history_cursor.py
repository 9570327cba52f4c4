"""History cursors: opaque tokens of a place in the history's order."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.usecases.history import MAX_MILLIS, Position

OBJECT_IDS = st.binary(min_size=12, max_size=12).map(bytes.hex)


@given(millis=st.integers(0, MAX_MILLIS - 1), item_id=OBJECT_IDS, kind=st.sampled_from([0, 1]))
def test_a_token_reads_back_as_its_position(millis: int, item_id: str, kind: int) -> None:
    position = Position(millis, kind, item_id if kind else f"{item_id}:3")

    token = position.token()

    assert Position.from_token(token) == position
    assert "=" not in token and "/" not in token and "+" not in token


def test_events_come_before_points_of_the_same_millisecond() -> None:
    event = Position(5, 1, "b" * 24)
    points = Position(5, 0, "f" * 24 + ":0")

    assert sorted([points, event, Position(6, 0, "a")], reverse=True) == [
        Position(6, 0, "a"),
        event,
        points,
    ]


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'{"t": "1", "k": "event", "i": "x"}').decode(),
        base64.urlsafe_b64encode(b'{"t": 1, "k": "badge", "i": "x"}').decode(),
        base64.urlsafe_b64encode(b'{"t": true, "k": "points", "i": "x"}').decode(),
        base64.urlsafe_b64encode(b'{"t": 1, "k": "event", "i": "not-an-id"}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        # Instants no timestamp can have (they used to overflow into a 500).
        base64.urlsafe_b64encode(b'{"t": 100000000000000000000, "k": "points", "i": "x"}').decode(),
        base64.urlsafe_b64encode(b'{"t": -1, "k": "points", "i": "x"}').decode(),
    ],
)
def test_anything_else_is_refused(token: str) -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        Position.from_token(token)
