"""`make serve`'s gunicorn configuration (gunicorn.conf.py, web/serving.py) as a real server
1 and 9): slow clients do not keep /health from answering, and the errors gunicorn answers
itself (414, 431) come in the error envelope."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.http import raw_request
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = {"MONGO_URI", "REDIS_URL", "JWT_SECRET", "JWT_KEYS", "RATE_LIMIT", "PORT"}
SLOW_CLIENTS = 8  # each one would hold a sync worker for as long as it drips
HEALTH_CHECKS = 10  # /health asked this many times while every slow client is held
# Long enough for any busy machine, shorter than what a held sync worker would take (forever).
HEALTH_TIMEOUT = 20.0
TCP_TABLE = Path("/proc/net/tcp")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def health(port: int, timeout: float) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=timeout) as answer:
        status: int = answer.status
        return status


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    """gunicorn with make serve's configuration and one worker, on the embedded store."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURATION}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if health(port, timeout=2) == 200:
                    break
            except (OSError, urllib.error.URLError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("gunicorn did not start answering /health within 90 s")
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def drip(port: int, head: bytes, stop: threading.Event, connected: list[int]) -> None:
    """Send `head`, then one more byte every 0.2 s until `stop`."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        connected.append(port)
        while not stop.wait(0.2):
            try:
                sock.sendall(b"a")
            except OSError:
                return


def accepted_by_the_server(port: int) -> bool:
    """True when no connection to `port` waits in the kernel's accept queue (the server took
    each one) and SLOW_CLIENTS of them are established, as Linux's TCP table shows."""
    waiting, established = None, 0
    for row in TCP_TABLE.read_text().splitlines()[1:]:
        _, local, _, state, queues = row.split()[:5]
        if int(local.rsplit(":", 1)[1], 16) != port:
            continue
        if state == "0A":  # LISTEN: rx_queue is the length of its accept queue
            waiting = int(queues.split(":")[1], 16)
        elif state == "01":  # ESTABLISHED, on the server's side
            established += 1
    return waiting == 0 and established >= SLOW_CLIENTS


def test_slow_clients_do_not_keep_health_from_answering(server: int) -> None:
    if not TCP_TABLE.exists():
        pytest.skip("sees whether gunicorn accepted the slow clients in Linux's /proc/net/tcp")
    stop = threading.Event()
    connected: list[int] = []
    heads = [
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ",  # headers never finished
        b"POST /event HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n",  # a body never finished
    ]
    drippers = [
        threading.Thread(target=drip, args=(server, heads[i % 2], stop, connected), daemon=True)
        for i in range(SLOW_CLIENTS)
    ]
    for thread in drippers:
        thread.start()
    answered = []
    try:
        wait_for(lambda: len(connected) == SLOW_CLIENTS, "the slow clients to connect")
        wait_for(lambda: accepted_by_the_server(server), "gunicorn to accept the slow clients")
        for _ in range(HEALTH_CHECKS):
            try:
                answered.append(health(server, timeout=HEALTH_TIMEOUT))
            except (OSError, urllib.error.URLError) as error:
                pytest.fail(f"/health did not answer while clients dripped: {error}")
        still_dripping = sum(thread.is_alive() for thread in drippers)
    finally:
        stop.set()
        for thread in drippers:
            thread.join(timeout=10)

    assert answered == [200] * HEALTH_CHECKS
    assert still_dripping == SLOW_CLIENTS  # the server held them all the while
    assert health(server, timeout=HEALTH_TIMEOUT) == 200  # and the worker is still the same, alive


def test_gunicorn_answers_a_request_line_too_long_in_the_envelope(server: int) -> None:
    status, content_type, body = raw_request(
        server, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )

    assert (status, content_type) == (414, "application/json")
    assert body["success"] is False
    assert body["error"] == {"code": "uri_too_long", "message": "URI Too Long", "details": {}}


def test_gunicorn_answers_a_header_too_large_in_the_envelope(server: int) -> None:
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n"

    status, content_type, body = raw_request(server, head)

    assert (status, content_type) == (431, "application/json")
    assert body["error"]["code"] == "headers_too_large"
