"""Checking that a webhook delivery comes from Laurel.

`X-Laurel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. While a
secret is being rotated the header may carry several `v1` values; one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable


def verify_webhook(
    secret: str | bytes,
    signature_header: str,
    body: bytes | str,
    *,
    tolerance: int = 300,
    now: Callable[[], float] = time.time,
) -> bool:
    """True when `body` was signed with `secret` no more than `tolerance` seconds from now.

    Pass the raw body as received (not re-serialised JSON). Comparisons take constant time;
    the tolerance refuses replays of an old delivery. `now` gives the current Unix time.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in signature_header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates or abs(now() - timestamp) > tolerance:
        return False
    key = secret.encode() if isinstance(secret, str) else secret
    payload = body.encode() if isinstance(body, str) else body
    expected = hmac.new(key, f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    # Compare with every value, without stopping early, so timing tells nothing.
    matches = [hmac.compare_digest(expected, candidate) for candidate in candidates]
    return any(matches)
