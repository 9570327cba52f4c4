"""A real local webhook receiver, and the calls that subscribe to it and check its signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "whsec_test_0123456789abcdef"
HOLD_AT_MOST = 60.0  # seconds a held answer waits for release() before it is sent anyway


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that keeps what it is sent and answers the statuses it is
    told to (`statuses`, one per request; 200 once they run out).

    `hold()` keeps every answer back until `release()`: a test sees what happens while a
    receiver is slow without timing anything."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.answered = 0
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                receiver._open.wait(HOLD_AT_MOST)
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver._lock:
                    receiver.answered += 1

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests]


@contextmanager
def serving(receiver: Receiver) -> Iterator[Receiver]:
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release()  # nothing stays held past the test
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join()


def subscribe(
    client: Any, auth: Any, url: str, events: list[str] | None = None, project: str = "acme"
) -> Any:
    """PUT the webhook `main` of `project` for `events` (event.rewarded) to `url`."""
    body = {"url": url, "secret": SECRET, "events": events or ["event.rewarded"]}
    response = client.put("/admin/webhooks/main", json=body, headers=auth("admin", project=project))
    assert response.status_code == 200, response.json
    return response


def verify(secret: str, header: str, body: bytes) -> bool:
    """The README's verification, as a receiver would write it."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])
