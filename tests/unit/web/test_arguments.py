"""web.arguments skips the walk for lone surrogates when the body holds no `\\u` escape: a
body webargs parses without one never holds a lone surrogate (its bytes are decoded as strict
UTF-8, which refuses an encoded surrogate)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask, request
from hypothesis import given, settings
from hypothesis import strategies as st
from webargs.core import parse_json
from webargs.flaskparser import is_json_request
from werkzeug.exceptions import HTTPException

from web.arguments import ESCAPE, ArgumentsParser, _json_content_type, _valid_unicode

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


# Content types as clients write them: JSON ones in any case, with parameters and spaces,
# others, and odd ones.
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=UTF-8",
            " application/json",
            "application/json ",
            "application/vnd.api+json",
            "application/problem+json; q=1",
            "application/jsonx",
            "text/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
            ";",
            "application/",
        ]
    ),
    st.text(st.sampled_from("application/json+;= ctx"), max_size=24),
)


@settings(max_examples=400, deadline=None)
@given(content_type=st.none() | CONTENT_TYPES)
def test_json_content_type_answers_as_webargs_is_json_request(content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    with Flask(__name__).test_request_context("/event", method="POST", headers=headers):
        assert _json_content_type(request) == is_json_request(request)


def test_json_content_type_accepts_json_and_refuses_the_rest() -> None:
    app = Flask(__name__)
    for content_type, expected in (("application/json", True), ("text/plain", False)):
        with app.test_request_context("/", method="POST", headers={"Content-Type": content_type}):
            assert _json_content_type(request) is expected


@pytest.mark.parametrize(
    ("content_type", "data", "expected"),
    [
        ("application/json", b'{"eventId": "daily_login", "userId": "u1"}', None),
        ("application/json; charset=utf-8", b'[1, {"a": "\\u00e9"}]', None),
        ("text/plain", b'{"a": 1}', 400),
        ("application/json", b"", 400),
        ("application/json", b'{"a": "\\ud800"}', 400),
        ("application/json", b"{nope", 400),
    ],
)
def test_the_body_reads_the_same_through_the_proxy_and_the_request(
    content_type: str, data: bytes, expected: int | None
) -> None:
    def answer(req: Any) -> Any:
        try:
            return ArgumentsParser()._raw_load_json(req)
        except HTTPException as refusal:
            return refusal.code, getattr(refusal, "data", None)

    with Flask(__name__).test_request_context(
        "/", method="POST", data=data, headers={"Content-Type": content_type}
    ):
        through_proxy = answer(request)
        assert answer(request._get_current_object()) == through_proxy  # type: ignore[attr-defined]
    if expected is None:
        assert through_proxy == json.loads(data)
    else:
        assert through_proxy[0] == expected
