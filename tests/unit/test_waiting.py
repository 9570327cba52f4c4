"""The polling helpers of tests/support/waiting.py fail loudly instead of hanging."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.waiting import wait_for, wait_for_line


def _process(code: str) -> subprocess.Popen[str]:
    # stdin of its own: one inherited from a run without a terminal (nohup, CI) may be at its
    # end, and input() would return at once instead of waiting.
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_wait_for_fails_naming_what_never_happened() -> None:
    with pytest.raises(pytest.fail.Exception, match="timed out after 0.05 s waiting for rain"):
        wait_for(lambda: False, "rain", seconds=0.05)


def test_wait_for_line_returns_at_the_line() -> None:
    process = _process("print('starting'); print('ready', flush=True); input()")
    try:
        wait_for_line(process, "ready")
        assert process.poll() is None
    finally:
        process.kill()
        process.communicate()


def test_wait_for_line_fails_when_a_silent_process_hangs() -> None:
    process = _process("import time; time.sleep(600)")
    try:
        with pytest.raises(
            pytest.fail.Exception, match="timed out after 0.2 s waiting for 'ready'"
        ):
            wait_for_line(process, "ready", seconds=0.2)
    finally:
        process.kill()
        process.communicate()


def test_wait_for_line_fails_when_the_process_exits_first() -> None:
    process = _process("print('bye')")
    with pytest.raises(pytest.fail.Exception, match="exited with 0 before 'ready'"):
        wait_for_line(process, "ready")
    process.communicate()
