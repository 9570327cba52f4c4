"""What every request leaves behind for operators: its request id, metrics and a log line.

- `X-Request-ID`: the caller's when it is 1-128 characters of [A-Za-z0-9._-], else a new one;
  echoed on the response and bound to the request's context (core.logs), so every log line of
  the request, and the jobs it queues (jobs.queue), carry it.
- `laurel_http_requests_total` / `laurel_http_request_duration_seconds`, labelled with the
  route template (`/users/<user_id>`), never the raw path: one series per route, whatever ids
  the callers send.
- One access line per request (`method, path, status, durationMs, project`): the path without
  its query string and never a header, so no token reaches the log.
"""

from __future__ import annotations

import logging
import re
import time
from contextvars import Token

from flask import Flask, Response

from core import metrics
from core.logs import accepted_request_id
from core.logs import request_id as request_id_var
from web.auth import Principal
from web.context import app_context, request_context

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_KEY = "HTTP_X_REQUEST_ID"  # the header's key in the WSGI environ
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"  # 404s of unknown paths share one series
# Probes and scrapes come every few seconds; their lines would drown the rest.
QUIET_ROUTES = frozenset({"/metrics", "/health/live", "/health/ready"})
# POST /event answered 4xx: the event was refused (batch items are counted by the view).
EVENT_ENDPOINTS = frozenset({"events.event", "events.event_v1"})

access_log = logging.getLogger("laurel.access")


_CONVERTER = re.compile(r"<[A-Za-z_]+:")


def current_request_id() -> str | None:
    return request_id_var.get()


def init_observability(app: Flask) -> None:
    """Register the hooks; call it before other extensions add theirs, so the clock starts
    before any of them can answer (a rate limit's 429 is timed and counted too)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_unbind)


def _start() -> None:
    state, environ = app_context().g, request_context().request.environ
    state.laurel_started = time.monotonic()
    # (`request.headers.get(REQUEST_ID_HEADER)`, read from the environ directly)
    rid = accepted_request_id(environ.get(REQUEST_ID_KEY))
    state.laurel_request_id = rid
    state.laurel_request_token = request_id_var.set(rid)


def _finish(response: Response) -> Response:
    state = app_context().g
    started = state.get("laurel_started")
    rid = state.get("laurel_request_id")
    if rid is not None:
        response.headers.set(REQUEST_ID_HEADER, rid)  # (what `[...] =` calls)
    if started is None:  # a hook before ours answered; nothing was timed
        return response
    elapsed = time.monotonic() - started
    current = request_context().request
    method = current.method if current.method in KNOWN_METHODS else "OTHER"
    rule = current.url_rule
    route = route_template(rule.rule) if rule is not None else UNMATCHED_ROUTE
    status = response.status_code
    metrics.HTTP_REQUEST_SERIES(method, route, str(status)).inc()
    metrics.HTTP_DURATION_SERIES(method, route).observe(elapsed)
    if current.endpoint in EVENT_ENDPOINTS and 400 <= status < 500:
        metrics.count_event("rejected")
    level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
    if access_log.isEnabledFor(level):
        _log_access(level, current.method, current.path, status, elapsed, state.get("principal"))
    return response


def route_template(rule: str) -> str:
    """The route a URL rule's requests are counted under: "/users/<userId>", not
    "/users/<user:userId>" (converters are not part of the route). Worked out once per rule."""
    route = _ROUTES.get(rule)
    if route is None:
        route = _ROUTES[rule] = _CONVERTER.sub("<", rule)
    return route


# The route of each URL rule of the app's maps (as many as their routes).
_ROUTES: dict[str, str] = {}


def _log_access(
    level: int, method: str, path: str, status: int, elapsed: float, principal: object
) -> None:
    """The access line, handed to the logger's handlers as `Logger.log` would, made here:
    `log` looks up its caller by walking the stack for every line, and the caller is known
    (this function; the record names it, without a line number)."""
    record = access_log.makeRecord(
        access_log.name,
        level,
        __file__,
        0,
        "%s %s %d %dms",
        (method, path, status, round(elapsed * 1000)),
        None,
        "_log_access",
        {
            "method": method,
            "path": path,
            "status": status,
            "durationMs": round(elapsed * 1000, 1),
            "project": principal.project if isinstance(principal, Principal) else None,
        },
    )
    access_log.handle(record)


def _unbind(_error: BaseException | None) -> None:
    token: Token[str | None] | None = app_context().g.pop("laurel_request_token", None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (a copied one); it dies with it
            request_id_var.set(None)
