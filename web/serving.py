"""gunicorn's worker class and request limits for `make serve`, which gunicorn.conf.py takes
from here (`gunicorn -c web/serving.py` also works on its own).

Worker class: gevent, so that a slow client costs a greenlet, not a worker. Request limits:
gunicorn answers too long a request line (414) or too many or too long headers (431) before
Flask sees the request, and `on_starting` makes those answers the error envelope too; Flask
applies the same limits (web.requestlimits) for servers that allow more.
Why: docs/decisions/0013-gevent-workers-for-make-serve.md.
"""

from __future__ import annotations

import socket
from typing import Any

from web.requestlimits import MAX_HEADER_FIELD, MAX_HEADER_FIELDS, envelope_bytes

worker_class = "gevent"
worker_connections = 1000  # concurrent connections per worker, slow ones included
timeout = 30  # seconds a worker may stay silent (a CPU-bound request) before it is replaced
graceful_timeout = 30
keepalive = 5
limit_request_line = 8190  # gunicorn's largest
limit_request_fields = MAX_HEADER_FIELDS
limit_request_field_size = MAX_HEADER_FIELD


def write_error_envelope(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn.util.write_error, answering in the error envelope. `mesg` may quote the
    client's bytes back, so it stays out of the answer."""
    from gunicorn import util

    body = envelope_bytes(status_int, reason)
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def on_starting(server: Any) -> None:
    """gunicorn's hook, run in the master before it forks the workers."""
    from gunicorn import util

    util.write_error = write_error_envelope
