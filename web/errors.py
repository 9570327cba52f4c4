"""The error envelope, produced here and nowhere else (docs/architecture.md).

`{"success": false, "error": {"code", "message", "details"}}` for HTTP errors (Api, in
web.blueprint), the domain errors of rules/, reports/ and jobs/ and unexpected exceptions
alike: `describe_error` says what the client is told, one Flask error handler answers it.

The domain errors (core.errors.LaurelError and its branches) get their status and code from
one table, DOMAIN_ERRORS: views call rules/, reports/ and jobs/ and let those errors through.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, has_request_context, jsonify, request
from marshmallow import fields
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    ExecutionTimeout,
    PyMongoError,
    WriteConcernError,
)
from werkzeug.exceptions import HTTPException

from core.errors import LaurelError
from jobs.queue import QueueUnavailable
from reports.analytics.exports import ExportNotFound, InvalidExportName
from reports.analytics.service import NoReportData
from reports.insights.service import NoInsightData
from rules.errors import (
    DefinitionNotFound,
    EventNotFound,
    IdempotencyConflict,
    ImportNotAllowed,
    InsufficientBalance,
    InvalidDefinition,
    InvalidEvent,
    LeaderboardUnavailable,
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

RETRY_SOON = {"Retry-After": "1"}


@dataclass(frozen=True)
class Reply:
    """How a domain error is answered. Without `message` the client reads the error's own; a
    `message` may name the path's parameters ({eventId!r}). With `field`, the error is about
    that request field: details {field: [the error's message]}."""

    status: int
    code: str
    message: str | None = None
    field: str | None = None


NO_ANALYTICS = "No analytics for eventId {eventId!r} (yet)"

# Every domain error and how it is answered; a 503 also says Retry-After (RETRY_SOON).
DOMAIN_ERRORS: dict[type[LaurelError], Reply] = {
    EventNotFound: Reply(404, "event_not_found"),
    DefinitionNotFound: Reply(404, "not_found"),
    UserNotFound: Reply(404, "not_found"),
    NoReportData: Reply(404, "not_found", NO_ANALYTICS),
    NoInsightData: Reply(404, "not_found", NO_ANALYTICS),
    ExportNotFound: Reply(404, "not_found", "No export named {name!r}"),
    InvalidEvent: Reply(400, "validation_error"),
    InvalidDefinition: Reply(400, "validation_error"),
    InsufficientBalance: Reply(400, "validation_error"),
    InvalidExportName: Reply(400, "validation_error", field="name"),
    ImportNotAllowed: Reply(403, "forbidden"),
    IdempotencyConflict: Reply(422, "idempotency_conflict"),
    UpdateContention: Reply(503, "unavailable"),
    QueueUnavailable: Reply(503, "unavailable", "The job queue is unavailable; retry later"),
    LeaderboardUnavailable: Reply(
        503, "unavailable", "Leaderboards are unavailable right now; retry later"
    ),
}
UNLISTED = Reply(400, "validation_error")  # a new domain error nobody has placed in the table


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
    if isinstance(error, LaurelError):
        return _describe_domain_error(error)
    if database_unavailable(error):
        log.warning("MongoDB is unreachable: %s", error)
        return ErrorInfo(
            503, "unavailable", "The database is unreachable; retry later", headers=RETRY_SOON
        )
    log.error("unhandled error", exc_info=error)
    return ErrorInfo(500, "internal_error", "Internal server error")


def _describe_domain_error(error: LaurelError) -> ErrorInfo:
    reply = next(
        (reply for kind, reply in DOMAIN_ERRORS.items() if isinstance(error, kind)), UNLISTED
    )
    if reply.field is not None:
        details = {reply.field: [error.message]}
        message = _summary(details, error.message)
    else:
        # Every error's details take one shape: {path: [messages]} (see ErrorSchema).
        details = flatten_messages(error.details) if error.details else {}
        message = _with_path(reply.message, error.message)
    headers = dict(RETRY_SOON) if reply.status == 503 else {}
    return ErrorInfo(reply.status, reply.code, message, details, headers)


def _with_path(template: str | None, own: str) -> str:
    """`template` filled in with the request path's parameters; the error's `own` message
    without a template, or when the template names a parameter the path does not have."""
    parameters = (request.view_args or {}) if has_request_context() else {}
    try:
        return own if template is None else template.format_map(parameters)
    except KeyError:
        return own


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


def register_error_handlers(app: Flask) -> None:
    """One handler for every exception a view lets through: domain errors, MongoDB out of
    reach, bugs. HTTP errors (abort, webargs) go to Api.handle_http_exception (web.blueprint),
    which Flask prefers as the more specific handler; both answer with describe_error."""

    def described(error: Exception) -> Response:
        return describe_error(error).response()

    app.register_error_handler(Exception, described)
