"""Owner of the `event_definitions` and `streak_definitions` collections.

A definition is stored in the shape the admin API accepts (DESIGN §5), plus `project`, its id,
`createdAt` and `updatedAt`. DELETE deactivates: history keeps pointing at a definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database

from rules.definitions import EventRule, StreakRule
from rules.errors import DefinitionNotFound, EventNotFound

Rule = TypeVar("Rule", EventRule, StreakRule)

_HIDDEN = {"_id": False, "project": False}


class DefinitionCollection(Generic[Rule]):
    def __init__(
        self,
        db: Database[Any],
        name: str,
        id_field: str,
        kind: str,
        compile: Callable[[Mapping[str, Any]], Rule],
        extra_indexes: tuple[IndexModel, ...] = (),
    ) -> None:
        self._collection = db[name]
        self.id_field = id_field
        self.kind = kind
        self.compile: Callable[[Mapping[str, Any]], Rule] = compile
        self._indexes = [
            IndexModel(
                [("project", ASCENDING), (id_field, ASCENDING)],
                unique=True,
                name=f"project_{id_field}",
            ),
            *extra_indexes,
        ]

    def ensure_indexes(self) -> None:
        self._collection.create_indexes(self._indexes)

    def save(
        self, project: str, definition_id: str, body: Mapping[str, Any], now: datetime
    ) -> dict[str, Any]:
        """Create or replace a definition; raise InvalidDefinition if it does not compile."""
        document = {**body, self.id_field: definition_id}
        self.compile(document)
        key = {"project": project, self.id_field: definition_id}
        existing = self._collection.find_one(key, {"createdAt": True})
        document.update(
            project=project, updatedAt=now, createdAt=existing["createdAt"] if existing else now
        )
        self._collection.replace_one(key, document, upsert=True)
        return self.get(project, definition_id)

    def get(self, project: str, definition_id: str) -> dict[str, Any]:
        document = self._collection.find_one(
            {"project": project, self.id_field: definition_id}, _HIDDEN
        )
        if document is None:
            raise DefinitionNotFound(f"no {self.kind} {definition_id!r} in this project")
        return dict(document)

    def list_all(self, project: str) -> list[dict[str, Any]]:
        cursor = self._collection.find({"project": project}, _HIDDEN).sort(self.id_field)
        return [dict(document) for document in cursor]

    def deactivate(self, project: str, definition_id: str, now: datetime) -> dict[str, Any]:
        result = self._collection.update_one(
            {"project": project, self.id_field: definition_id},
            {"$set": {"active": False, "updatedAt": now}},
        )
        if result.matched_count == 0:
            raise DefinitionNotFound(f"no {self.kind} {definition_id!r} in this project")
        return self.get(project, definition_id)

    def find_active(self, project: str, **match: Any) -> list[Rule]:
        cursor = self._collection.find(
            {"project": project, "active": {"$ne": False}, **match}, _HIDDEN
        )
        return [self.compile(document) for document in cursor]


class DefinitionStore:
    def __init__(self, db: Database[Any]) -> None:
        self.events: DefinitionCollection[EventRule] = DefinitionCollection(
            db, "event_definitions", "eventId", "event", EventRule.from_document
        )
        self.streaks: DefinitionCollection[StreakRule] = DefinitionCollection(
            db,
            "streak_definitions",
            "streakId",
            "streak",
            StreakRule.from_document,
            extra_indexes=(
                IndexModel([("project", ASCENDING), ("events", ASCENDING)], name="project_events"),
            ),
        )

    def ensure_indexes(self) -> None:
        self.events.ensure_indexes()
        self.streaks.ensure_indexes()

    def active_event_rule(self, project: str, event_id: str) -> EventRule:
        rules = self.events.find_active(project, eventId=event_id)
        if not rules:
            raise EventNotFound(
                f"event {event_id!r} is not defined or not active", {"eventId": event_id}
            )
        return rules[0]

    def streak_rules_counting(self, project: str, event_id: str) -> list[StreakRule]:
        return self.streaks.find_active(project, events=event_id)
