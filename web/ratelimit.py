"""Rate limits with flask-limiter: RATE_LIMIT per project, shared by all its tokens and routes.

Counters live in Redis (memory in the embedded default). When Redis fails, requests are let
through and the failure is logged (`swallow_errors`): an outage of Redis must not take the
event API down with it.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter

from core.clients import Clients
from core.settings import Settings
from web.auth import principal_or_none

# Health checks and the API documentation are never limited.
EXEMPT_BLUEPRINTS = frozenset({"health", "api-docs"})


def rate_limit_key() -> str:
    principal = principal_or_none()
    if principal is not None:
        return f"project:{principal.project}"
    return f"ip:{request.remote_addr}"


def init_rate_limits(app: Flask, settings: Settings, clients: Clients) -> Limiter:
    return Limiter(
        rate_limit_key,
        app=app,
        application_limits=[settings.rate_limit],
        application_limits_exempt_when=lambda: request.blueprint in EXEMPT_BLUEPRINTS,
        storage_uri=clients.rate_limit_storage_uri,
        strategy="moving-window",
        headers_enabled=True,
        swallow_errors=True,
        key_prefix="laurel",
    )
