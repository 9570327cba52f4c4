"""web.arguments skips the walk for lone surrogates when the body holds no `\\u` escape: a
body webargs parses without one never holds a lone surrogate (its bytes are decoded as strict
UTF-8, which refuses an encoded surrogate)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from webargs.core import parse_json

from web.arguments import ESCAPE, _valid_unicode

# Any code point in keys and values, lone surrogates often.
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=())
# (joined by hand: st.text leaves surrogates out)
TEXT = st.lists(st.characters(exclude_categories=()) | SURROGATES, max_size=6).map("".join)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def encodings(value: Any) -> list[bytes]:
    """The ways a client may send `value`: escaped, or raw UTF-8 (surrogates written as
    their three bytes, which a strict decoder refuses)."""
    raw = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return [json.dumps(value).encode(), raw]


@settings(max_examples=500, deadline=None)
@given(VALUES)
def test_a_body_without_escapes_is_always_valid_unicode(value: Any) -> None:
    for data in encodings(value):
        try:
            body = parse_json(data)
        except ValueError:
            continue  # 400 Invalid JSON, before any walk
        if ESCAPE not in data:
            assert _valid_unicode(body)


def test_a_raw_surrogate_is_invalid_json_to_webargs() -> None:
    data = json.dumps({"platform": "\ud800"}, ensure_ascii=False).encode("utf-8", "surrogatepass")

    assert ESCAPE not in data
    with pytest.raises(ValueError):
        parse_json(data)


def test_the_escape_is_what_json_writes_for_a_lone_surrogate() -> None:
    data = json.dumps({"platform": "\ud800"}).encode()

    assert ESCAPE in data
    assert not _valid_unicode(parse_json(data))
