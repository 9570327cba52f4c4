"""The HTTP API: app factory, blueprints, schemas, auth, envelope and rate limits.

No business rules here: views parse and call rules/, reports/ and jobs/; the domain errors
those raise are answered in one place (web.errors).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider

from core.clients import Clients
from core.logs import configure_logging
from core.settings import Settings
from jobs.runtime import use_clients
from reports.indexes import ensure_indexes as ensure_report_indexes
from rules.stores.indexes import ensure_indexes
from web import dashboard, swagger_ui
from web.application import LaurelFlask
from web.blueprint import Api
from web.bodies import init_body_checks
from web.cli import register_cli
from web.context import EXTENSION, AppState
from web.demo import seed_demo
from web.errors import register_error_handlers
from web.headers import init_headers
from web.observability import init_observability
from web.openapi import document_rules
from web.paths import init_user_paths
from web.ratelimit import init_rate_limits
from web.requestlimits import init_request_size_checks
from web.resources import analytics, definitions, events, health, leaderboards, users, webhooks
from web.resources import metrics as metrics_resource
from web.resources import settings as project_settings
from web.resources.insights import blp as insights_blp

MAX_BODY_BYTES = 16 * 1024
# Endpoints whose bodies may be larger: a batch holds up to 100 events.
LARGER_BODIES = {"events.batch": 1024 * 1024}

log = logging.getLogger(__name__)


class LaurelRequest(Request):
    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:  # set on this request, as Flask allows
            return self._max_content_length
        return LARGER_BODIES.get(self.endpoint or "", MAX_BODY_BYTES)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def blueprint(self) -> str | None:
        """Flask's answer, worked out once per endpoint: Flask, its hooks and the limiter ask
        it about six times per request, and it is the same for every request of a route."""
        rule = self.url_rule
        endpoint = rule.endpoint if rule is not None else None
        if endpoint is None:
            return None
        try:
            return _BLUEPRINTS[endpoint]
        except KeyError:
            blueprint = endpoint.rpartition(".")[0] if "." in endpoint else None
            _BLUEPRINTS[endpoint] = blueprint
            return blueprint


# The blueprint of each endpoint of the URL maps (as many as their routes).
_BLUEPRINTS: dict[str, str | None] = {}


def create_app(settings: Settings | None = None, clients: Clients | None = None) -> Flask:
    """Build the app. Connections open lazily, per process (see core.clients)."""
    settings = settings or Settings.from_env()
    settings.validate()
    clients = clients or Clients(settings)
    configure_logging(settings.log_level, settings.log_format)

    app = LaurelFlask(__name__)
    app.request_class = LaurelRequest
    init_user_paths(app)  # before the blueprints: their routes use <user:userId>
    if isinstance(app.json, DefaultJSONProvider):  # what Flask makes; typed as the base class
        app.json.sort_keys = False  # keep the documented field order in responses
    app.config.update(openapi_config())
    app.extensions[EXTENSION] = AppState(settings=settings, clients=clients)
    use_clients(clients)  # what this process's jobs use (the embedded store lives here)

    api = Api(app)
    document_rules(api)
    register_error_handlers(app)
    init_observability(app)  # first: it times and counts what the others answer
    init_headers(app, settings.cors_origins)
    init_request_size_checks(app)
    init_body_checks(app)  # before the limiter: a batch's cost is read from its body
    init_rate_limits(app, settings, clients)
    register_blueprints(app, api)
    register_cli(app)

    if settings.mongo_uri is None:
        # Nobody can run `db init` against another process's memory.
        ensure_indexes(clients.mongo)
        ensure_report_indexes(clients.mongo)
    if settings.embedded:
        seed_demo(clients.mongo)
    return app


def openapi_config() -> dict[str, Any]:
    """flask-smorest's settings: the OpenAPI document, where it and its Swagger UI are
    served. A new dict per app, since flask-smorest may add to what it is given."""
    return {
        "API_TITLE": "Laurel",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": f"{swagger_ui.URL_PREFIX}/",  # served offline, see web.swagger_ui
        "API_SPEC_OPTIONS": {
            "info": {
                "description": "Track user activity and award points, streaks and "
                "rewards. Every response is an envelope: "
                '{"success": true, "data": ...} or '
                '{"success": false, "error": {code, message, details}}.'
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
    }


def register_blueprints(app: Flask, api: Api) -> None:
    """The API's resources and the pages beside them (Swagger UI, dashboard); the OpenAPI
    document lists the resources' tags in this order."""
    api.register_blueprint(health.blp)
    api.register_blueprint(events.blp)
    for blueprint in definitions.admin_blueprints():
        api.register_blueprint(blueprint)
    api.register_blueprint(webhooks.blp)
    api.register_blueprint(project_settings.blp)
    api.register_blueprint(users.blp)
    api.register_blueprint(leaderboards.blp)
    api.register_blueprint(analytics.blp)
    api.register_blueprint(insights_blp)
    app.register_blueprint(swagger_ui.bp)
    app.register_blueprint(dashboard.bp)
    api.register_blueprint(metrics_resource.blp)
