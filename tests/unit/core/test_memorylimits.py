"""The embedded rate limiter's storage counts as limits' own and starts no thread per hit."""

from __future__ import annotations

import threading

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from core import memorylimits


def test_the_scheme_gives_the_sweeping_storage_which_limits_as_before() -> None:
    storage = storage_from_string(f"{memorylimits.SCHEME}://")
    assert isinstance(storage, memorylimits.SweepingMemoryStorage)
    limiter = MovingWindowRateLimiter(storage)
    limit = parse("3/minute")
    assert [limiter.hit(limit, "project:p") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(limit, "project:q")


def test_hits_start_no_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = memorylimits.SweepingMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    limit = parse("1000/minute")
    storage.timer.join()  # limits' own storage starts a new timer once the last one ran out
    started: list[threading.Thread] = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))
    for n in range(5):
        limiter.hit(limit, f"project:{n}")
    assert started == []


def test_a_sweep_drops_expired_counters() -> None:
    storage = memorylimits.SweepingMemoryStorage()
    storage.incr("k", expiry=-1)  # already expired
    storage._next_sweep = 0.0
    storage.incr("other", expiry=60)
    assert "k" not in storage.storage
