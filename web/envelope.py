"""The response envelope (DESIGN §3), produced here and nowhere else.

Success: `{"success": true, "data": ...}` — the Blueprint below wraps every documented
response. Errors: `{"success": false, "error": {"code", "message", "details"}}` — for HTTP
errors (the Api below), domain errors of rules/ and unexpected exceptions alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from http import HTTPStatus
from typing import Any

import flask_smorest
from flask import Flask, Request, Response, jsonify
from flask_smorest import abort
from marshmallow import Schema, fields
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    ExecutionTimeout,
    PyMongoError,
    WriteConcernError,
)
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException

from rules.errors import (
    DefinitionNotFound,
    EventNotFound,
    IdempotencyConflict,
    ImportNotAllowed,
    InsufficientBalance,
    InvalidDefinition,
    InvalidEvent,
    RulesError,
    UpdateContention,
    UserNotFound,
)
from web.schemas.fields import ResponseSchema

log = logging.getLogger(__name__)

ERROR_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "idempotency_conflict",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal_error",
    503: "unavailable",
}

DOMAIN_ERRORS: dict[type[RulesError], tuple[int, str]] = {
    EventNotFound: (404, "event_not_found"),
    DefinitionNotFound: (404, "not_found"),
    InvalidEvent: (400, "validation_error"),
    ImportNotAllowed: (403, "forbidden"),
    InvalidDefinition: (400, "validation_error"),
    UpdateContention: (503, "unavailable"),
    IdempotencyConflict: (422, "idempotency_conflict"),
    UserNotFound: (404, "not_found"),
    InsufficientBalance: (400, "validation_error"),
}

RETRY_SOON = {"Retry-After": "1"}


class ErrorSchema(ResponseSchema):
    code = fields.String(metadata={"description": "Machine-readable error code"})
    message = fields.String(metadata={"description": "What went wrong, for people"})
    details = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "Always an object: messages by the field they are about, keyed by its "
            "path (`metadata.orderValue`, `events[3].userId`), `body` for the body as a whole or "
            "a header name; `{}` when the error is about no field",
            "example": {"metadata": ["may hold at most 10 fields"]},
        },
    )


class ErrorEnvelopeSchema(ResponseSchema):
    success = fields.Boolean(metadata={"description": "Always false"})
    error = fields.Nested(ErrorSchema)


def error_response(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    response = jsonify(
        {
            "success": False,
            "error": {"code": code, "message": message, "details": dict(details or {})},
        }
    )
    response.status_code = status
    response.headers.update(headers or {})
    return response


def flatten_messages(messages: Any, path: str = "") -> dict[str, list[str]]:
    """{"metadata": {"k": ["bad"]}} → {"metadata.k": ["bad"]}; list indexes as `[i]`."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, inner in messages.items():
            if isinstance(key, int):
                child = f"{path}[{key}]"
            elif not key or key == "_schema":
                child = path
            else:
                child = f"{path}.{key}" if path else str(key)
            for where, texts in flatten_messages(inner, child).items():
                flat.setdefault(where, []).extend(texts)
        return flat
    texts = messages if isinstance(messages, list) else [messages]
    return {path or "body": [str(text) for text in texts]}


def _summary(details: Mapping[str, list[str]], fallback: str) -> str:
    parts = [f"{path}: {texts[0]}" for path, texts in list(details.items())[:3] if texts]
    return "; ".join(parts) or fallback


@dataclass(frozen=True)
class ErrorInfo:
    status: int
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message, self.details, self.headers)


def describe_error(error: BaseException) -> ErrorInfo:
    """What the client is told about `error`: one mapping for views, handlers and batches."""
    if isinstance(error, HTTPException):
        return _describe_http_exception(error)
    if isinstance(error, RulesError):
        status, code = next(
            (v for k, v in DOMAIN_ERRORS.items() if isinstance(error, k)), (400, "validation_error")
        )
        headers = RETRY_SOON if status == 503 else {}
        # Every error's details take one shape: {path: [messages]} (see ErrorSchema).
        details = flatten_messages(error.details) if error.details else {}
        return ErrorInfo(status, code, error.message, details, dict(headers))
    if database_unavailable(error):
        log.warning("MongoDB is unreachable: %s", error)
        return ErrorInfo(
            503, "unavailable", "The database is unreachable; retry later", headers=RETRY_SOON
        )
    log.error("unhandled error", exc_info=error)
    return ErrorInfo(500, "internal_error", "Internal server error")


def database_unavailable(error: BaseException) -> bool:
    """MongoDB could not do it now, and the same request may succeed later: no primary
    (NotPrimaryError, AutoReconnect), unreachable or too slow (network, server selection and
    operation timeouts), or a write the majority did not confirm (WriteConcernError, also
    inside a BulkWriteError). None of these means the request was wrong, so 503, not 500."""
    if isinstance(error, ConnectionFailure | WriteConcernError | ExecutionTimeout):
        return True
    if isinstance(error, BulkWriteError) and error.details.get("writeConcernErrors"):
        return True
    return isinstance(error, PyMongoError) and error.timeout


def describe_invalid(messages: Any) -> ErrorInfo:
    """A 400 for marshmallow's messages of a body validated outside webargs (batch items)."""
    details = flatten_messages(messages)
    return ErrorInfo(400, "validation_error", _summary(details, "Invalid input"), details)


def _describe_http_exception(error: HTTPException) -> ErrorInfo:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if error.response is None:
        headers.update(dict(error.get_headers()))
    headers.pop("Content-Type", None)
    details: dict[str, Any] = {}
    raw = data.get("errors", data.get("messages"))
    if raw:
        # webargs nests body errors under the location ("json"); the client sent a body.
        details = flatten_messages(raw.get("json", raw) if isinstance(raw, Mapping) else raw)
    default_message = error.description or HTTPStatus(status).phrase
    message = data.get("message") or _summary(details, default_message)
    code = data.get("code") or ERROR_CODES.get(status) or HTTPStatus(status).name.lower()
    return ErrorInfo(status, code, message, details, headers)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorEnvelopeSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        return describe_error(error).response()


def register_error_handlers(app: Flask) -> None:
    def described(error: Exception) -> Response:
        return describe_error(error).response()

    app.register_error_handler(RulesError, described)
    app.register_error_handler(ConnectionFailure, described)
    app.register_error_handler(Exception, described)


@cache
def success_envelope(schema_class: type[Schema]) -> type[Schema]:
    """The documented shape of `{"success": true, "data": <schema>}`."""
    name = schema_class.__name__.removesuffix("Schema") + "EnvelopeSchema"
    return type(
        name,
        (ResponseSchema,),
        {
            "success": fields.Boolean(metadata={"description": "Always true"}),
            "data": fields.Nested(schema_class),
        },
    )


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


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, with every response wrapped in the success envelope."""

    ARGUMENTS_PARSER = ArgumentsParser()

    @staticmethod
    def _prepare_response_content(data: Any) -> Any:
        return {"success": True, "data": data}

    @staticmethod
    def _make_doc_response_schema(schema: Schema | None) -> Schema | None:
        if schema is None:
            return None
        return success_envelope(type(schema))()

    def errors(self, *statuses: int) -> Callable[[Any], Any]:
        """Document error responses of a view (their body is the error envelope).

        503 `unavailable` is documented on every view: each one reads MongoDB or Redis, and
        either may be failing over or out of reach (describe_error)."""

        def decorator(view: Any) -> Any:
            for status in sorted({*statuses, 503}):
                view = self.alt_response(status, response=HTTPStatus(status).name)(view)
            return view

        return decorator
