"""POST /event (and /v1/event), the brief's endpoint, and POST /events/batch."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Response, after_this_request, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError

from core import clock, metrics
from jobs.effects import effects_for
from rules.engine.evaluation import Event, Outcome
from rules.stores.idempotency import IdempotencyKey, fingerprint
from rules.usecases.batches import BatchItem, record_batch
from rules.usecases.record import Recorded, record_event
from web.auth import Principal, current_principal, require_scope
from web.blueprint import Blueprint
from web.context import app_state, database, request_context
from web.errors import ErrorInfo, describe_error, describe_invalid
from web.openapi import IDEMPOTENCY_KEY_PARAMETER
from web.ratelimit import batch_allowance
from web.schemas.events import (
    BatchRequestSchema,
    BatchResultSchema,
    EventResultSchema,
    EventSchema,
)
from web.schemas.fields import idempotency_key_problem, to_millis

log = logging.getLogger(__name__)

KEY_HEADER = "Idempotency-Key"
KEY_ENVIRON = "HTTP_IDEMPOTENCY_KEY"  # the header's key in the WSGI environ
REPLAYED_HEADER = "Idempotent-Replayed"

BRIEF_EXAMPLE = {
    "eventId": "daily_login",
    "userId": "user123",
    "metadata": {"platform": "ios", "appVersion": "2.1.4", "sessionLength": 183},
}

blp = Blueprint("events", __name__, description="Record user activity and award rewards")

# One schema instance serves every request and every batch item (and every thread: loading
# keeps no state on the schema). Given a class, webargs would build a new one per request.
ITEM_SCHEMA = EventSchema()
BATCH_SCHEMA = BatchRequestSchema()


@blp.route("/event", endpoint="event")
@blp.route("/v1/event", endpoint="event_v1")
class EventResource(MethodView):
    @require_scope("events:write")
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(ITEM_SCHEMA, example=BRIEF_EXAMPLE)
    @blp.response(
        200,
        EventResultSchema,
        headers={
            REPLAYED_HEADER: {
                "description": "`true` when an earlier request with this idempotency key "
                "was applied and this is its response",
                "schema": {"type": "string", "enum": ["true"]},
            }
        },
    )
    @blp.errors(401, 403, 404, 413, 422, 429, 503)
    def post(self, payload: dict[str, Any]) -> Outcome:
        """Record a user's event and award its points and streaks

        Unknown or inactive eventId: 404 `event_not_found`, nothing stored. A new userId
        creates the user. With an idempotency key (body `idempotencyKey` or the
        `Idempotency-Key` header) a repeat returns the first response and changes nothing.
        Requires the `events:write` scope.
        """
        # (`request.headers.get(KEY_HEADER)`, read from the environ directly)
        header = request_context().request.environ.get(KEY_ENVIRON)
        if header is not None:
            if idempotency_key_problem(header):
                abort(400, errors={KEY_HEADER: [idempotency_key_problem(header)]})
            if payload["idempotency_key"] not in (None, header):
                abort(400, errors={KEY_HEADER: ["differs from the body's idempotencyKey"]})
            payload["idempotency_key"] = header
        # The body as sent is read again only to fingerprint a keyed request (webargs parsed it
        # already, into `payload`).
        body = None if payload["idempotency_key"] is None else request.get_json()
        recorded = _record(current_principal(), payload, body)
        if recorded.replayed:
            after_this_request(_mark_replayed)
        return recorded.outcome


@blp.route("/events/batch", endpoint="batch")
class BatchResource(MethodView):
    @require_scope("events:write")
    @blp.arguments(BATCH_SCHEMA, example={"events": [BRIEF_EXAMPLE]})
    @blp.response(200, BatchResultSchema)
    @blp.errors(401, 403, 413, 429)
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Record up to 100 events, each on its own

        Results come back in request order as `{index, status, data | error}`, where
        `status` and `error` are what POST /event would have answered for that item: one
        bad item does not reject the others. Give each item its own `idempotencyKey`; a
        replayed item carries `replayed: true`. A batch costs one request per event against
        the rate limit; when fewer are left, the first events are recorded and the others
        answered 429 `rate_limited` in their result. Requires the `events:write` scope.
        """
        if request.headers.get(KEY_HEADER) is not None:
            abort(400, errors={KEY_HEADER: ["give each item of a batch its own idempotencyKey"]})
        principal = current_principal()
        allowance = batch_allowance()
        received_at = to_millis(clock.now())
        results: list[dict[str, Any] | None] = []
        accepted: list[tuple[int, BatchItem]] = []
        for index, raw in enumerate(payload["events"]):
            if allowance is not None and index >= allowance:
                results.append(_over_allowance(index, allowance))
                continue
            try:
                item = BatchItem(*_event(ITEM_SCHEMA.load(raw), raw, received_at))
            except ValidationError as error:
                # marshmallow leaves normalized_messages unannotated
                messages = error.normalized_messages()  # type: ignore[no-untyped-call]
                results.append(_item_error(index, describe_invalid(messages)))
                continue
            accepted.append((index, item))
            results.append(None)  # recorded below, with the others
        recorded = record_batch(
            database(),
            principal.project,
            [item for _, item in accepted],
            catalogs=app_state().catalogs,
            may_import=principal.allows("events:import"),
            effects=effects_for(app_state().clients),
        )
        for (index, _), result in zip(accepted, recorded, strict=True):
            results[index] = _batch_result(index, result)
        return {"results": results}


