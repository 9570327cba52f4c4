"""Owner of the `project_settings` collection: a project's choices about how its events are
trusted (one document per project, `_id` = the project id).

- `usergroupSource`: where a user's usergroup (and so its groupRewards multiplier) may come
  from. "metadata" (the default, the brief's behaviour): an event's `metadata.usergroup` sets
  it. "api": only the support API does (`PUT /users/{userId}/usergroup`), so an app whose
  token sits on users' devices cannot let them raise their own multiplier.

Settings are part of the compiled catalog (rules.usecases.catalog): a change bumps the project's
definition stamp, so every process applies it to its next event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.database import Database

from rules.stores.definitions import DefinitionStamps

USERGROUP_SOURCES = ("metadata", "api")


@dataclass(frozen=True)
class ProjectSettings:
    usergroup_source: str = "metadata"

    @property
    def usergroup_from_metadata(self) -> bool:
        return self.usergroup_source == "metadata"


class ProjectSettingsStore:
    def __init__(self, db: Database[Any]) -> None:
        self._settings = db["project_settings"]
        self._stamps = DefinitionStamps(db)

    def document(self, project: str) -> dict[str, Any]:
        """The settings as the admin API shows them, defaults filled in."""
        stored = self._settings.find_one({"_id": project}) or {}
        return {
            "usergroupSource": stored.get("usergroupSource", ProjectSettings.usergroup_source),
            "updatedAt": stored.get("updatedAt"),
        }

    def get(self, project: str) -> ProjectSettings:
        return ProjectSettings(usergroup_source=self.document(project)["usergroupSource"])

    def save(self, project: str, body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        self._settings.update_one(
            {"_id": project},
            {"$set": {"usergroupSource": body["usergroupSource"], "updatedAt": now}},
            upsert=True,
        )
        self._stamps.bump(project)
        return self.document(project)
