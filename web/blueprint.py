"""Laurel's flask-smorest classes: every documented response in the envelope.

`Blueprint` wraps what a view returns in `{"success": true, "data": ...}`, documents it so,
and reads arguments with web.arguments; `Api` answers HTTP errors in the error envelope of
web.errors.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from http import HTTPStatus
from typing import Any

import flask_smorest
from flask import Response
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from web.arguments import ArgumentsParser
from web.errors import ErrorEnvelopeSchema, describe_error
from web.schemas.fields import ResponseSchema


class Api(flask_smorest.Api):
    """flask-smorest's Api, answering and documenting HTTP errors in the error envelope."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        return describe_error(error).response()


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
            documented = view
            for status in sorted({*statuses, 503}):
                documented = self.alt_response(status, response=HTTPStatus(status).name)(documented)
            # flask-smorest's alt_response documents a status by wrapping the view in a
            # function that only calls it (through current_app.ensure_sync): seven calls a
            # request for seven statuses. The view itself carries the documentation instead.
            view._apidoc = documented._apidoc
            return view

        return decorator
