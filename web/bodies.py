"""Request bodies read once, before anything else looks at them: size judged on the bytes
actually received, JSON nesting judged before any parser recurses into it.

Why before the rate limiter: a batch costs one hit per event (web.ratelimit), so the limiter
needs the body. Reading it here first means
- a chunked body (no Content-Length) is measured like any other: over the limit is 413, never
  silently cut at the limit and parsed (werkzeug stops reading a chunked stream at
  `max_content_length` without saying so);
- a body nested deeper than MAX_JSON_DEPTH is 400 before `json.loads` can hit Python's
  recursion limit — inside the limiter, that error used to look like a storage outage;
- the limiter's key and cost functions only read what is stored on `g` here, so they cannot
  raise, and the limiter's in-memory fallback is entered only when its storage fails.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, g, request
from flask_smorest import abort
from werkzeug.exceptions import HTTPException

from web.context import app_context, request_context

# Deeper than any document of the contract (a condition tree is the deepest, and it is
# bounded well below this), far below the interpreter's recursion limit.
MAX_JSON_DEPTH = 32
METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_body_checks(app: Flask) -> None:
    """Register the check; call it before init_rate_limits so that it runs first (which
    registers `refuse_bad_body` after the limiter)."""
    app.before_request(read_body)


def read_body() -> None:
    """Read the request body within its limit and judge its nesting. A refusal (413 when the
    body is larger than the endpoint's limit, whether Content-Length says so or the chunks
    do; 400 when it nests deeper than MAX_JSON_DEPTH) is kept for `refuse_bad_body`, so that
    the limiter counts the request first like any other."""
    try:
        _read_body()
    except HTTPException as refusal:
        app_context().g.body_refusal = refusal


def refuse_bad_body() -> None:
    refusal: HTTPException | None = app_context().g.get("body_refusal")
    if refusal is not None:
        raise refusal


def _read_body() -> None:
    current = request_context().request
    if current.method not in METHODS_WITH_BODY:
        return
    data = current.get_data(cache=True)  # 413 at once when Content-Length is over the limit
    limit = current.max_content_length
    # (Content-Length, a header read, asked last: only a body as long as the limit needs it)
    if limit is not None and len(data) >= limit and current.content_length is None:
        # werkzeug stopped at the limit: anything left on the wire means the body was bigger.
        if current.environ["wsgi.input"].read(1):
            abort(413, message=f"Request body larger than {limit} bytes")
    if not data:
        return
    if nests_too_deep(data):
        abort(400, errors={"body": [f"JSON may nest at most {MAX_JSON_DEPTH} levels deep"]})
    app_context().g.body_checked = True


def parsed_body() -> Any:
    """The body's JSON value once read_body passed it, or None (no body, invalid JSON): the
    view's parser answers those with its own message. Never raises."""
    if not g.get("body_checked"):
        return None
    if "json_body" not in g:
        try:
            g.json_body = json.loads(request.get_data(cache=True))
        except Exception:  # noqa: BLE001 — whatever it is, the view's parser reports it
            g.json_body = None
    return g.json_body


def nests_too_deep(data: bytes) -> bool:
    """Whether `data` nests deeper than MAX_JSON_DEPTH (`json_depth(data) > MAX_JSON_DEPTH`).
    Each level opens a bracket, so a body holding no more opening brackets than the limit,
    inside strings or not (the usual event: two), cannot nest deeper; only others are walked."""
    if data.count(b"{") + data.count(b"[") <= MAX_JSON_DEPTH:
        return False
    return json_depth(data) > MAX_JSON_DEPTH


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest in `data`, counted without parsing it (brackets
    inside strings do not count). Works on invalid JSON too: the parser judges that later."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b"", data)):
        if bracket in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
