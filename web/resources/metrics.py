"""GET /metrics: Prometheus text format, every gunicorn worker of this host in one scrape."""

from __future__ import annotations

import hmac

from flask import Response, request
from flask.views import MethodView
from flask_smorest import abort

from core.metrics import CONTENT_TYPE, exposition
from web.auth import BEARER_CHALLENGE
from web.blueprint import Blueprint
from web.context import app_state
from web.oncall import OnCallCollector

blp = Blueprint("metrics", __name__, description="Prometheus metrics")


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.response(
        200,
        content_type=CONTENT_TYPE,
        description="Prometheus text exposition format",
    )
    @blp.errors(401)
    @blp.doc(security=[])
    def get(self) -> Response:
        """Metrics for Prometheus

        Request counts and durations by route, events by outcome, points awarded, webhook
        deliveries and jobs by result, plus gauges computed now: queue depth, outbox
        backlog, oldest pending record, report run duration and lag. When METRICS_TOKEN is
        set, send it as `Authorization: Bearer <METRICS_TOKEN>`.
        """
        token = app_state().settings.metrics_token
        if token is not None:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), token.encode()
            ):
                abort(
                    401,
                    message="Unauthorized: /metrics wants the METRICS_TOKEN",
                    headers=BEARER_CHALLENGE,
                )
        body = exposition([OnCallCollector(app_state().clients)])
        return Response(body, mimetype=None, content_type=CONTENT_TYPE)
