"""Response headers every answer carries: no MIME sniffing, no caching of what a token
unlocked, and CORS for the origins of CORS_ORIGINS only.

CORS is off unless CORS_ORIGINS lists origins (`https://app.example.com,https://admin.example`,
or `*` for any). An allowed origin gets `Access-Control-Allow-Origin` on every answer, and its
preflight (`OPTIONS` with `Access-Control-Request-Method`, answered by Flask for every route)
the methods and headers the API reads. Tokens travel in the Authorization header, never in
cookies, so credentials are never allowed.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, request

from web.context import request_context

ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
EXPOSED_HEADERS = (
    "X-Request-ID, Idempotent-Replayed, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
    "X-RateLimit-Reset"
)
PREFLIGHT_MAX_AGE = "600"  # seconds a browser may reuse a preflight answer
AUTHORIZATION = "HTTP_AUTHORIZATION"  # the Authorization header's key in the WSGI environ


def init_headers(app: Flask, cors_origins: Iterable[str]) -> None:
    origins = frozenset(cors_origins)

    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers.set("X-Content-Type-Options", "nosniff")  # (what `[...] =` calls)
        if _authenticated():
            response.headers.set("Cache-Control", "no-store")
        if origins:
            _add_cors(response, origins)
        return response


def _authenticated() -> bool:
    """The request carried credentials: what it was answered may be for that caller alone
    (and a shared cache must not keep a refusal of them either)."""
    # What `"Authorization" in request.headers` looks up, read from the environ directly.
    return AUTHORIZATION in request_context().request.environ


def _add_cors(response: Response, origins: frozenset[str]) -> None:
    origin = request.headers.get("Origin")
    if origin is None:
        return
    response.vary.add("Origin")
    if "*" not in origins and origin.rstrip("/") not in origins:
        return
    response.headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    wanted = request.headers.get("Access-Control-Request-Method")
    if request.method == "OPTIONS" and wanted is not None:
        allowed = response.headers.get("Allow") or wanted
        response.headers["Access-Control-Allow-Methods"] = allowed
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
