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

from collections import defaultdict
from collections.abc import Callable
from dataclasses import fields
from functools import cache
from types import new_class
from typing import Any, cast

from flask import Flask, Response, request
from flask_limiter import ExemptionScope, Limiter
from flask_limiter._extension import LimiterContext
from flask_limiter._limits import RuntimeLimit
from flask_limiter._manager import LimitManager
from limits import RateLimitItem, parse_many

from core.clients import Clients
from core.settings import Settings
from web.auth import principal_or_none
from web.bodies import parsed_body, refuse_bad_body
from web.context import app_context, request_context
from web.schemas.events import MAX_BATCH_EVENTS

# Health checks, metrics scrapes and the API documentation are never limited.
EXEMPT_BLUEPRINTS = frozenset({"health", "api-docs", "swagger_ui", "metrics"})
KEY_PREFIX = "laurel"
SCOPE = "global"  # flask-limiter's scope of application-wide limits
EVENT_SCOPES = frozenset({"events:write", "events:import"})
CONTEXTS = "_limiter_request_context"  # where flask-limiter keeps its per-request state
# Storage keys a parsed limit remembers (one per project and kind of token, one per address of
# unauthenticated callers); past this many it forgets them all and starts again.
KEPT_KEYS = 4096


def rate_limit_key() -> str:
    principal = principal_or_none()
    if principal is not None:
        kind = "events" if principal.scopes <= EVENT_SCOPES else "staff"
        return f"project:{principal.project}:{kind}"
    return f"ip:{request.remote_addr}"


def exempt() -> bool:
    """The request is to a blueprint never limited (health, metrics, the documentation)."""
    return request_context().request.blueprint in EXEMPT_BLUEPRINTS


def batch_events() -> int | None:
    """How many events the request's batch carries (None: not a batch, or not one yet)."""
    if request_context().request.endpoint != "events.batch":
        return None
    body = parsed_body()
    events = body.get("events") if isinstance(body, dict) else None
    return len(events) if isinstance(events, list) else None


def batch_allowance() -> int | None:
    """How many of the batch's events the limiter let through (None: all of them)."""
    allowance: int | None = app_context().g.get("batch_allowance")
    return allowance


def batch_cost(limiter: Callable[[], Limiter], items: list[RateLimitItem]) -> Callable[[], int]:
    """One hit per event of a batch, at most what is left in every window (at least 1, so
    a batch over a spent budget is refused like any request). Worked out once per request:
    flask-limiter asks for the cost once per limit, after hitting the previous ones."""

    def cost() -> int:
        state = app_context().g
        kept: int | None = state.get("rate_cost")
        if kept is not None:
            return kept
        events = batch_events()
        paid = state.rate_cost = 1  # (the answer if the storage fails while asked below)
        if events is not None and events > 1:
            events = min(events, MAX_BATCH_EVENTS)
            strategy, key = limiter().limiter, rate_limit_key()
            left = min(
                strategy.get_window_stats(item, KEY_PREFIX, key, SCOPE).remaining for item in items
            )
            paid = max(1, min(events, left))
            if paid < events:
                state.batch_allowance = paid
        state.rate_cost = paid
        return paid

    return cost


def init_rate_limits(app: Flask, settings: Settings, clients: Clients) -> Limiter:
    storage_uri, storage_options = clients.rate_limit_storage()
    # Flask runs after_request hooks last-registered first: this one runs after the limiter's.
    app.after_request(_retry_after_only_when_refused)
    made: list[Limiter] = []
    limiter = LaurelLimiter(
        rate_limit_key,
        application_limits=[settings.rate_limit],
        application_limits_cost=batch_cost(lambda: made[0], parse_many(settings.rate_limit)),
        application_limits_exempt_when=exempt,
        storage_uri=storage_uri,
        storage_options=storage_options,
        in_memory_fallback_enabled=True,
        in_memory_fallback=[settings.rate_limit],
        strategy="moving-window",
        headers_enabled=True,
        swallow_errors=True,
        key_prefix=KEY_PREFIX,
    )
    limiter.limit_manager = ApplicationLimitsOnly.taking_over(limiter.limit_manager)
    limiter.init_app(app)
    made.append(limiter)
    app.before_request(refuse_bad_body)  # after the limiter: a refused body still counts
    app.after_request(_keep_own_retry_after)  # runs before the limiter's header injection
    return limiter


class LaurelLimiter(Limiter):
    """flask-limiter's Limiter, finding its state of the current request in fewer steps.

    The limiter reads its per-request state (`context`) about seven times per request, and
    flask-limiter's own property goes through the request context's proxy twice each time
    (`hasattr`, then the attribute). Here the request context is read once, and the state is
    kept where and as flask-limiter keeps it (a defaultdict per limiter on the request
    context), so the two ways of reaching it agree. tests/unit/web/test_ratelimit_limiter.py
    holds them equal."""

    @property
    def context(self) -> LimiterContext:
        kept: dict[str, Any] = request_context().__dict__
        contexts: defaultdict[Limiter, LimiterContext] | None = kept.get(CONTEXTS)
        if contexts is None:
            contexts = kept[CONTEXTS] = defaultdict(LimiterContext)
        return contexts[self]


