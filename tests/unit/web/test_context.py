"""web.context reads the request's and the app's contexts in one call: what Flask's proxies
stand for, the same objects for a request, and app_state answers outside a context as the
proxy always did."""

from __future__ import annotations

import pytest
from flask import Flask, current_app, g, request
from flask.globals import app_ctx, request_ctx

from core.settings import Settings
from web import create_app
from web.context import EXTENSION, app_context, app_state, request_context
from web.resources.events import KEY_ENVIRON, KEY_HEADER


def test_the_contexts_are_what_the_proxies_stand_for() -> None:
    app = Flask("contexts")
    for path in ("/", "/other"):
        with app.test_request_context(path):
            assert request_context() is request_ctx._get_current_object()  # type: ignore[attr-defined]
            assert app_context() is app_ctx._get_current_object()  # type: ignore[attr-defined]
            assert request_context().request is request._get_current_object()  # type: ignore[attr-defined]
            assert app_context().g is g._get_current_object()  # type: ignore[attr-defined]
            assert app_context().app is current_app._get_current_object()  # type: ignore[attr-defined]
            assert request_context().request.path == path


def test_app_state_is_the_apps_in_and_out_of_requests() -> None:
    app = create_app(Settings(jwt_secret="x" * 32))
    with app.app_context():
        assert app_state() is app.extensions[EXTENSION]
    with app.test_request_context("/"):
        assert app_state() is app.extensions[EXTENSION]
    with pytest.raises(RuntimeError, match="outside of application context"):
        app_state()


@pytest.mark.parametrize("value", [None, "", "k-1", " spaced ", "ü"])
def test_the_idempotency_key_is_read_where_request_headers_read_it(value: str | None) -> None:
    headers = {} if value is None else {KEY_HEADER: value}
    with Flask("keys").test_request_context("/", headers=headers):
        assert request.environ.get(KEY_ENVIRON) == request.headers.get(KEY_HEADER)
