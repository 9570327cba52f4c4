"""What the sync and the async client share: requests to send, when to retry, how to read.

Nothing here does I/O, so `Laurel` and `AsyncLaurel` differ only in how they wait and send.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from .errors import LaurelError
from .models import BatchItemResult, ErrorInfo, EventResult

__version__ = "0.1.0"
KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_BATCH = 100  # POST /events/batch refuses more
BACKOFF_BASE = 0.5  # seconds before the first retry of a 5xx or a lost connection
BACKOFF_CAP = 8.0

# A moment: an aware datetime, epoch milliseconds, or an ISO-8601 string with an offset.
Moment = datetime | int | str


@dataclass(frozen=True)
class Call:
    """One API request. `retry_safe`: repeating it cannot apply it twice (a read, or a write
    carrying an idempotency key)."""

    method: str
    path: str
    retry_safe: bool
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def new_key() -> str:
    """A fresh idempotency key: the client's own retries of a write never apply it twice."""
    return f"laurel-py-{uuid.uuid4()}"


def client_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "User-Agent": f"laurel-client-python/{__version__}",
    }


def moment(value: Moment) -> int | str:
    """How the API takes a moment: epoch ms and strings as they are, datetimes as ISO-8601."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware (Laurel cannot guess the zone)")
        utc = value.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return value


def event_body(
    event_id: str,
    user_id: str,
    metadata: Mapping[str, Any] | None,
    timestamp: Moment | None,
    idempotency_key: str,
) -> dict[str, Any]:
    body: dict[str, Any] = {"eventId": event_id, "userId": user_id}
    if metadata is not None:
        body["metadata"] = dict(metadata)
    if timestamp is not None:
        body["timestamp"] = moment(timestamp)
    body["idempotencyKey"] = idempotency_key
    return body


def user_path(user_id: str) -> str:
    return "/users/" + quote(user_id, safe="")


def track_call(body: dict[str, Any]) -> Call:
    return Call("POST", "/event", retry_safe=True, json=body)


def batches(events: Iterable[Mapping[str, Any]]) -> list[list[dict[str, Any]]]:
    """The events as POST /event bodies, each with its own key, in slices of ≤ 100."""
    bodies = []
    for event in events:
        body = dict(event)
        if "timestamp" in body and body["timestamp"] is not None:
            body["timestamp"] = moment(body["timestamp"])
        body.setdefault("idempotencyKey", new_key())
        bodies.append(body)
    return [bodies[start : start + MAX_BATCH] for start in range(0, len(bodies), MAX_BATCH)]


def batch_results(
    data: Mapping[str, Any], sent: list[dict[str, Any]], offset: int
) -> list[BatchItemResult]:
    """A batch's results, re-indexed to the position in the caller's list, in its order."""
    by_index = {item["index"]: item for item in data["results"]}
    results = []
    for position, body in enumerate(sent):
        item = by_index[position]
        status = item["status"]
        results.append(
            BatchItemResult(
                index=offset + position,
                status=status,
                data=EventResult.from_json(item["data"], replayed=bool(item.get("replayed")))
                if item.get("data") is not None
                else None,
                error=ErrorInfo.from_json(item["error"]) if item.get("error") else None,
                replayed=bool(item.get("replayed")),
                idempotency_key=body.get("idempotencyKey"),
            )
        )
    return results


def history_params(
    type: str | None,
    event_id: str | None,
    since: Moment | None,
    until: Moment | None,
    page_size: int,
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": page_size}
    for name, value in (("type", type), ("eventId", event_id)):
        if value is not None:
            params[name] = value
    for name, instant in (("from", since), ("to", until)):
        if instant is not None:
            params[name] = moment(instant)
    return params


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a `Retry-After` header (Laurel sends whole seconds), None without one."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: Laurel never sends one; back off instead


def backoff(attempt: int, rng: random.Random) -> float:
    """Exponential backoff with jitter: clients that failed together do not retry together."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0**attempt)
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def retry_delay(response: httpx.Response, attempt: int, rng: random.Random) -> float | None:
    """How long to wait before repeating a request that got `response`; None: do not."""
    if response.status_code == 429:
        wait = retry_after(response)
        return wait if wait is not None else backoff(attempt, rng)
    if response.status_code >= 500:
        return max(retry_after(response) or 0.0, backoff(attempt, rng))
    return None


def error_from(response: httpx.Response) -> LaurelError:
    """The envelope's error, or what can be said of an answer that is not one (a proxy's)."""
    try:
        body = response.json()
        error = body["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") or {}
    except (ValueError, KeyError, TypeError):
        code = "http_error"
        message = response.reason_phrase or f"HTTP {response.status_code}"
        details = {}
    return LaurelError(
        response.status_code, code, message, details, retry_after=retry_after(response)
    )


def connection_error(error: httpx.TransportError) -> LaurelError:
    return LaurelError(None, "connection_error", f"{type(error).__name__}: {error}")


def data_of(response: httpx.Response) -> Any:
    return response.json()["data"]


def replayed(response: httpx.Response) -> bool:
    return bool(response.headers.get(REPLAYED_HEADER) == "true")
