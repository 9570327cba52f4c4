"""The stores a job reaches: the web app's own in the embedded default (its MongoDB lives in
that process's memory), else connections opened from the environment, once per process."""

from __future__ import annotations

import threading

from core.clients import Clients
from core.settings import Settings

_lock = threading.Lock()
_clients: Clients | None = None


def use_clients(clients: Clients) -> None:
    """Make `clients` the ones this process's jobs use (called by the app factory)."""
    global _clients
    with _lock:
        _clients = clients


def clients() -> Clients:
    global _clients
    with _lock:
        if _clients is None:
            _clients = Clients(Settings.from_env())
        return _clients
