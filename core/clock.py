"""The one clock Laurel reads for dates: `now()` everywhere, never `datetime.now()` directly.

Tests hold it (`using(frozen(moment))`) so that a fixed moment fixes everything the code
under test stamps or judges: definitions' timestamps, events, retention, tokens. Durations
(timeouts, backoff, benchmarks) keep reading `time.monotonic()`, which is not a date.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

Source = Callable[[], datetime]


def _system() -> datetime:
    return datetime.now(UTC)


_lock = threading.Lock()
_source: Source = _system


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    return _source()


def timestamp() -> float:
    """`now()` as seconds since the epoch, for the places that speak Unix time."""
    return now().timestamp()


def set_source(source: Source | None) -> None:
    """Read time from `source` from now on (None: the system clock again)."""
    global _source
    with _lock:
        _source = source or _system


def shifted(offset: timedelta) -> Source:
    """A running clock `offset` away from the system clock."""
    return lambda: _system() + offset


def frozen(moment: datetime) -> Source:
    """A clock that always answers `moment`."""
    if moment.tzinfo is None:
        raise ValueError("a frozen clock needs an aware datetime")
    fixed = moment.astimezone(UTC)
    return lambda: fixed


@contextmanager
def using(source: Source) -> Iterator[None]:
    """Read time from `source` inside the block, then from the previous source again."""
    previous = _source
    set_source(source)
    try:
        yield
    finally:
        set_source(previous)
