"""What a request needs from its app: settings and this process's connections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from pymongo.database import Database

from core.clients import Clients
from core.settings import Settings
from rules.usecases.catalog import CatalogCache

EXTENSION = "laurel"


@dataclass(frozen=True)
class AppState:
    settings: Settings
    clients: Clients
    catalogs: CatalogCache = field(default_factory=CatalogCache)  # this process's compiled rules


def app_state() -> AppState:
    state: AppState = current_app.extensions[EXTENSION]
    return state


def database() -> Database[Any]:
    return app_state().clients.mongo
