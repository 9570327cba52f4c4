"""web.LaurelRequest answers `blueprint` (and so `blueprints`) as Flask's Request does, from
what it worked out once per endpoint."""

from __future__ import annotations

import pytest
from flask import Request
from werkzeug.routing import Rule
from werkzeug.test import EnvironBuilder

from web import LaurelRequest

ENDPOINTS = [None, "plain", "events.event", "outer.inner.deep", ".odd", "trailing.", "a..b"]


def requests(endpoint: str | None) -> tuple[Request, LaurelRequest]:
    environ = EnvironBuilder("/").get_environ()
    flasks, ours = Request(environ), LaurelRequest(environ)
    if endpoint is not None:
        rule = Rule("/", endpoint=endpoint)
        flasks.url_rule = ours.url_rule = rule
    return flasks, ours


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_blueprint_is_flasks_however_often_asked(endpoint: str | None) -> None:
    for _ in range(3):  # the first time works it out, the others read what was kept
        flasks, ours = requests(endpoint)
        assert ours.blueprint == flasks.blueprint
        assert ours.blueprints == flasks.blueprints


def test_unmatched_request_has_no_blueprint() -> None:
    flasks, ours = requests("events.event")
    flasks.url_rule = ours.url_rule = None

    assert ours.blueprint is None and flasks.blueprint is None