def _batch_result(index: int, result: Recorded | Exception) -> dict[str, Any]:
    if isinstance(result, Exception):
        return _item_error(index, describe_error(result))
    _count(result)
    answer: dict[str, Any] = {"index": index, "status": 200, "data": result.outcome}
    if result.replayed:
        answer["replayed"] = True
    return answer


def _item_error(index: int, info: ErrorInfo) -> dict[str, Any]:
    if 400 <= info.status < 500:
        metrics.count_event("rejected")
    return {"index": index, "status": info.status, "error": info.body()}


def _over_allowance(index: int, allowance: int) -> dict[str, Any]:
    """An item past what the rate limit's window had left: not recorded, to be sent again."""
    info = ErrorInfo(
        429,
        "rate_limited",
        f"The rate limit had room for {allowance} of this batch's events; "
        "send the others again later",
    )
    return {"index": index, "status": info.status, "error": info.body()}


def _record(principal: Principal, payload: Mapping[str, Any], body: Any) -> Recorded:
    event, received_at, idempotency = _event(payload, body, to_millis(clock.now()))
    recorded = record_event(
        database(),
        principal.project,
        event,
        received_at=received_at,
        idempotency=idempotency,
        catalogs=app_state().catalogs,
        may_import=principal.allows("events:import"),
        effects=effects_for(app_state().clients),
    )
    _count(recorded)
    return recorded


def _event(
    payload: Mapping[str, Any], body: Any, received_at: datetime
) -> tuple[Event, datetime, IdempotencyKey | None]:
    """The event a loaded body describes, when it was received, and its idempotency key."""
    event = Event(
        event_id=payload["event_id"],
        user_id=payload["user_id"],
        timestamp=payload["timestamp"] or received_at,
        metadata=payload["metadata"] or {},
    )
    key = payload["idempotency_key"]
    idempotency = None
    if key is not None:
        request_fields = {k: v for k, v in body.items() if k != "idempotencyKey"}
        idempotency = IdempotencyKey(key, fingerprint(request_fields))
    return event, received_at, idempotency


def _count(recorded: Recorded) -> None:
    """laurel_events_total and laurel_points_awarded_total (a replay awards nothing new)."""
    if recorded.replayed:
        metrics.count_event("replayed")
    elif recorded.outcome.rewarded:
        metrics.count_event("rewarded", recorded.outcome.total_points_awarded)
    else:
        metrics.count_event("not_rewarded", recorded.outcome.total_points_awarded)


def _mark_replayed(response: Response) -> Response:
    response.headers[REPLAYED_HEADER] = "true"
    return response
