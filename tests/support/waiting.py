"""Waiting for something another thread or process does, failing loudly when it never happens.

A test waits on an observable condition, never for a length of time; the timeout is only how
long a broken build may take to say so, so it is generous (a busy machine is slow, not wrong).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

TIMEOUT = 30.0  # seconds
POLL = 0.02  # seconds between two looks at the condition


def wait_for(condition: Callable[[], object], what: str, seconds: float = TIMEOUT) -> None:
    """Return as soon as `condition()` is true; fail the test naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(POLL)
