"""verify_webhook: against a real delivery from Laurel, and the scheme's edge cases."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from laurel_client import Laurel, verify_webhook

from jobs.queue import InProcessQueue, use_queue
from tests.support.webhooks import Receiver

SECRET = "whsec_sdk_0123456789abcdef"
OLD_SECRET = "whsec_old_0123456789abcdef"


@pytest.fixture
def delivery(
    rewards: None, client: Any, auth: Any, clients: Any, laurel: Laurel, receiver: Receiver
) -> tuple[str, bytes]:
    """Track an event with a webhook subscribed; return the delivery's signature and body."""
    queue = InProcessQueue(clients, start=False)  # jobs run when the test says
    use_queue(clients, queue)
    hook = {"url": receiver.url, "secret": SECRET, "events": ["event.rewarded"]}
    assert client.put("/admin/webhooks/sdk", json=hook, headers=auth("admin")).status_code == 200

    laurel.track("daily_login", "ann")
    assert queue.run_due() >= 1

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    return headers["X-Laurel-Signature"], body


def signed_at(header: str) -> int:
    return int(dict(part.split("=", 1) for part in header.split(","))["t"])


def test_a_real_delivery_verifies_with_its_secret(delivery: tuple[str, bytes]) -> None:
    header, body = delivery
    sent = signed_at(header)

    assert b'"type":"event.rewarded"' in body.replace(b" ", b"")
    assert verify_webhook(SECRET, header, body, now=lambda: sent + 5)
    assert verify_webhook(SECRET.encode(), header, body.decode(), now=lambda: sent + 5)


def test_a_real_delivery_fails_with_another_secret_or_body(delivery: tuple[str, bytes]) -> None:
    header, body = delivery
    sent = signed_at(header)

    assert not verify_webhook(OLD_SECRET, header, body, now=lambda: sent)
    assert not verify_webhook(SECRET, header, body + b" ", now=lambda: sent)


def test_a_real_delivery_is_refused_outside_the_tolerance(delivery: tuple[str, bytes]) -> None:
    header, body = delivery
    sent = signed_at(header)

    assert verify_webhook(SECRET, header, body, now=lambda: sent + 300)
    assert not verify_webhook(SECRET, header, body, now=lambda: sent + 301)
    assert not verify_webhook(SECRET, header, body, now=lambda: sent - 301)
    assert verify_webhook(SECRET, header, body, tolerance=3600, now=lambda: sent + 3000)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def test_any_of_several_v1_values_verifies_while_a_secret_rotates() -> None:
    body, t = b'{"type":"event.rewarded"}', 1_800_000_000
    header = f"t={t},v1={sign(OLD_SECRET, t, body)},v1={sign(SECRET, t, body)}"

    assert verify_webhook(SECRET, header, body, now=lambda: t)
    assert verify_webhook(OLD_SECRET, header, body, now=lambda: t)
    assert not verify_webhook("whsec_another_0123456789", header, body, now=lambda: t)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "v1=abc",  # no timestamp
        "t=1800000000",  # no signature
        "t=soon,v1=abc",
        "t=1800000000,v1=",
        "t=1800000000,v0=" + "0" * 64,  # an unknown scheme is not a signature
    ],
)
def test_malformed_headers_do_not_verify(header: str) -> None:
    assert not verify_webhook(SECRET, header, b"{}", now=lambda: 1_800_000_000)


def test_the_signature_must_sign_this_timestamp() -> None:
    body, t = b"{}", 1_800_000_000
    moved = f"t={t + 10},v1={sign(SECRET, t, body)}"  # a replay with a fresh-looking t

    assert not verify_webhook(SECRET, moved, body, now=lambda: t + 10)
