"""The demo project of docs/api.md#running, seeded in the embedded default and by `make run`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.database import Database

from core import clock
from core.settings import Settings
from rules.errors import DefinitionNotFound
from rules.stores.definitions import DefinitionCollection, DefinitionStore
from web.auth import mint_token

DEMO_PROJECT = "demo"
TOKEN_TTL = 24 * 3600

EVENTS: dict[str, dict[str, Any]] = {
    "daily_login": {"name": "Daily login", "points": {"fixed": 10}},
    "purchase_completed": {
        "name": "Purchase completed",
        "points": {"fixed": 0, "perUnit": {"field": "orderValue", "rate": 2, "rounding": "floor"}},
        "groupRewards": {"subscriber": {"multiplier": 2}},
        "metadataSchema": {"orderValue": "number"},
    },
    "level_completed": {
        "name": "Level completed",
        "points": {"fixed": 5},
        # A level finished without a single star earns nothing.
        "conditions": {"all": [{"field": "starsEarned", "op": "gte", "value": 1}]},
    },
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
    "weekly_shopper": {
        "name": "Weekly shopper",
        "events": ["purchase_completed"],
        "period": "week",
        "timezone": "UTC",
        "milestones": [{"count": 4, "points": 100, "badge": "loyal_shopper"}],
        "freezes": {"initial": 1, "max": 2, "earnEvery": 4},
    },
}

CHALLENGES: dict[str, dict[str, Any]] = {
    "five_levels": {
        "name": "Five levels",
        "events": ["level_completed"],
        "conditions": {"all": [{"field": "starsEarned", "op": "gte", "value": 1}]},
        "goal": {"type": "count", "target": 5},
        "reward": {"points": 100, "badge": "level_master"},
    },
    "big_spender": {
        "name": "Spend 500 in a month",
        "events": ["purchase_completed"],
        "goal": {"type": "sum", "field": "orderValue", "target": 500},
        "reset": "month",
        "reward": {"points": 250},
        "repeatable": True,
    },
}

LEVELS: dict[str, list[dict[str, Any]]] = {
    "levels": [
        {"level": 1, "name": "Bronze", "minPoints": 0},
        {"level": 2, "name": "Silver", "minPoints": 500},
        {"level": 3, "name": "Gold", "minPoints": 2000},
    ]
}


def seed_demo(db: Database[Any]) -> None:
    """Define the demo project's events, streaks, challenges and levels unless they exist
    (edits are kept)."""
    store = DefinitionStore(db)
    now = clock.now()
    _seed(store.events, EVENTS, now)
    _seed(store.streaks, STREAKS, now)
    _seed(store.challenges, CHALLENGES, now)
    if not store.levels.get(DEMO_PROJECT)["levels"]:
        store.levels.save(DEMO_PROJECT, LEVELS, now)


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
    level_names = ", ".join(level["name"] for level in LEVELS["levels"])
    storage = (
        "in memory: everything is gone when this process stops"
        if settings.mongo_uri is None
        else f"MongoDB database {settings.mongo_db!r}"
    )
    return f"""
Laurel is running at {base_url}  (data: {storage})
API docs: {base_url}/docs   OpenAPI: {base_url}/openapi.json
Dashboard (signed in as the demo admin): {base_url}/dashboard/#token={admin_token}

Project "demo": events {", ".join(EVENTS)};
streaks {", ".join(STREAKS)}; challenges {", ".join(CHALLENGES)}; levels {level_names}.
Tokens are valid for 24 hours.

export EVENTS_TOKEN={events_token}
export ADMIN_TOKEN={admin_token}

Try:
curl -X POST "{base_url}/event" \\
  -H "Authorization: Bearer {events_token}" \\
  -H "Content-Type: application/json" \\
  -d '{{"eventId": "daily_login", "userId": "user123"}}'
"""
