"""GET /health, /health/live and /health/ready: does the process answer, can it reach MongoDB
and Redis?"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields

from core.clients import ping_mongo, ping_redis
from web.blueprint import Blueprint
from web.context import app_state
from web.schemas.fields import ResponseSchema

blp = Blueprint("health", __name__, description="Liveness and dependencies")


class HealthSchema(ResponseSchema):
    status = fields.String(metadata={"description": "ok, or degraded when Redis is down"})
    mongo = fields.Boolean()
    redis = fields.Boolean()


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.errors(503)
    @blp.doc(security=[])
    def get(self) -> dict[str, Any]:
        """Report whether MongoDB and Redis answer

        503 when MongoDB does not (nothing works without it); 200 with status "degraded"
        when only Redis is down (events are still recorded).
        """
        clients = app_state().clients
        mongo, redis = ping_mongo(clients.mongo), ping_redis(clients.redis)
        if not mongo:
            abort(503, message=f"MongoDB is unreachable (Redis is {'up' if redis else 'down'})")
        return {"status": "ok" if redis else "degraded", "mongo": mongo, "redis": redis}


class LiveSchema(ResponseSchema):
    status = fields.String(metadata={"description": "Always ok: the process answers"})


class ReadySchema(ResponseSchema):
    status = fields.String(metadata={"description": "ok"})
    mongo = fields.Boolean()
    redis = fields.Boolean()


@blp.route("/health/live")
class Live(MethodView):
    @blp.response(200, LiveSchema)
    @blp.errors(500)
    @blp.doc(security=[])
    def get(self) -> dict[str, Any]:
        """Answer when the process does (a liveness probe; touches no store)"""
        return {"status": "ok"}


@blp.route("/health/ready")
class Ready(MethodView):
    @blp.response(200, ReadySchema)
    @blp.errors(503)
    @blp.doc(security=[])
    def get(self) -> dict[str, Any]:
        """Answer 200 when MongoDB and Redis both do, else 503 (a readiness probe)

        The error's details say which of them is down.
        """
        clients = app_state().clients
        mongo, redis = ping_mongo(clients.mongo), ping_redis(clients.redis)
        if not (mongo and redis):
            states = (("MongoDB", mongo), ("Redis", redis))
            down = " and ".join(name for name, up in states if not up)
            abort(
                503,
                message=f"Not ready: {down} unreachable",
                errors={"mongo": ["up" if mongo else "down"], "redis": ["up" if redis else "down"]},
                headers={"Retry-After": "5"},
            )
        return {"status": "ok", "mongo": mongo, "redis": redis}
