"""Moments as the API writes and reads them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from core import clock


def iso(moment: datetime) -> str:
    """`moment` in UTC as ISO-8601 with a `Z`: `2026-11-26T12:00:00Z`."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ticking(start: datetime, step: timedelta = timedelta(milliseconds=1)) -> clock.Source:
    """A clock for `clock.using` that answers `start`, then one `step` later at every read: what
    happens after something else happens at a later moment, however fast the machine is."""
    reads = itertools.count()  # next() on a count is atomic: request threads may share it
    return lambda: start + step * next(reads)


class Seconds:
    """A monotonic clock in seconds (what caches and TTLs read) that moves only when a test sets
    `now`."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
