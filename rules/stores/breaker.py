"""The leaderboards' circuit breaker (rules.stores.boards): while Redis fails, awards skip it
for a while instead of each request waiting for its timeouts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from weakref import WeakKeyDictionary

BREAKER_MAX = 32.0  # seconds


class Breaker:
    """Skips Redis for a while after it failed, so that a Redis outage does not slow every
    request down by its timeouts: after a failure, calls are skipped for 1, 2, 4 … 32 s, and
    the first call after that tries again. Skipped awards reach the boards at the next
    rebuild."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._until = 0.0

    def allows(self) -> bool:
        with self._lock:
            return self._clock() >= self._until

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0
            self._until = 0.0

    def failed(self) -> None:
        with self._lock:
            self._until = self._clock() + min(BREAKER_MAX, 2.0**self._failures)
            self._failures = min(self._failures + 1, 16)


_breakers: WeakKeyDictionary[object, Breaker] = WeakKeyDictionary()
_breakers_lock = threading.Lock()


def breaker_for(owner: object) -> Breaker:
    """One Breaker per `owner` (a process's connections) for as long as it lives."""
    with _breakers_lock:
        breaker = _breakers.get(owner)
        if breaker is None:
            breaker = _breakers[owner] = Breaker()
        return breaker
