"""GET /health: can this process reach MongoDB and Redis?"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields

from core.clients import ping_mongo, ping_redis
from web.context import app_state
from web.envelope import Blueprint
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
