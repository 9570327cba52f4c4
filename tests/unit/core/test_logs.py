"""core.logs: request ids, redaction and the two line formats."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core import clock
from core.logs import (
    _SECRETS,
    JsonFormatter,
    TextFormatter,
    accepted_request_id,
    bound_request_id,
    install_record_factory,
    new_request_id,
    redact,
    request_id,
)
from core.settings import ConfigError, Settings

MOMENT = datetime(2027, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJwcm9qZWN0IjoiYWNtZSJ9.c2lnbmF0dXJlLXBhcnQ"


@pytest.mark.parametrize("value", ["a", "A-z_0.9", "x" * 128, "7f9c1e"])
def test_well_formed_request_ids_are_kept(value: str) -> None:
    assert accepted_request_id(value) == value


@pytest.mark.parametrize("value", [None, "", "x" * 129, "a b", "a/b", "ü", "a\nb"])
def test_other_request_ids_are_replaced_by_a_new_one(value: str | None) -> None:
    replaced = accepted_request_id(value)

    assert replaced != value and len(replaced) == 32
    assert accepted_request_id(value) != replaced  # generated afresh each time


def test_tokens_jwts_and_signatures_are_redacted() -> None:
    line = (
        f"Authorization: Bearer {JWT} token={JWT} "
        "X-Laurel-Signature: t=1700000000,v1=" + "ab12" * 16
    )

    cleaned = redact(line)

    assert JWT not in cleaned and "ab12ab12" not in cleaned
    assert cleaned.count("[redacted]") == 3
    assert "t=1700000000,v1=[redacted]" in cleaned
    assert redact("GET /users/ann 200 5ms") == "GET /users/ann 200 5ms"


def redacted_by_every_pattern(text: str) -> str:
    """redact without its shortcut: each secret pattern substituted in turn."""
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
    return text


# Lines made of the pieces secrets are made of, in any case and order.
PIECES = [
    "Bearer ",
    "bEaReR\t",
    "eyJ",
    "EYJ",
    "v1=",
    "V1=",
    "0123456789abcdef",
    "xY9_-",
    ".",
    " ",
    ",",
    "é",
]
lines = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=12).map("".join)


@given(lines)
@example("sig t=1,v1=0123456789abcdef")  # each secret alone on its line
@example("auth: bearer abc")
@example(f"token={JWT}")
def test_redaction_is_every_pattern_substituted_in_turn(line: str) -> None:
    assert redact(line) == redacted_by_every_pattern(line)


@contextmanager
def outside_any_request() -> Iterator[None]:
    token = request_id.set(None)
    try:
        yield
    finally:
        request_id.reset(token)


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    install_record_factory()
    made = logging.getLogger("laurel.test").makeRecord(
        "laurel.test", logging.WARNING, __file__, 1, message, args, None, extra=extra
    )
    return made


def test_a_json_line_carries_the_request_id_bound_when_it_was_logged() -> None:
    with bound_request_id("req-7"), clock.using(clock.frozen(MOMENT)):
        inside = record("user %s", "ann", method="GET", status=200, durationMs=1.5)
    with outside_any_request():
        outside = record("idle")

    line = json.loads(JsonFormatter().format(inside))

    assert line["requestId"] == "req-7" and line["message"] == "user ann"
    assert line["ts"] == "2027-02-03T04:05:06.789+00:00"  # Laurel's clock dates the line
    assert (line["level"], line["logger"]) == ("WARNING", "laurel.test")
    assert (line["method"], line["status"], line["durationMs"]) == ("GET", 200, 1.5)
    assert "path" not in line
    assert json.loads(JsonFormatter().format(outside))["requestId"] is None


def test_a_text_line_shows_the_request_id_or_a_dash() -> None:
    with bound_request_id("req-8"), clock.using(clock.frozen(MOMENT)):
        inside = TextFormatter().format(record("hello %s", f"Bearer {JWT}"))
    with outside_any_request():
        outside = TextFormatter().format(record("hello"))

    assert inside == (
        "2027-02-03 04:05:06.789+00:00 WARNING laurel.test [req-8]: hello Bearer [redacted]"
    )
    assert "laurel.test [-]: hello" in outside


def test_log_format_must_be_text_or_json() -> None:
    assert Settings.from_env({}).log_format == "text"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml"})


@given(st.binary(min_size=16, max_size=16))
def test_new_request_ids_are_uuid4_hex_of_the_same_random_bytes(random: bytes) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "urandom", lambda size: random[:size])
        made, reference = new_request_id(), uuid.uuid4().hex  # uuid4 reads os.urandom(16)

    assert made == reference
    assert uuid.UUID(hex=made).version == 4 and uuid.UUID(hex=made).variant == uuid.RFC_4122
