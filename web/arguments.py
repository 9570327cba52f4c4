"""How views read their arguments: webargs' parser with Laurel's rules for JSON bodies.

Invalid input is 400 `validation_error` (webargs says 422); a body must be present, sent as
JSON, and hold only strings any database can store.
"""

from __future__ import annotations

from typing import Any

from flask import Request
from flask_smorest import abort
from webargs.flaskparser import FlaskParser, is_json_request


class ArgumentsParser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # the brief's code for invalid data (webargs says 422)

    def _raw_load_json(self, req: Request) -> Any:
        # Every documented body is required, but webargs loads a missing one as {}: a bare
        # `PUT /admin/events/x` would replace the definition with the defaults.
        if not req.get_data(cache=True):
            abort(400, errors={"body": ["a JSON body is required"]})
        # webargs ignores a body sent without a JSON Content-Type, which turns a forgotten
        # `-H "Content-Type: application/json"` into baffling "missing field" errors.
        if not is_json_request(req):
            abort(400, errors={"Content-Type": ["must be application/json"]})
        try:
            body = super()._raw_load_json(req)
        except (ValueError, RecursionError):  # a 5,000-digit number, 7,000 nested arrays
            abort(400, errors={"body": ["Invalid JSON body."]})
        if not _valid_unicode(body):
            abort(400, errors={"body": ["strings must be valid Unicode (no lone surrogates)"]})
        return body


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
