"""Retries against the embedded server: 5xx with backoff and lost connections; never a
write that could be applied twice. (429: test_client_rate_limit.py.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from laurel_client import Laurel, LaurelError
from laurel_client._core import Call

from tests.sdk.conftest import SUPPORT_SCOPES, TIMEOUT, Sleeps
from web.resources import events, users

pytestmark = pytest.mark.usefixtures("rewards")


class Fault(Exception):
    """Injected into the server: an operation that fails once."""


def fail_once(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, *, after: bool) -> None:
    """Make `module.name` raise once, before or after doing its work (a 500 either way)."""
    real = getattr(module, name)
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1 and not after:
            raise Fault("injected before the write")
        result = real(*args, **kwargs)
        if calls["n"] == 1:
            raise Fault("injected after the write")
        return result

    monkeypatch.setattr(module, name, flaky)


def test_a_500_after_the_write_is_retried_and_replayed_so_it_pays_once(
    laurel: Laurel, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_once(monkeypatch, events, "record_event", after=True)

    result = laurel.track("daily_login", "ann")

    assert (result.balance, result.replayed) == (10, True)
    assert laurel.user("ann").points.balance == 10
    assert len(sleeps.waits) == 1 and 0.25 <= sleeps.waits[0] <= 0.5  # first backoff, jittered


def test_a_500_on_a_read_is_retried(
    laurel: Laurel, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    laurel.track("daily_login", "ann")
    fail_once(monkeypatch, users, "user_profile", after=False)

    assert laurel.user("ann").points.balance == 10
    assert len(sleeps.waits) == 1


def test_retries_stop_after_max_retries_with_growing_waits(
    server: str, make_token: Any, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise Fault("down for good")

    monkeypatch.setattr(users, "user_profile", broken)
    laurel = Laurel(
        server, make_token(SUPPORT_SCOPES), timeout=TIMEOUT, max_retries=3, sleep=sleeps
    )

    with pytest.raises(LaurelError) as raised:
        laurel.user("ann")

    assert (raised.value.status, raised.value.code) == (500, "internal_error")
    assert len(sleeps.waits) == 3
    for attempt, wait in enumerate(sleeps.waits):
        ceiling = 0.5 * 2**attempt
        assert ceiling / 2 <= wait <= ceiling


def test_a_write_without_a_key_is_never_retried(
    laurel: Laurel, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_once(monkeypatch, events, "record_event", after=True)
    keyless = Call(
        "POST", "/event", retry_safe=False, json={"eventId": "daily_login", "userId": "a"}
    )

    with pytest.raises(LaurelError) as raised:
        laurel._send(keyless)

    assert raised.value.status == 500
    assert sleeps.waits == []
    assert laurel.user("a").points.balance == 10  # the write happened once: no second try


class FirstConnectionFails(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.failed = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.failed:
            self.failed += 1
            raise httpx.ConnectError("connection refused (injected)", request=request)
        return super().handle_request(request)


def test_a_lost_connection_is_retried(server: str, make_token: Any, sleeps: Sleeps) -> None:
    transport = FirstConnectionFails()
    with httpx.Client(timeout=TIMEOUT, transport=transport) as http:
        laurel = Laurel(server, make_token(SUPPORT_SCOPES), http_client=http, sleep=sleeps)
        result = laurel.track("daily_login", "ann")

    assert (transport.failed, result.balance, len(sleeps.waits)) == (1, 10, 1)


def test_no_server_is_a_connection_error_after_the_retries(sleeps: Sleeps) -> None:
    laurel = Laurel("http://127.0.0.1:9", "token", max_retries=2, timeout=2, sleep=sleeps)

    with pytest.raises(LaurelError) as raised:
        laurel.leaderboard()

    assert (raised.value.status, raised.value.code) == (None, "connection_error")
    assert len(sleeps.waits) == 2
