"""A project's active definitions, compiled once and cached per process.

Each request reads the project's stamp (rules.stores.definitions, one lookup by `_id`) and
recompiles only when it moved, or when the entry is MAX_AGE old (a stamp never bumped).
Why: docs/decisions/0009-definitions-cached-per-process-with-a-stamp.md.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from pymongo.database import Database

from rules.engine.challenges import ChallengeRule
from rules.engine.definitions import EventRule, StreakRule
from rules.engine.levels import LevelTable
from rules.errors import EventNotFound
from rules.stores.definitions import DefinitionStamps, DefinitionStore
from rules.stores.project_settings import ProjectSettings, ProjectSettingsStore
from rules.stores.webhooks import WebhookStore

MAX_AGE = 60.0  # seconds
MAX_PROJECTS = 1000


@dataclass(frozen=True)
class Catalog:
    events: Mapping[str, EventRule] = field(default_factory=dict)
    streaks: tuple[StreakRule, ...] = ()
    challenges: tuple[ChallengeRule, ...] = ()
    levels: LevelTable | None = None
    webhook_events: frozenset[str] = frozenset()  # notification types somebody subscribes to
    settings: ProjectSettings = ProjectSettings()

    def event_rule(self, event_id: str) -> EventRule:
        rule = self.events.get(event_id)
        if rule is None:
            raise EventNotFound(
                f"event {event_id!r} is not defined or not active",
                {"eventId": ["is not defined or not active"]},
            )
        return rule

    def streaks_for(self, event_id: str) -> tuple[StreakRule, ...]:
        """The streaks that list `event_id`, in the catalog's order."""
        return self._streaks_by_event.get(event_id, ())

    def challenges_for(self, event_id: str) -> tuple[ChallengeRule, ...]:
        """The challenges that list `event_id`, in the catalog's order."""
        return self._challenges_by_event.get(event_id, ())

    # Indexed once per catalog (that is, per change of the definitions), not at every event.
    @cached_property
    def _streaks_by_event(self) -> dict[str, tuple[StreakRule, ...]]:
        return _by_event(self.streaks)

    @cached_property
    def _challenges_by_event(self) -> dict[str, tuple[ChallengeRule, ...]]:
        return _by_event(self.challenges)


Listing = TypeVar("Listing", StreakRule, ChallengeRule)


def _by_event(rules: tuple[Listing, ...]) -> dict[str, tuple[Listing, ...]]:
    listed: dict[str, list[Listing]] = {}
    for rule in rules:
        for event_id in rule.events:
            listed.setdefault(event_id, []).append(rule)
    return {event_id: tuple(found) for event_id, found in listed.items()}


def load_catalog(db: Database[Any], project: str) -> Catalog:
    """Read and compile every active definition of `project`."""
    store = DefinitionStore(db)
    return Catalog(
        events={rule.event_id: rule for rule in store.events.all_active(project)},
        streaks=tuple(store.streaks.all_active(project)),
        challenges=tuple(store.challenges.all_active(project)),
        levels=store.levels.compiled(project),
        webhook_events=frozenset(
            kind for webhook in WebhookStore(db).active(project) for kind in webhook.events
        ),
        settings=ProjectSettingsStore(db).get(project),
    )


class CatalogCache:
    """Compiled catalogs of the most recently used projects (thread-safe)."""

    def __init__(
        self, max_age: float = MAX_AGE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_age = max_age
        self._clock = clock
        self._entries: OrderedDict[str, tuple[int, float, Catalog]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, db: Database[Any], project: str) -> Catalog:
        # Only the stamp (DefinitionStore would set up every kind's collection to read it).
        stamp = DefinitionStamps(db).current(project)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(project)
            if entry is not None and entry[0] == stamp and now - entry[1] < self._max_age:
                self._entries.move_to_end(project)
                return entry[2]
        # Compiled outside the lock; should two threads race, both results are current.
        catalog = load_catalog(db, project)
        with self._lock:
            self._entries[project] = (stamp, now, catalog)
            self._entries.move_to_end(project)
            while len(self._entries) > MAX_PROJECTS:
                self._entries.popitem(last=False)
        return catalog
