"""`Laurel`: the synchronous client."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

import httpx

from . import _core
from ._core import Call, Moment
from .models import (
    AdjustmentResult,
    BatchItemResult,
    EventResult,
    HistoryItem,
    Leaderboard,
    Profile,
)


class Laurel:
    """A client of one Laurel server for one token.

    Retries, at most `max_retries` times, what cannot be applied twice by repeating it (reads,
    and writes with an idempotency key, which `track`, `track_many` and `adjust` always send):
    lost connections and 5xx with jittered exponential backoff, 429 after its `Retry-After`.
    Any other error answer raises `LaurelError`.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout)
        self._headers = _core.client_headers(token)
        self._base_url = base_url.rstrip("/")
        self._max_retries = max_retries
        self._sleep = sleep
        self._random = random.Random()

    # -- the API ---------------------------------------------------------------------------

    def track(
        self,
        event_id: str,
        user_id: str,
        metadata: Mapping[str, Any] | None = None,
        *,
        timestamp: Moment | None = None,
        idempotency_key: str | None = None,
    ) -> EventResult:
        """Record an event (POST /event). Without `idempotency_key` one is generated, so the
        client's own retries never award the event twice; pass your own (an order id, say) to
        make your retries safe too."""
        body = _core.event_body(
            event_id, user_id, metadata, timestamp, idempotency_key or _core.new_key()
        )
        response = self._send(_core.track_call(body))
        return EventResult.from_json(_core.data_of(response), replayed=_core.replayed(response))

    def track_many(self, events: Iterable[Mapping[str, Any]]) -> list[BatchItemResult]:
        """Record any number of events, given as POST /event bodies (`eventId`, `userId`,
        optional `metadata`, `timestamp`, `idempotencyKey`), in batches of at most 100.

        One result per event, in the order given; a bad event fails only itself (its
        `status` and `error`). Events without a key get their own, returned in the result.
        """
        results: list[BatchItemResult] = []
        for batch in _core.batches(events):
            call = Call("POST", "/events/batch", retry_safe=True, json={"events": batch})
            data = _core.data_of(self._send(call))
            results.extend(_core.batch_results(data, batch, offset=len(results)))
        return results

    def user(self, user_id: str) -> Profile:
        """A user's profile (GET /users/{userId}); unknown user: LaurelError 404 not_found."""
        response = self._send(Call("GET", _core.user_path(user_id), retry_safe=True))
        return Profile.from_json(_core.data_of(response))

    def history(
        self,
        user_id: str,
        *,
        type: str | None = None,
        event_id: str | None = None,
        since: Moment | None = None,
        until: Moment | None = None,
        page_size: int = 100,
    ) -> Iterator[HistoryItem]:
        """Every event and points entry of a user, newest first, fetching page after page.

        `type` "event" or "points", `event_id`, and `since`/`until` (inclusive) filter it.
        """
        params = _core.history_params(type, event_id, since, until, page_size)
        path = _core.user_path(user_id) + "/history"
        cursor: str | None = None
        while True:
            page_params = {**params, "cursor": cursor} if cursor else params
            page = _core.data_of(self._send(Call("GET", path, True, params=page_params)))
            for item in page["items"]:
                yield HistoryItem.from_json(item)
            cursor = page["nextCursor"]
            if not cursor:
                return

    def adjust(
        self, user_id: str, delta: int, reason: str, *, idempotency_key: str | None = None
    ) -> AdjustmentResult:
        """Add (or, negative, take) points (POST /users/{userId}/adjustments); needs a token
        with the users:write scope and a `sub`. A key is generated when none is given."""
        body = {
            "delta": delta,
            "reason": reason,
            "idempotencyKey": idempotency_key or _core.new_key(),
        }
        call = Call("POST", _core.user_path(user_id) + "/adjustments", True, json=body)
        response = self._send(call)
        return AdjustmentResult.from_json(
            _core.data_of(response), replayed=_core.replayed(response)
        )

    def leaderboard(self, period: str = "week", limit: int = 10) -> Leaderboard:
        """The current period's ranking: period "day", "week", "month" or "all"."""
        params = {"period": period, "limit": limit}
        response = self._send(Call("GET", "/leaderboards", True, params=params))
        return Leaderboard.from_json(_core.data_of(response))

    # -- plumbing --------------------------------------------------------------------------

    def _send(self, call: Call) -> httpx.Response:
        attempt = 0
        while True:
            may_retry = call.retry_safe and attempt < self._max_retries
            try:
                response = self._http.request(
                    call.method,
                    self._base_url + call.path,
                    json=call.json,
                    params=call.params or None,
                    headers={**self._headers, **call.headers},
                )
            except httpx.TransportError as error:
                if not may_retry:
                    raise _core.connection_error(error) from error
                self._sleep(_core.backoff(attempt, self._random))
            else:
                if response.is_success:
                    return response
                delay = _core.retry_delay(response, attempt, self._random) if may_retry else None
                if delay is None:
                    raise _core.error_from(response)
                self._sleep(delay)
            attempt += 1

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Laurel:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
