"""Owner of the definition collections: `event_definitions`, `streak_definitions`,
`challenge_definitions`, `funnel_definitions`, `level_tables`, and `definition_stamps`.

A definition is stored in the shape the admin API accepts (docs/api.md#rules-admin-api), plus
`project`, its id, `createdAt` and `updatedAt`. DELETE deactivates: history keeps pointing at
a definition.

Every change of a project's definitions bumps the project's stamp (after the write), which is
how the compiled definitions cached in each web worker (rules.usecases.catalog) learn they are
stale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database

from core.indexes import sync_indexes
from rules.engine.challenges import ChallengeRule
from rules.engine.definitions import EventRule, StreakRule
from rules.engine.funnels import FunnelRule
from rules.engine.levels import LevelTable
from rules.errors import DefinitionNotFound, EventNotFound

Rule = TypeVar("Rule", EventRule, StreakRule, ChallengeRule, FunnelRule)

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
        self._stamps = DefinitionStamps(db)
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
        sync_indexes(self._collection, self._indexes)

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
        self._stamps.bump(project)
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
        self._stamps.bump(project)
        return self.get(project, definition_id)

    def all_active(self, project: str) -> list[Rule]:
        return self.find_active(project)

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

        self.challenges: DefinitionCollection[ChallengeRule] = DefinitionCollection(
            db, "challenge_definitions", "challengeId", "challenge", ChallengeRule.from_document
        )
        # Funnels (docs/api.md#insights) are analytics, not rewards: the engine never reads them.
        self.funnels: DefinitionCollection[FunnelRule] = DefinitionCollection(
            db, "funnel_definitions", "funnelId", "funnel", FunnelRule.from_document
        )
        self.levels = LevelTables(db)
        self.stamps = DefinitionStamps(db)

    def ensure_indexes(self) -> None:
        self.events.ensure_indexes()
        self.streaks.ensure_indexes()
        self.challenges.ensure_indexes()
        self.funnels.ensure_indexes()

    def active_event_rule(self, project: str, event_id: str) -> EventRule:
        rules = self.events.find_active(project, eventId=event_id)
        if not rules:
            raise EventNotFound(
                f"event {event_id!r} is not defined or not active",
                {"eventId": ["is not defined or not active"]},
            )
        return rules[0]

    def streak_rules_counting(self, project: str, event_id: str) -> list[StreakRule]:
        return self.streaks.find_active(project, events=event_id)


class LevelTables:
    """One level table per project (`PUT /admin/levels` replaces it)."""

    def __init__(self, db: Database[Any]) -> None:
        self._tables = db["level_tables"]
        self._stamps = DefinitionStamps(db)

    def save(self, project: str, body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """Replace the table; raise InvalidDefinition if it does not compile."""
        document = {"levels": [dict(level) for level in body.get("levels", [])]}
        LevelTable.from_document(document)
        self._tables.replace_one({"_id": project}, {**document, "updatedAt": now}, upsert=True)
        self._stamps.bump(project)
        return self.get(project)

    def get(self, project: str) -> dict[str, Any]:
        """The table, or an empty one (no levels) when none was saved."""
        document = self._tables.find_one({"_id": project}, {"_id": False})
        return dict(document) if document else {"levels": []}

    def compiled(self, project: str) -> LevelTable | None:
        document = self._tables.find_one({"_id": project})
        return LevelTable.from_document(document) if document else None


class DefinitionStamps:
    """A counter per project, bumped after every change of its definitions."""

    def __init__(self, db: Database[Any]) -> None:
        self._stamps = db["definition_stamps"]

    def bump(self, project: str) -> None:
        self._stamps.update_one({"_id": project}, {"$inc": {"stamp": 1}}, upsert=True)

    def current(self, project: str) -> int:
        document = self._stamps.find_one({"_id": project})
        return int(document["stamp"]) if document else 0
