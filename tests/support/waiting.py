"""Waiting for something another thread or process does, failing loudly when it never happens.

A test waits on an observable condition, never for a length of time; the timeout is only how
long a broken build may take to say so, so it is generous (a busy machine is slow, not wrong).
"""

from __future__ import annotations

import subprocess
import threading
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


def wait_for_line(process: subprocess.Popen[str], text: str, seconds: float = 120.0) -> None:
    """Read the process's output until a line holds `text`; fail the test if the process exits
    first or `seconds` pass (the process is killed then, so a silent hang cannot block
    readline forever)."""
    assert process.stdout is not None
    timed_out = threading.Event()

    def give_up() -> None:
        timed_out.set()
        process.kill()

    timer = threading.Timer(seconds, give_up)
    timer.start()
    try:
        while text not in (line := process.stdout.readline()):
            if not line and process.poll() is not None:
                if timed_out.is_set():
                    pytest.fail(f"timed out after {seconds:g} s waiting for {text!r}")
                pytest.fail(f"the process exited with {process.returncode} before {text!r}")
    finally:
        timer.cancel()