class ApplicationLimitsOnly(LimitManager):
    """flask-limiter's LimitManager, answering at once while the only limits are application
    limits given as strings (Laurel's: no route, blueprint or default limits, no exemptions).

    The limiter asks it, at every request, which limits apply and what the route is exempt
    from; LimitManager works that out anew each time (looking up decorated, hinted, blueprint
    and default limits, and parsing the limit strings again). Here the limits are parsed once,
    and anything declared beyond them sends the question to LimitManager itself.
    tests/unit/web/test_ratelimit_manager.py holds the answers equal to LimitManager's."""

    _parsed: list[RuntimeLimit] | None = None

    @classmethod
    def taking_over(cls, manager: LimitManager) -> ApplicationLimitsOnly:
        """A manager holding what `manager` holds (call before Limiter.init_app)."""
        # LimitManager keeps what it was given in these attributes; the limiter shares the
        # exemption dicts with it (Limiter.exempt adds to them).
        return cls(
            application_limits=manager._application_limits,
            default_limits=manager._default_limits,
            decorated_limits=manager._decorated_limits,
            blueprint_limits=manager._blueprint_limits,
            route_exemptions=manager._route_exemptions,
            blueprint_exemptions=manager._blueprint_exemptions,
        )

    def set_application_limits(self, limits: Any) -> None:
        self._parsed = None
        super().set_application_limits(limits)

    def _plain(self) -> bool:
        """Only application limits, no exemptions, no hints: what LimitManager's answers
        then come to needs nothing but the application limits."""
        return not (
            self._default_limits
            or self._decorated_limits
            or self._blueprint_limits
            or self._route_exemptions
            or self._blueprint_exemptions
            or self._endpoint_hints
        )

    @property
    def application_limits(self) -> list[RuntimeLimit]:
        if self._parsed is None:
            parsed = super().application_limits
            if not all(isinstance(group.limit_provider, str) for group in self._application_limits):
                return parsed  # a callable may name other limits next time
            self._parsed = [KeptLimit.of(group) for group in parsed]
        return list(self._parsed)

    def resolve_limits(
        self,
        app: Flask,
        endpoint: str | None = None,
        blueprint: str | None = None,
        callable_name: str | None = None,
        in_middleware: bool = False,
        marked_for_limiting: bool = False,
    ) -> tuple[list[RuntimeLimit], ...]:
        if not self._plain():
            return super().resolve_limits(
                app, endpoint, blueprint, callable_name, in_middleware, marked_for_limiting
            )
        # No decorated limit: the application limits in the middleware, none in a view.
        return (self.application_limits if in_middleware else []), []

    def exemption_scope(
        self, app: Flask, endpoint: str | None, blueprint: str | None
    ) -> ExemptionScope:
        if not (self._route_exemptions or self._blueprint_exemptions):
            return ExemptionScope.NONE
        return super().exemption_scope(app, endpoint, blueprint)


class KeptLimit(RuntimeLimit):
    """One of Laurel's parsed limits, hashed once: flask-limiter puts the request's limits in
    sets about five times per request, and a RuntimeLimit hashes its thirteen fields (and its
    `limits` item, in Python) every time. Its fields are never changed once it is made.
    Equal to any RuntimeLimit of equal fields, as RuntimeLimits are among themselves."""

    _hash: int

    @classmethod
    def of(cls, parsed: RuntimeLimit) -> KeptLimit:
        """`parsed`, kept, its item keeping its storage keys (KeptKeys)."""
        values = {field.name: getattr(parsed, field.name) for field in fields(parsed)}
        return cls(**{**values, "limit": keeping_keys(parsed.limit)})

    def __post_init__(self) -> None:
        super().__post_init__()
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuntimeLimit):
            return NotImplemented
        return _compared(self) == _compared(other)


def _compared(limit: RuntimeLimit) -> tuple[Any, ...]:
    """What the dataclass's own `==` compares."""
    return tuple(getattr(limit, field.name) for field in fields(limit) if field.compare)


class KeptKeys(RateLimitItem):
    """A parsed limit (a `limits` item) remembering the storage keys it made: `key_for`
    converts and joins its parts on every call, three times per request (the hit, the
    headers' window, the limiter's record of the request). Equal to the item it was made
    from, as any two items of the same amount and window are, and ordered among kept items
    as the items are among themselves (the limiter sorts Laurel's limits, all of them kept).
    tests/unit/web/test_ratelimit_limiter.py holds the keys equal."""

    __slots__ = ("_keys",)  # limits' items have slots only
    _keys: dict[tuple[Any, ...], str]

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        key = self._keys.get(identifiers)
        if key is None:
            if len(self._keys) >= KEPT_KEYS:
                self._keys.clear()
            key = self._keys[identifiers] = super().key_for(*identifiers)
        return key


@cache
def _keeping_kind(kind: type[RateLimitItem]) -> type[KeptKeys]:
    # limits tells windows apart by class (RateLimitItemPerMinute...): keep the class.
    kept = new_class(f"Kept{kind.__name__}", (KeptKeys, kind), exec_body=_this_module)
    return cast(type[KeptKeys], kept)


def _this_module(namespace: dict[str, Any]) -> None:
    namespace["__module__"] = __name__


def keeping_keys(item: RateLimitItem) -> KeptKeys:
    """`item` as a KeptKeys of the same window class."""
    kept = _keeping_kind(type(item))(item.amount, item.multiples, item.namespace)
    kept._keys = {}
    return kept


def _keep_own_retry_after(response: Response) -> Response:
    """A 503's own `Retry-After`, kept for `_retry_after_only_when_refused` (the only answer
    whose own wait it gives back), on g: the limiter's header injection runs between them."""
    if response.status_code == 503:
        own = response.headers.get("Retry-After")
        if own is not None:
            app_context().g.own_retry_after = own
    return response


def _retry_after_only_when_refused(response: Response) -> Response:
    """The limiter adds `Retry-After` to every answer, a 200 included: keep it on a 429 only,
    and give a 503 back the wait its view chose."""
    status = response.status_code
    if status == 429:
        return response
    own = app_context().g.get("own_retry_after") if status == 503 else None
    if own is not None:
        response.headers["Retry-After"] = own
    else:
        del response.headers["Retry-After"]  # (`pop`, without looking the value up first)
    return response
