"""How views read their arguments: webargs' parser with Laurel's rules for JSON bodies.

Invalid input is 400 `validation_error` (webargs says 422); a body must be present, sent as
JSON, and hold only strings any database can store.
"""

from __future__ import annotations

from typing import Any

from flask import Request
from flask_smorest import abort
from webargs.core import parse_json
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.local import LocalProxy

ESCAPE = b"\\u"  # how JSON writes a code point by number (`\ud800`)


class ArgumentsParser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # the brief's code for invalid data (webargs says 422)

    def _raw_load_json(self, req: Request) -> Any:
        # webargs hands over Flask's `request` proxy: each read through it costs calls.
        if isinstance(req, LocalProxy):
            req = req._get_current_object()
        data = req.get_data(cache=True)
        # Every documented body is required, but webargs loads a missing one as {}: a bare
        # `PUT /admin/events/x` would replace the definition with the defaults.
        if not data:
            abort(400, errors={"body": ["a JSON body is required"]})
        # webargs ignores a body sent without a JSON Content-Type, which turns a forgotten
        # `-H "Content-Type: application/json"` into baffling "missing field" errors.
        if not _json_content_type(req):
            abort(400, errors={"Content-Type": ["must be application/json"]})
        try:
            # What FlaskParser._raw_load_json returns for a JSON request, from the bytes
            # read above.
            body = parse_json(data)
        except (ValueError, RecursionError):  # a 5,000-digit number, 7,000 nested arrays
            abort(400, errors={"body": ["Invalid JSON body."]})
        # parse_json decodes the bytes as strict UTF-8, which refuses an encoded surrogate:
        # a lone one can only come from a `\u` escape, so a body without any is valid.
        if ESCAPE in data and not _valid_unicode(body):
            abort(400, errors={"body": ["strings must be valid Unicode (no lone surrogates)"]})
        return body


JSON_CONTENT_TYPE = "application/json"


def _json_content_type(req: Request) -> bool:
    """webargs' `is_json_request(req)`, answered without parsing the Content-Type when it is
    exactly what every client of the API sends (its mimetype is then that, which is JSON)."""
    return req.environ.get("CONTENT_TYPE") == JSON_CONTENT_TYPE or is_json_request(req)


def _valid_unicode(body: Any) -> bool:
    """JSON may escape lone surrogates ("\\ud800"), which no database can store as UTF-8.

    Walks with an explicit stack: any depth the JSON parser accepted is fine here.
    """
    pending = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            try:
                value.encode()
            except UnicodeEncodeError:
                return False
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return True
