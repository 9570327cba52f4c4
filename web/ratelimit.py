"""Rate limits with flask-limiter: RATE_LIMIT per project and kind of token, across its routes.

Each project has two budgets of RATE_LIMIT: one for event tokens (tokens holding only
`events:*` scopes: the apps) and one for every other token (admin, support, reports: people
and their tools), so that an app exhausting its budget never locks its operators out.

Counters live in Redis (memory in the embedded default). When Redis fails or hangs, the
limiter logs it and counts in this process's memory instead (re-checking Redis after 1, 2, 4 …
32 s); any other limiter error lets the request through (`swallow_errors`). An outage of Redis
never takes the event API down with it. The key and cost functions below only read what
web.bodies stored before the limiter ran, so they cannot raise: a hostile body can never make
the limiter believe its storage failed.

A batch costs one hit per event. When fewer are left in the window than the batch carries, it
is still taken: its first events, as many as are left, are recorded and paid for, and the
others are answered 429 in their result (`batch_allowance`), so a batch is never refused for
ever while other requests keep using the budget, and batching never buys more than the limit.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, g, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many

from core.clients import Clients
from core.settings import Settings
from web.auth import principal_or_none
from web.bodies import parsed_body, refuse_bad_body
from web.schemas.events import MAX_BATCH_EVENTS

# Health checks, metrics scrapes and the API documentation are never limited.
EXEMPT_BLUEPRINTS = frozenset({"health", "api-docs", "swagger_ui", "metrics"})
KEY_PREFIX = "laurel"
SCOPE = "global"  # flask-limiter's scope of application-wide limits
EVENT_SCOPES = frozenset({"events:write", "events:import"})


def rate_limit_key() -> str:
    principal = principal_or_none()
    if principal is not None:
        kind = "events" if principal.scopes <= EVENT_SCOPES else "staff"
        return f"project:{principal.project}:{kind}"
    return f"ip:{request.remote_addr}"


def batch_events() -> int | None:
    """How many events the request's batch carries (None: not a batch, or not one yet)."""
    if request.endpoint != "events.batch":
        return None
    body = parsed_body()
    events = body.get("events") if isinstance(body, dict) else None
    return len(events) if isinstance(events, list) else None


def batch_allowance() -> int | None:
    """How many of the batch's events the limiter let through (None: all of them)."""
    allowance: int | None = g.get("batch_allowance")
    return allowance


def batch_cost(limiter: Callable[[], Limiter], items: list[RateLimitItem]) -> Callable[[], int]:
    """One hit per event of a batch, at most what is left in every window (at least 1, so
    a batch over a spent budget is refused like any request). Worked out once per request:
    flask-limiter asks for the cost once per limit, after hitting the previous ones."""

    def cost() -> int:
        if "rate_cost" in g:
            return int(g.rate_cost)
        events = batch_events()
        g.rate_cost = 1
        if events is not None and events > 1:
            events = min(events, MAX_BATCH_EVENTS)
            strategy, key = limiter().limiter, rate_limit_key()
            left = min(
                strategy.get_window_stats(item, KEY_PREFIX, key, SCOPE).remaining for item in items
            )
            g.rate_cost = max(1, min(events, left))
            if g.rate_cost < events:
                g.batch_allowance = g.rate_cost
        return int(g.rate_cost)

    return cost


def init_rate_limits(app: Flask, settings: Settings, clients: Clients) -> Limiter:
    storage_uri, storage_options = clients.rate_limit_storage()
    # Flask runs after_request hooks last-registered first: this one runs after the limiter's.
    app.after_request(_retry_after_only_when_refused)
    made: list[Limiter] = []
    limiter = Limiter(
        rate_limit_key,
        app=app,
        application_limits=[settings.rate_limit],
        application_limits_cost=batch_cost(lambda: made[0], parse_many(settings.rate_limit)),
        application_limits_exempt_when=lambda: request.blueprint in EXEMPT_BLUEPRINTS,
        storage_uri=storage_uri,
        storage_options=storage_options,
        in_memory_fallback_enabled=True,
        in_memory_fallback=[settings.rate_limit],
        strategy="moving-window",
        headers_enabled=True,
        swallow_errors=True,
        key_prefix=KEY_PREFIX,
    )
    made.append(limiter)
    app.before_request(refuse_bad_body)  # after the limiter: a refused body still counts
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
