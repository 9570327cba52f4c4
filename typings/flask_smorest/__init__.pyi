# The part of flask-smorest that Laurel uses, typed for mypy strict: flask-smorest ships no
# type information (no py.typed). Its decorators return the view they are given, unchanged in
# type, which is all mypy needs to keep the views typed. Extend this file when web/ uses more.
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar

import flask
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema
from webargs.flaskparser import FlaskParser
from webargs.flaskparser import abort as abort
from werkzeug.exceptions import HTTPException

_View = TypeVar("_View")
_Status = int | str | HTTPStatus
_SchemaLike = type[Schema] | Schema | str | dict[str, Any]

class Blueprint(flask.Blueprint):
    ARGUMENTS_PARSER: FlaskParser
    description: str
    def __init__(self, *args: Any, description: str = ..., **kwargs: Any) -> None: ...
    def route(  # takes MethodView classes too, not only view functions
        self,
        rule: str,
        *,
        parameters: list[Any] | None = ...,
        tags: list[str] | None = ...,
        **options: Any,
    ) -> Callable[[_View], _View]: ...
    def arguments(
        self,
        schema: type[Schema] | Schema,
        *,
        location: str = ...,
        content_type: str | None = ...,
        required: bool = ...,
        description: str | None = ...,
        example: Any = ...,
        examples: Mapping[str, Any] | None = ...,
        **kwargs: Any,
    ) -> Callable[[_View], _View]: ...
    def response(
        self,
        status_code: _Status,
        schema: _SchemaLike | None = ...,
        *,
        content_type: str | None = ...,
        description: str | None = ...,
        example: Any = ...,
        examples: Mapping[str, Any] | None = ...,
        headers: Mapping[str, Any] | None = ...,
    ) -> Callable[[_View], _View]: ...
    def alt_response(
        self,
        status_code: _Status,
        response: str | None = ...,
        *,
        schema: _SchemaLike | None = ...,
        content_type: str | None = ...,
        description: str | None = ...,
        example: Any = ...,
        examples: Mapping[str, Any] | None = ...,
        headers: Mapping[str, Any] | None = ...,
        success: bool = ...,
    ) -> Callable[[_View], _View]: ...
    @staticmethod
    def doc(**kwargs: Any) -> Callable[[_View], _View]: ...

class Api:
    ERROR_SCHEMA: type[Schema]
    spec: APISpec
    ma_plugin: MarshmallowPlugin
    def __init__(
        self,
        app: flask.Flask | None = ...,
        *,
        spec_kwargs: Mapping[str, Any] | None = ...,
        config_prefix: str = ...,
    ) -> None: ...
    def init_app(
        self, app: flask.Flask, *, spec_kwargs: Mapping[str, Any] | None = ...
    ) -> None: ...
    def register_blueprint(
        self, blp: Blueprint, *, parameters: list[Any] | None = ..., **options: Any
    ) -> None: ...
    def handle_http_exception(self, error: HTTPException) -> flask.Response: ...
