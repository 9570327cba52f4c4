"""Rate limits with flask-limiter: RATE_LIMIT per project, shared by all its tokens and routes.

Counters live in Redis (memory in the embedded default). When Redis fails or hangs, the
limiter logs it and counts in this process's memory instead (re-checking Redis after 1, 2, 4 …
32 s); any other limiter error lets the request through (`swallow_errors`). An outage of Redis
never takes the event API down with it.

A batch of events costs one hit per event, up to the smallest window of RATE_LIMIT.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, g, request
from flask_limiter import Limiter
from limits import parse_many

from core.clients import Clients
from core.settings import Settings
from web.auth import principal_or_none
from web.schemas.events import MAX_BATCH_EVENTS

# Health checks and the API documentation are never limited.
EXEMPT_BLUEPRINTS = frozenset({"health", "api-docs", "swagger_ui"})


def rate_limit_key() -> str:
    principal = principal_or_none()
    if principal is not None:
        return f"project:{principal.project}"
    return f"ip:{request.remote_addr}"


def batch_cost(largest: int) -> Callable[[], int]:
    """A batch costs one request per event it carries, so batching never bypasses the limit,
    but never more than `largest` (the smallest window of RATE_LIMIT): a batch bigger than a
    window would otherwise be refused for ever, whatever the client waits."""

    def cost() -> int:
        if request.endpoint != "events.batch":
            return 1
        size = request.content_length
        if size is None or size > (request.max_content_length or 0):
            return 1  # the view answers 413; reading it here would fail inside the limiter
        body = request.get_json(silent=True)
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            return 1
        return max(1, min(len(events), MAX_BATCH_EVENTS, largest))

    return cost


def init_rate_limits(app: Flask, settings: Settings, clients: Clients) -> Limiter:
    storage_uri, storage_options = clients.rate_limit_storage()
    # Flask runs after_request hooks last-registered first: this one runs after the limiter's.
    app.after_request(_retry_after_only_when_refused)
    limiter = Limiter(
        rate_limit_key,
        app=app,
        application_limits=[settings.rate_limit],
        application_limits_cost=batch_cost(
            min(item.amount for item in parse_many(settings.rate_limit))
        ),
        application_limits_exempt_when=lambda: request.blueprint in EXEMPT_BLUEPRINTS,
        storage_uri=storage_uri,
        storage_options=storage_options,
        in_memory_fallback_enabled=True,
        in_memory_fallback=[settings.rate_limit],
        strategy="moving-window",
        headers_enabled=True,
        swallow_errors=True,
        key_prefix="laurel",
    )
    app.after_request(_keep_own_retry_after)  # runs before the limiter's header injection
    return limiter


def _keep_own_retry_after(response: Response) -> Response:
    g.own_retry_after = response.headers.get("Retry-After")
    return response


def _retry_after_only_when_refused(response: Response) -> Response:
    """The limiter adds `Retry-After` to every answer, a 200 included: keep it on a 429 only,
    and give a 503 back the wait its view chose."""
    if response.status_code == 429:
        return response
    own = g.pop("own_retry_after", None)
    if response.status_code == 503 and own is not None:
        response.headers["Retry-After"] = own
    else:
        response.headers.pop("Retry-After", None)
    return response
