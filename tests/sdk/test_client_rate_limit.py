"""A 429 from Laurel's rate limit (RATE_LIMIT set low) is retried after its Retry-After."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from laurel_client import Laurel, LaurelError

from core.settings import Settings
from tests.sdk.conftest import SUPPORT_SCOPES, TIMEOUT, Sleeps


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, rate_limit="3/minute")


@pytest.fixture
def limiter(app: Any, define: Any) -> Any:
    define("events", "daily_login", {"points": {"fixed": 10}})
    [limiter] = app.extensions["limiter"]
    limiter.reset()  # the definition's PUT counted against the project's limit
    return limiter


def test_a_429_is_retried_after_its_retry_after(limiter: Any, server: str, make_token: Any) -> None:
    told: list[str] = []

    def note(response: httpx.Response) -> None:
        if response.status_code == 429:
            told.append(response.headers["Retry-After"])

    def window_passes(_seconds: float) -> None:
        limiter.reset()  # what the clock would do after Retry-After seconds

    sleeps = Sleeps(then=window_passes)
    with httpx.Client(timeout=TIMEOUT, event_hooks={"response": [note]}) as http:
        laurel = Laurel(server, make_token(SUPPORT_SCOPES), http_client=http, sleep=sleeps)
        results = [laurel.track("daily_login", f"u{i}") for i in range(5)]

    assert [result.balance for result in results] == [10] * 5
    assert told and sleeps.waits == [float(seconds) for seconds in told]
    assert all(0 < wait <= 60 for wait in sleeps.waits)


def test_a_429_with_no_retries_left_raises_with_retry_after(
    limiter: Any, server: str, make_token: Any, sleeps: Sleeps
) -> None:
    laurel = Laurel(
        server, make_token(SUPPORT_SCOPES), timeout=TIMEOUT, max_retries=0, sleep=sleeps
    )

    with pytest.raises(LaurelError) as raised:
        for i in range(5):
            laurel.track("daily_login", f"u{i}")

    assert (raised.value.status, raised.value.code) == (429, "rate_limited")
    assert raised.value.retry_after is not None and raised.value.retry_after > 0
    assert sleeps.waits == []
