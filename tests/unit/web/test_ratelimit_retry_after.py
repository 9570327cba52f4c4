"""web.ratelimit's Retry-After hooks leave every answer's headers as they did when they read
every answer's own Retry-After and popped the limiter's: run around flask-limiter's header
injection, on random statuses and headers, both give the same header list."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response
from flask.globals import app_ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from web import ratelimit
from web.ratelimit import LaurelLimiter

Hook = Callable[[Response], Response]


def keep_own_retry_after_before(response: Response) -> Response:
    """web.ratelimit._keep_own_retry_after as it was."""
    own = response.headers.get("Retry-After")
    if own is not None:
        app_ctx.g.own_retry_after = own
    return response


def retry_after_only_when_refused_before(response: Response) -> Response:
    """web.ratelimit._retry_after_only_when_refused as it was."""
    status = response.status_code
    if status == 429:
        return response
    own = app_ctx.g.get("own_retry_after") if status == 503 else None
    if own is not None:
        response.headers["Retry-After"] = own
    else:
        response.headers.pop("Retry-After", None)
    return response


def headers_after(
    keep: Hook, only_when_refused: Hook, status: int, headers: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The headers of an answer of `status` carrying `headers`, from an app with the hooks
    around the limiter's, registered as web.ratelimit registers them."""
    app = Flask("retry_after")
    app.after_request(only_when_refused)
    LaurelLimiter(
        lambda: "caller",
        application_limits=["1000/minute"],
        storage_uri="memory://",
        strategy="moving-window",
        headers_enabled=True,
    ).init_app(app)
    app.after_request(keep)

    @app.get("/")
    def answer() -> Response:
        return Response("{}", status=status, headers=headers)

    sent = app.test_client().get("/")
    # The limiter's reset time and a 429's wait count seconds: their values are not compared.
    counted = {"x-ratelimit-reset"} | ({"retry-after"} if status == 429 else set())
    return [(name, "" if name.lower() in counted else value) for name, value in sent.headers]


BEFORE = (keep_own_retry_after_before, retry_after_only_when_refused_before)
NOW = (ratelimit._keep_own_retry_after, ratelimit._retry_after_only_when_refused)
NAMES = st.sampled_from(["Retry-After", "retry-after", "RETRY-AFTER", "X-Other", "Allow"])
HEADERS = st.lists(st.tuples(NAMES, st.sampled_from(["7", "120", "0"])), max_size=4)
STATUSES = st.sampled_from([200, 201, 204, 400, 404, 413, 422, 429, 500, 503])


@settings(max_examples=300, deadline=None)
@given(status=STATUSES, headers=HEADERS)
def test_retry_after_hooks_answer_as_before(status: int, headers: list[tuple[str, str]]) -> None:
    assert headers_after(*NOW, status, headers) == headers_after(*BEFORE, status, headers)


def test_a_503_keeps_its_own_wait_and_a_200_loses_the_limiters() -> None:
    assert ("Retry-After", "120") in headers_after(*NOW, 503, [("Retry-After", "120")])
    assert "Retry-After" not in dict(headers_after(*NOW, 200, []))
    assert "Retry-After" not in dict(headers_after(*NOW, 404, [("Retry-After", "7")]))
