"""One webhook POST to the address that was checked, bounded in time and in what it reads.

- Resolved once: the name is resolved, every address it has is checked (unless private
  destinations are allowed), and the connection goes to the checked address, with the name
  in the Host header and, for HTTPS, in SNI and the certificate check. A resolver that answers
  a public address to the check and 127.0.0.1 to the connection (DNS rebinding) gets nothing.
- One deadline per attempt: connecting, sending and reading the answer together take at most
  `deadline` seconds. Socket timeouts bound each read only, so a receiver dripping one byte
  every few seconds would outlast them; a timer shuts the socket down at the deadline.
- At most MAX_RESPONSE_BYTES of the answer are read: only its status matters.
- Failures raise PostFailed with a message fit for the tenant's delivery log: what kind of
  failure, never an address of Laurel's network or the text of a low-level error (those are
  logged here, for the operator).
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 64 * 1024

Resolver = Callable[..., list[tuple[Any, ...]]]


class PostFailed(Exception):
    """The attempt failed; the message is safe to show the webhook's owner."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_target(url: str) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PostFailed("the URL is not an http(s) URL", retryable=False)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise PostFailed("the URL's port is invalid", retryable=False) from None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, parts.hostname, port, path)


def checked_address(
    target: Target, may_reach_private: bool, resolve: Resolver | None = None
) -> tuple[Any, ...]:
    """Resolve the host once; refuse it when any address is not public (unless allowed);
    return the socket address to connect to."""
    try:
        infos = (resolve or socket.getaddrinfo)(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise PostFailed("the host name could not be resolved") from None
    if not infos:
        raise PostFailed("the host name could not be resolved")
    if not may_reach_private:
        for info in infos:
            if not ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]).is_global:
                log.warning("webhook host %s resolves to %s: refused", target.host, info[4][0])
                raise PostFailed(
                    "the destination resolves to a non-public address", retryable=False
                )
    family, _, _, _, address = infos[0][:5]
    return (family, address)


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    may_reach_private: bool,
    connect_timeout: float,
    deadline: float,
    resolve: Resolver | None = None,
) -> int:
    """POST `body` to `url` once; return the answer's status code (raises PostFailed)."""
    started = time.monotonic()
    target = parse_target(url)
    family, address = checked_address(target, may_reach_private, resolve)

    def left() -> float:
        remaining = deadline - (time.monotonic() - started)
        if remaining <= 0:
            raise PostFailed(f"no answer within {deadline:g} seconds")
        return remaining

    sock = socket.socket(family, socket.SOCK_STREAM)
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    timer = threading.Timer(left(), expire)
    timer.daemon = True
    timer.start()
    try:
        status = _exchange(sock, target, address, body, headers, connect_timeout, left)
        if expired.is_set():  # a cut answer can still parse ("HTTP/1.1 200" and nothing)
            raise PostFailed(f"no answer within {deadline:g} seconds")
        return status
    except PostFailed:
        raise
    except (OSError, http.client.HTTPException, ValueError) as error:
        if expired.is_set():
            raise PostFailed(f"no answer within {deadline:g} seconds") from None
        log.info("webhook POST to %s failed: %s: %s", target.host, type(error).__name__, error)
        raise PostFailed(_kind_of(error)) from None
    finally:
        timer.cancel()
        sock.close()


def _exchange(
    sock: socket.socket,
    target: Target,
    address: Any,
    body: bytes,
    headers: Mapping[str, str],
    connect_timeout: float,
    left: Callable[[], float],
) -> int:
    sock.settimeout(min(connect_timeout, left()))
    sock.connect(address)
    # Past the deadline, the timer in `post` cuts the exchange; this only backs it up.
    sock.settimeout(left() + 1)
    stream: socket.socket = sock
    if target.scheme == "https":
        # The name, not the address, is what the certificate must prove.
        stream = ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
    connection = http.client.HTTPConnection(target.host, target.port)
    connection.sock = stream  # connected already: http.client sends on it as it is
    connection.request("POST", target.path, body=body, headers=dict(headers))
    response = connection.getresponse()
    response.read(MAX_RESPONSE_BYTES)  # the status is the answer; never more than this
    return response.status


def _kind_of(error: BaseException) -> str:
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return "the TLS handshake failed"
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(error, http.client.HTTPException):
        return "the answer was not valid HTTP"
    return "the connection failed"
