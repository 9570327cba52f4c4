"""Admin API for webhooks (docs/api.md#webhooks), scope `admin`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort

from core import clock
from rules.stores.outbox import Deliveries
from rules.stores.webhooks import WebhookStore
from web.auth import current_principal, require_scope
from web.blueprint import Blueprint
from web.context import database
from web.schemas.fields import identifier_problem, to_millis
from web.schemas.webhooks import (
    DeliveryListSchema,
    DeliveryQuerySchema,
    WebhookListSchema,
    WebhookSchema,
)

blp = Blueprint(
    "admin_webhooks",
    __name__,
    url_prefix="/admin/webhooks",
    description="Be told what happened: signed webhooks (scope admin)",
)


def _id_or_400(webhook_id: str) -> str:
    problem = identifier_problem(webhook_id)
    if problem:
        abort(400, errors={"webhookId": [problem]})
    return webhook_id


@blp.route("", endpoint="list")
class Webhooks(MethodView):
    @require_scope("admin")
    @blp.response(200, WebhookListSchema)
    @blp.errors(401, 403, 429)
    def get(self) -> dict[str, Any]:
        """List the project's webhooks (secrets are never shown)"""
        return {"items": WebhookStore(database()).list_all(current_principal().project)}


@blp.route("/<webhookId>", endpoint="one")
class Webhook(MethodView):
    @require_scope("admin")
    @blp.response(200, WebhookSchema)
    @blp.errors(401, 403, 404, 429)
    def get(self, webhookId: str) -> dict[str, Any]:  # noqa: N803 — the path's name
        """Get one webhook"""
        return WebhookStore(database()).get(current_principal().project, webhookId)

    @require_scope("admin")
    @blp.arguments(
        WebhookSchema,
        example={
            "url": "https://example.com/laurel-hooks",
            "secret": "whsec_0123456789abcdef",
            "events": ["event.rewarded", "streak.milestone", "level.changed"],
            "active": True,
        },
    )
    @blp.response(200, WebhookSchema)
    @blp.errors(401, 403, 413, 429)
    def put(self, body: dict[str, Any], webhookId: str) -> dict[str, Any]:  # noqa: N803
        """Create or replace a webhook

        Deliveries are POSTed as JSON with `X-Laurel-Signature: t=<unix>,v1=<hex
        HMAC-SHA256(secret, "<t>.<body>")>` and `X-Laurel-Delivery` (stable across retries).
        """
        return WebhookStore(database()).save(
            current_principal().project,
            _id_or_400(webhookId),
            body,
            to_millis(clock.now()),
        )

    @require_scope("admin")
    @blp.response(200, WebhookSchema)
    @blp.errors(401, 403, 404, 429)
    def delete(self, webhookId: str) -> dict[str, Any]:  # noqa: N803
        """Deactivate a webhook (its delivery log is kept)"""
        return WebhookStore(database()).deactivate(
            current_principal().project, webhookId, to_millis(clock.now())
        )


@blp.route("/<webhookId>/deliveries", endpoint="deliveries")
class WebhookDeliveries(MethodView):
    @require_scope("admin")
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliveryListSchema)
    @blp.errors(401, 403, 404, 429)
    def get(self, query: dict[str, Any], webhookId: str) -> dict[str, Any]:  # noqa: N803
        """The webhook's deliveries, newest first, each with every attempt"""
        project = current_principal().project
        WebhookStore(database()).get(project, webhookId)  # 404 for an unknown webhook
        return {"items": Deliveries(database()).for_webhook(project, webhookId, query["limit"])}
