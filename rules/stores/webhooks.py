"""Owner of the `webhooks` collection: where a project wants to be told what happened.

A webhook is `{url, secret, events, active}` (docs/api.md#rules-admin-api and #webhooks). The secret
signs deliveries; it is stored as given (the signature needs it) and never returned in full: reads
show a hint of its last four characters. Changes bump the project's definition stamp, so every
process's catalog learns which notification types have a subscriber (rules.usecases.catalog).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database

from core.indexes import sync_indexes
from rules.errors import DefinitionNotFound, InvalidDefinition
from rules.stores.definitions import DefinitionStamps

EVENT_TYPES = (
    "event.rewarded",
    "streak.milestone",
    "challenge.completed",
    "level.changed",
    "points.adjusted",
)

_HIDDEN = {"_id": False, "project": False}


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    url: str
    secret: str
    events: frozenset[str]
    active: bool = True


def secret_hint(secret: str) -> str:
    return f"…{secret[-4:]}" if len(secret) > 8 else "…"


class WebhookStore:
    def __init__(self, db: Database[Any]) -> None:
        self._webhooks = db["webhooks"]
        self._stamps = DefinitionStamps(db)

    def ensure_indexes(self) -> None:
        sync_indexes(
            self._webhooks,
            [
                IndexModel(
                    [("project", ASCENDING), ("webhookId", ASCENDING)],
                    unique=True,
                    name="project_webhookId",
                )
            ],
        )

    def save(
        self, project: str, webhook_id: str, body: Mapping[str, Any], now: datetime
    ) -> dict[str, Any]:
        """Create or replace; a body without `secret` keeps the stored one (so a GET can be
        edited and PUT back although it only shows a hint)."""
        key = {"project": project, "webhookId": webhook_id}
        existing = self._webhooks.find_one(key)
        secret = body.get("secret") or (existing or {}).get("secret")
        if not secret:
            raise InvalidDefinition("secret: required for a new webhook", {"secret": ["required"]})
        document = {
            **key,
            "url": body["url"],
            "secret": secret,
            "events": sorted(set(body["events"])),
            "active": body.get("active", True),
            "createdAt": existing["createdAt"] if existing else now,
            "updatedAt": now,
        }
        self._webhooks.replace_one(key, document, upsert=True)
        self._stamps.bump(project)
        return self.get(project, webhook_id)

    def get(self, project: str, webhook_id: str) -> dict[str, Any]:
        document = self._webhooks.find_one({"project": project, "webhookId": webhook_id}, _HIDDEN)
        if document is None:
            raise DefinitionNotFound(f"no webhook {webhook_id!r} in this project")
        return _public(document)

    def list_all(self, project: str) -> list[dict[str, Any]]:
        cursor = self._webhooks.find({"project": project}, _HIDDEN).sort("webhookId")
        return [_public(document) for document in cursor]

    def deactivate(self, project: str, webhook_id: str, now: datetime) -> dict[str, Any]:
        result = self._webhooks.update_one(
            {"project": project, "webhookId": webhook_id},
            {"$set": {"active": False, "updatedAt": now}},
        )
        if result.matched_count == 0:
            raise DefinitionNotFound(f"no webhook {webhook_id!r} in this project")
        self._stamps.bump(project)
        return self.get(project, webhook_id)

    def active(self, project: str) -> list[Webhook]:
        cursor = self._webhooks.find({"project": project, "active": True})
        return [
            Webhook(
                webhook_id=d["webhookId"],
                url=d["url"],
                secret=d["secret"],
                events=frozenset(d["events"]),
                active=True,
            )
            for d in cursor
        ]

    def find(self, project: str, webhook_id: str) -> Webhook | None:
        d = self._webhooks.find_one({"project": project, "webhookId": webhook_id})
        if d is None:
            return None
        return Webhook(d["webhookId"], d["url"], d["secret"], frozenset(d["events"]), d["active"])


def _public(document: Mapping[str, Any]) -> dict[str, Any]:
    shown = {key: value for key, value in document.items() if key != "secret"}
    shown["secretHint"] = secret_hint(document.get("secret", ""))
    return shown
