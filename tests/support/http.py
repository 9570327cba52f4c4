"""Talking HTTP to a real server byte for byte, for what a client library would refuse to send."""

from __future__ import annotations

import json
import socket
from typing import Any


def raw_request(port: int, head: bytes) -> tuple[int, str, dict[str, Any]]:
    """Send `head` to 127.0.0.1:`port` as it is; return the status, Content-Type and JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    header_block, _, body = received.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    content_type = next(
        (
            value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
            if name.lower() == "content-type"
        ),
        "",
    )
    return int(lines[0].split()[1]), content_type, json.loads(body)
