"""The stores a job reaches.

- A job run by the embedded default's in-process queue uses that queue's own `Clients` (its
  MongoDB lives in this process's memory): `running_with` sets them for the job's thread.
- Otherwise (an RQ worker), the web app's when one was created in this process, else
  connections opened from the environment, once per process. A worker verifies no token, so
  it needs no JWT key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from core.clients import Clients
from core.settings import Settings

_lock = threading.Lock()
_clients: Clients | None = None
_job = threading.local()


def use_clients(clients: Clients) -> None:
    """Make `clients` the ones this process's jobs use (called by the app factory)."""
    global _clients
    with _lock:
        _clients = clients


@contextmanager
def running_with(clients: Clients) -> Iterator[None]:
    """Run a job of this thread against `clients`."""
    previous = getattr(_job, "clients", None)
    _job.clients = clients
    try:
        yield
    finally:
        _job.clients = previous


def clients() -> Clients:
    mine: Clients | None = getattr(_job, "clients", None)
    if mine is not None:
        return mine
    global _clients
    with _lock:
        if _clients is None:
            _clients = Clients(Settings.from_env(serving=False))
        return _clients
