"""The rate limiter's in-memory storage of the embedded default, without a thread per hit.

limits' MemoryStorage starts a 10 ms timer thread on nearly every hit to drop expired counters;
under load that is one thread start per request. Counts do not depend on that sweep (every read
checks expiry itself), so this storage sweeps on the calling thread, at most once a second.
Registered with limits under the `laurel-memory://` scheme on import.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from limits.storage import MemoryStorage

SCHEME = "laurel-memory"
SWEEP_EVERY = 1.0  # seconds


class SweepingMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._sweep_lock = threading.Lock()
        self._next_sweep = time.monotonic() + SWEEP_EVERY

    # Replaces MemoryStorage's private __schedule_expiry (name-mangled), called on each hit.
    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 — the name it replaces
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_EVERY
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]  # the parent's mangled name
        finally:
            self._sweep_lock.release()
