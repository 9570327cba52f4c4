"""`AsyncLaurel`: the asyncio twin of `Laurel`, method for method (see client.py)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
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


class AsyncLaurel:
    """`Laurel` for asyncio: the same methods, awaited; `history` is an async iterator."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._headers = _core.client_headers(token)
        self._base_url = base_url.rstrip("/")
        self._max_retries = max_retries
        self._sleep = sleep
        self._random = random.Random()

    async def track(
        self,
        event_id: str,
        user_id: str,
        metadata: Mapping[str, Any] | None = None,
        *,
        timestamp: Moment | None = None,
        idempotency_key: str | None = None,
    ) -> EventResult:
        body = _core.event_body(
            event_id, user_id, metadata, timestamp, idempotency_key or _core.new_key()
        )
        response = await self._send(_core.track_call(body))
        return EventResult.from_json(_core.data_of(response), replayed=_core.replayed(response))

    async def track_many(self, events: Iterable[Mapping[str, Any]]) -> list[BatchItemResult]:
        results: list[BatchItemResult] = []
        for batch in _core.batches(events):
            call = Call("POST", "/events/batch", retry_safe=True, json={"events": batch})
            data = _core.data_of(await self._send(call))
            results.extend(_core.batch_results(data, batch, offset=len(results)))
        return results

    async def user(self, user_id: str) -> Profile:
        response = await self._send(Call("GET", _core.user_path(user_id), retry_safe=True))
        return Profile.from_json(_core.data_of(response))

    async def history(
        self,
        user_id: str,
        *,
        type: str | None = None,
        event_id: str | None = None,
        since: Moment | None = None,
        until: Moment | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[HistoryItem]:
        params = _core.history_params(type, event_id, since, until, page_size)
        path = _core.user_path(user_id) + "/history"
        cursor: str | None = None
        while True:
            page_params = {**params, "cursor": cursor} if cursor else params
            page = _core.data_of(await self._send(Call("GET", path, True, params=page_params)))
            for item in page["items"]:
                yield HistoryItem.from_json(item)
            cursor = page["nextCursor"]
            if not cursor:
                return

    async def adjust(
        self, user_id: str, delta: int, reason: str, *, idempotency_key: str | None = None
    ) -> AdjustmentResult:
        key = idempotency_key or _core.new_key()
        body = {"delta": delta, "reason": reason, "idempotencyKey": key}
        call = Call("POST", _core.user_path(user_id) + "/adjustments", True, json=body)
        response = await self._send(call)
        return AdjustmentResult.from_json(
            _core.data_of(response), replayed=_core.replayed(response)
        )

    async def leaderboard(self, period: str = "week", limit: int = 10) -> Leaderboard:
        params = {"period": period, "limit": limit}
        response = await self._send(Call("GET", "/leaderboards", True, params=params))
        return Leaderboard.from_json(_core.data_of(response))

    async def _send(self, call: Call) -> httpx.Response:
        attempt = 0
        while True:
            may_retry = call.retry_safe and attempt < self._max_retries
            try:
                response = await self._http.request(
                    call.method,
                    self._base_url + call.path,
                    json=call.json,
                    params=call.params or None,
                    headers={**self._headers, **call.headers},
                )
            except httpx.TransportError as error:
                if not may_retry:
                    raise _core.connection_error(error) from error
                await self._sleep(_core.backoff(attempt, self._random))
            else:
                if response.is_success:
                    return response
                delay = _core.retry_delay(response, attempt, self._random) if may_retry else None
                if delay is None:
                    raise _core.error_from(response)
                await self._sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncLaurel:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
