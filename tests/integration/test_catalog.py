"""The compiled definitions cached per process, and how every process learns of a change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rules.errors import EventNotFound
from rules.stores.definitions import DefinitionStore
from rules.usecases import catalog as catalog_module
from rules.usecases.catalog import CatalogCache, load_catalog
from tests.support.dates import Seconds

NOW = datetime(2026, 11, 26, tzinfo=UTC)


@pytest.fixture
def store(db: Any) -> DefinitionStore:
    definitions = DefinitionStore(db)
    definitions.events.save("acme", "login", {"points": {"fixed": 10}}, NOW)
    return definitions


def count_loads(monkeypatch: Any) -> list[str]:
    loads: list[str] = []
    original = catalog_module.load_catalog

    def counting(db: Any, project: str) -> Any:
        loads.append(project)
        return original(db, project)

    monkeypatch.setattr(catalog_module, "load_catalog", counting)
    return loads


def test_a_catalog_is_compiled_once_while_nothing_changes(
    db: Any, store: DefinitionStore, monkeypatch: Any
) -> None:
    loads = count_loads(monkeypatch)
    cache = CatalogCache()

    first = cache.get(db, "acme")
    second = cache.get(db, "acme")

    assert first is second and loads == ["acme"]
    assert first.event_rule("login").fixed == 10


@pytest.mark.parametrize("change", ["save", "deactivate", "streak", "challenge", "levels"])
def test_any_change_in_another_process_is_seen_by_the_next_get(
    db: Any, store: DefinitionStore, change: str
) -> None:
    cache = CatalogCache()  # this process; `store` below plays another process
    before = cache.get(db, "acme")

    if change == "save":
        store.events.save("acme", "login", {"points": {"fixed": 99}}, NOW)
    elif change == "deactivate":
        store.events.deactivate("acme", "login", NOW)
    elif change == "streak":
        store.streaks.save("acme", "daily", {"events": ["login"]}, NOW)
    elif change == "challenge":
        body = {"events": ["login"], "goal": {"type": "count", "target": 3}}
        store.challenges.save("acme", "three", body, NOW)
    else:
        store.levels.save("acme", {"levels": [{"level": 1, "name": "B", "minPoints": 0}]}, NOW)

    after = cache.get(db, "acme")
    assert after is not before
    assert after == load_catalog(db, "acme")


def test_deactivated_event_is_not_found_through_the_cache(db: Any, store: DefinitionStore) -> None:
    cache = CatalogCache()
    cache.get(db, "acme").event_rule("login")
    store.events.deactivate("acme", "login", NOW)

    with pytest.raises(EventNotFound):
        cache.get(db, "acme").event_rule("login")


def test_an_entry_is_recompiled_after_max_age_even_without_a_stamp(
    db: Any, store: DefinitionStore, monkeypatch: Any
) -> None:
    clock = Seconds()
    cache = CatalogCache(max_age=60, clock=clock)
    cache.get(db, "acme")
    # A write whose stamp was never bumped (the writer died in between).
    db.event_definitions.update_one({"eventId": "login"}, {"$set": {"points.fixed": 7}})

    clock.now = 59.0
    assert cache.get(db, "acme").event_rule("login").fixed == 10
    clock.now = 60.0
    assert cache.get(db, "acme").event_rule("login").fixed == 7


def test_the_cache_keeps_the_most_recently_used_projects(
    db: Any, store: DefinitionStore, monkeypatch: Any
) -> None:
    monkeypatch.setattr(catalog_module, "MAX_PROJECTS", 2)
    loads = count_loads(monkeypatch)
    cache = CatalogCache()

    for project in ("a", "b", "a", "c", "a", "b"):
        cache.get(db, project)

    assert loads == ["a", "b", "c", "b"]  # "b" was the least recently used when "c" came


def test_catalog_picks_the_definitions_that_count_an_event(db: Any, store: DefinitionStore) -> None:
    store.streaks.save("acme", "daily", {"events": ["login"]}, NOW)
    store.streaks.save("acme", "other", {"events": ["purchase"]}, NOW)
    body = {"events": ["login", "purchase"], "goal": {"type": "count", "target": 3}}
    store.challenges.save("acme", "three", body, NOW)
    store.challenges.save("acme", "off", {**body, "active": False}, NOW)

    catalog = load_catalog(db, "acme")

    assert [s.streak_id for s in catalog.streaks_for("login")] == ["daily"]
    assert [c.challenge_id for c in catalog.challenges_for("purchase")] == ["three"]
    assert catalog.levels is None
