"""Request lines and headers too large for Laurel, answered in the error envelope whichever
layer notices first.

Three layers can refuse an oversized request:
- Flask (`check_request_size`): a target longer than MAX_TARGET bytes is 414, a header
  field longer than MAX_HEADER_FIELD bytes or more than MAX_HEADER_FIELDS fields is 431. The
  limits match gunicorn's (web.serving), so both servers draw the line at the same place.
- werkzeug's development server (`make run`) refuses lines over 64 KiB and more than 100
  headers before the app sees them; `EnvelopeRequestHandler` makes it answer in the envelope.
- gunicorn (`make serve`) refuses a request line over its `limit_request_line` and fields
  over its limits before the app sees them; web.serving makes it answer with
  `envelope_bytes` too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, request
from flask_smorest import abort
from werkzeug.serving import WSGIRequestHandler

from web.context import request_context

MAX_TARGET = 8190 - len("DELETE  HTTP/1.1")  # gunicorn's largest request line, less the rest
MAX_HEADER_FIELD = 16384  # bytes of one header line (name, colon, value)
MAX_HEADER_FIELDS = 100

CODES = {414: "uri_too_long", 431: "headers_too_large"}


def envelope_bytes(status: int, message: str) -> bytes:
    """The error envelope's JSON for a refusal made outside Flask."""
    code = CODES.get(status) or HTTPStatus(status).name.lower()
    error = {"code": code, "message": message, "details": {}}
    return json.dumps({"success": False, "error": error}).encode()


def init_request_size_checks(app: Flask) -> None:
    app.before_request(check_request_size)


def check_request_size() -> None:
    current = request_context().request
    environ = current.environ
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or current.path
    if len(target) > MAX_TARGET:
        abort(414, message=f"The request target is longer than {MAX_TARGET} bytes")
    if headers_fit(environ):
        return
    headers = list(request.headers.items())
    if len(headers) > MAX_HEADER_FIELDS:
        abort(431, message=f"More than {MAX_HEADER_FIELDS} header fields")
    for name, value in headers:
        if len(name) + len(value) + 2 > MAX_HEADER_FIELD:
            abort(431, message=f"The {name} header is longer than {MAX_HEADER_FIELD} bytes")


_SHADOWED = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"})
_BODY_FIELDS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


def headers_fit(environ: Mapping[str, Any]) -> bool:
    """Whether the request's header fields are within the limits, read from the WSGI environ
    as werkzeug's `EnvironHeaders` reads them (HTTP_* keys but the two it skips, CONTENT_*
    ones when set) without building each field's name: an ASCII key is as long as the name
    made of it. False when unsure (a non-ASCII key, a value not a str): the caller then reads
    `request.headers`, as it does to name the field it refuses."""
    fields = 0
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            if key in _SHADOWED:
                continue
            name = len(key) - len("HTTP_")
        elif key in _BODY_FIELDS and value:
            name = len(key)
        else:
            continue
        fields += 1
        if type(value) is not str or not key.isascii() or name + len(value) + 2 > MAX_HEADER_FIELD:
            return False
    return fields <= MAX_HEADER_FIELDS


class EnvelopeRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, answering the errors it raises itself (request line or
    header too long, too many headers, malformed request) in the error envelope, and leaving
    the access log to the app."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        body = envelope_bytes(code, message or HTTPStatus(code).phrase)
        self.log_error("code %d, message %s", code, message)
        self.send_response(code, message)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)
        self.close_connection = True

    def log_error(self, format: str, *args: Any) -> None:  # http.server's names
        self.log("error", format, *args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No line of werkzeug's per request: Laurel's access log (web.observability) has one
        for every answer of the app, with its request id, duration and project, so werkzeug's
        said each request a second time. (The access log writes health checks and metrics
        scrapes at DEBUG, so at LOG_LEVEL=INFO they now leave no line.) What the handler
        refuses itself is logged by `log_error`, and an exception escaping the app by
        werkzeug's "Error on request"."""
