"""What a request needs from its app: settings and this process's connections, and its
contexts read in one call.

Flask's proxies (`request`, `g`, `current_app`, `request_ctx`, `app_ctx`) read the context
variables flask.globals keeps, in three to five Python calls per read; Laurel's hooks and views
read them some thirty times per request. `request_context()` and `app_context()` read the same
variables in one call each. They raise LookupError where a proxy raises RuntimeError (outside
a request or app context), so only code that runs within one (hooks, views, the limiter's
callbacks) uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask.globals import _cv_app, _cv_request
from pymongo.database import Database

from core.clients import Clients
from core.settings import Settings
from rules.usecases.catalog import CatalogCache

EXTENSION = "laurel"

request_context = _cv_request.get  # what `request_ctx` stands for: `.request` is the request
app_context = _cv_app.get  # what `app_ctx` stands for: `.g`, `.app`


@dataclass(frozen=True)
class AppState:
    settings: Settings
    clients: Clients
    catalogs: CatalogCache = field(default_factory=CatalogCache)  # this process's compiled rules


def app_state() -> AppState:
    try:
        extensions = app_context().app.extensions
    except LookupError:  # outside an app context: the proxy says so as it always did
        extensions = current_app.extensions
    state: AppState = extensions[EXTENSION]
    return state


def database() -> Database[Any]:
    return app_state().clients.mongo
