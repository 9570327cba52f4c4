"""The demo project of DESIGN §9, seeded in the embedded default and by `make run`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database

from core.settings import Settings
from rules.definition_store import DefinitionCollection, DefinitionStore
from rules.errors import DefinitionNotFound
from web.auth import mint_token

DEMO_PROJECT = "demo"
TOKEN_TTL = 24 * 3600

EVENTS: dict[str, dict[str, Any]] = {
    "daily_login": {"name": "Daily login", "points": {"fixed": 10}},
    "purchase_completed": {
        "name": "Purchase completed",
        "points": {"fixed": 0, "perUnit": {"field": "orderValue", "rate": 2, "rounding": "floor"}},
        "metadataSchema": {"orderValue": "number"},
    },
    "level_completed": {"name": "Level completed", "points": {"fixed": 5}},
    "complete_profile": {
        "name": "Complete profile",
        "points": {"fixed": 50},
        "maxCompletions": {"count": 1, "period": "lifetime"},
    },
}

STREAKS: dict[str, dict[str, Any]] = {
    "daily_app_use": {
        "name": "Daily app use",
        "events": ["daily_login"],
        "period": "day",
        "timezone": "UTC",
        "milestones": [{"count": 3, "points": 20, "badge": "on_fire"}, {"count": 7, "points": 50}],
    },
}


def seed_demo(db: Database[Any]) -> None:
    """Define the demo project's events and streaks unless they exist (edits are kept)."""
    store = DefinitionStore(db)
    now = datetime.now(UTC)
    _seed(store.events, EVENTS, now)
    _seed(store.streaks, STREAKS, now)


def _seed(
    collection: DefinitionCollection[Any], definitions: dict[str, dict[str, Any]], now: datetime
) -> None:
    for definition_id, body in definitions.items():
        try:
            collection.get(DEMO_PROJECT, definition_id)
        except DefinitionNotFound:
            collection.save(DEMO_PROJECT, definition_id, {"active": True, **body}, now)


def banner(settings: Settings, base_url: str) -> str:
    keys = settings.signing_keys()
    events_token = mint_token(
        keys, DEMO_PROJECT, ["events:write"], subject="demo-app", ttl=TOKEN_TTL
    )
    admin_token = mint_token(keys, DEMO_PROJECT, ["admin"], subject="demo-admin", ttl=TOKEN_TTL)
    storage = (
        "in memory: everything is gone when this process stops"
        if settings.mongo_uri is None
        else f"MongoDB database {settings.mongo_db!r}"
    )
    return f"""
Laurel is running at {base_url}  (data: {storage})
API docs: {base_url}/docs   OpenAPI: {base_url}/openapi.json

Project "demo": events {", ".join(EVENTS)}; streak {", ".join(STREAKS)}.
Tokens are valid for 24 hours.

export EVENTS_TOKEN={events_token}
export ADMIN_TOKEN={admin_token}

Try:
curl -X POST "{base_url}/event" \\
  -H "Authorization: Bearer {events_token}" \\
  -H "Content-Type: application/json" \\
  -d '{{"eventId": "daily_login", "userId": "user123"}}'
"""
