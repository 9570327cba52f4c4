"""POST /event (and /v1/event): the brief's endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask.views import MethodView
from flask_smorest import abort

from rules.engine import Event, Outcome
from rules.service import record_event
from web.auth import Principal, current_principal, require_scope
from web.context import database
from web.envelope import Blueprint
from web.schemas.events import EventResultSchema, EventSchema
from web.schemas.fields import to_millis

FUTURE_TOLERANCE = timedelta(minutes=5)
IMPORT_AFTER = timedelta(days=7)

BRIEF_EXAMPLE = {
    "eventId": "daily_login",
    "userId": "user123",
    "metadata": {"platform": "ios", "appVersion": "2.1.4", "sessionLength": 183},
}

blp = Blueprint("events", __name__, description="Record user activity and award rewards")


@blp.route("/event", endpoint="event")
@blp.route("/v1/event", endpoint="event_v1")
class EventResource(MethodView):
    @require_scope("events:write")
    @blp.arguments(EventSchema, example=BRIEF_EXAMPLE)
    @blp.response(200, EventResultSchema)
    @blp.errors(401, 403, 404, 413, 429, 503)
    def post(self, payload: dict[str, Any]) -> Outcome:
        """Record a user's event and award its points and streaks

        Unknown or inactive eventId: 404 `event_not_found`, nothing stored. A new userId
        creates the user. Requires the `events:write` scope.
        """
        principal = current_principal()
        received_at = to_millis(datetime.now(UTC))
        event = Event(
            event_id=payload["event_id"],
            user_id=payload["user_id"],
            timestamp=_event_time(payload["timestamp"], received_at, principal),
            metadata=payload["metadata"] or {},
        )
        return record_event(database(), principal.project, event, received_at=received_at)


def _event_time(requested: datetime | None, now: datetime, principal: Principal) -> datetime:
    if requested is None:
        return now
    if requested > now + FUTURE_TOLERANCE:
        abort(400, errors={"timestamp": ["must not be more than 5 minutes in the future"]})
    if requested < now - IMPORT_AFTER and not principal.allows("events:import"):
        abort(403, message="Forbidden: events older than 7 days need the 'events:import' scope")
    return requested
