"""gunicorn with two workers: one scrape of /metrics counts what both answered."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_demo_server import CONFIGURATION, ROOT, free_port

pytestmark = pytest.mark.e2e

GUNICORN = Path(ROOT) / ".venv" / "bin" / "gunicorn"


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[str]:
    """Two sync workers of the embedded app on 127.0.0.1, with the repo's gunicorn.conf.py."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURATION} | {
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "LOG_FORMAT": "json",
    }
    command = [
        str(GUNICORN) if GUNICORN.exists() else "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--worker-class",
        "sync",  # a worker reading one request serves no other: what this test relies on
        "--threads",
        "1",
        "wsgi:app",
    ]
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, deadline=time.monotonic() + 120)
        yield base
    finally:
        try:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=40)  # graceful_timeout is 30 s
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        finally:
            log.close()


def _wait_until_up(base: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    """Until a worker answers /health (workers import pandas: slow on a busy machine)."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=30) as response:
                if response.status == 200:
                    return
        except OSError:  # refused, reset or timed out while the workers boot
            pass
        time.sleep(0.2)
    pytest.fail("gunicorn did not answer in time")


def _live_requests_counted(base: str) -> float:
    with urllib.request.urlopen(f"{base}/metrics", timeout=60) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "laurel_http_requests_total" and sample.labels == {
                "method": "GET",
                "route": "/health/live",
                "status": "200",
            }:
                return sample.value
    return 0.0


def test_one_scrape_adds_up_the_requests_of_both_workers(gunicorn: str) -> None:
    port = int(gunicorn.rsplit(":", 1)[1])
    # A request whose headers are not finished holds the sync worker that accepted it...
    held = socket.create_connection(("127.0.0.1", port), timeout=60)
    held.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    # ...so these five are all answered by the other worker (once it has booted).
    for _ in range(5):
        with urllib.request.urlopen(f"{gunicorn}/health/live", timeout=60) as response:
            assert response.status == 200
    held.sendall(b"Connection: close\r\n\r\n")  # now the first worker answers its one
    answer = b""
    while chunk := held.recv(65536):
        answer += chunk
    held.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]

    # Whichever worker answers the scrape, it reports 1 + 5: no worker counted six itself.
    scrapes = [_live_requests_counted(gunicorn) for _ in range(4)]

    assert scrapes == [6.0, 6.0, 6.0, 6.0]
