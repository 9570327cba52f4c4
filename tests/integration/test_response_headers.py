"""Headers on every route of the URL map: nosniff everywhere, no-store on authenticated
answers, and CORS only for the origins of CORS_ORIGINS (preflights included)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from core.clients import Clients
from core.settings import Settings
from web import create_app

ALLOWED = "https://app.example.com"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def every_route(app: Any) -> Iterator[tuple[str, str]]:
    """(method, url) for each rule and method, path arguments filled with a sample id."""
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "sample-id", rule.rule)
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            yield method, url


def call(client: Any, method: str, url: str, headers: dict[str, str]) -> Any:
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return client.open(url, method=method, headers=headers, **body)


def test_the_map_holds_the_routes_this_test_means_to_walk(app: Any) -> None:
    routes = set(every_route(app))

    assert len(routes) > 30
    assert ("GET", "/metrics") in routes and ("POST", "/event") in routes
    assert ("GET", "/users/sample-id") in routes


def test_every_route_says_nosniff_and_no_store_when_authenticated(
    app: Any, client: Any, auth: Any
) -> None:
    admin = auth("admin")
    for method, url in every_route(app):
        anonymous = call(client, method, url, {})
        signed_in = call(client, method, url, admin)

        assert anonymous.headers["X-Content-Type-Options"] == "nosniff", (method, url)
        assert signed_in.headers["X-Content-Type-Options"] == "nosniff", (method, url)
        assert signed_in.headers["Cache-Control"] == "no-store", (method, url)
        assert "Access-Control-Allow-Origin" not in signed_in.headers, (method, url)
        assert signed_in.headers["X-Request-ID"], (method, url)


def test_public_answers_may_be_cached(client: Any) -> None:
    assert "no-store" not in client.get("/health/live").headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/openapi.json").headers.get("Cache-Control", "")


@pytest.fixture
def cors_client(settings: Settings, clients: Clients) -> Any:
    allowed = Settings(**{**settings.__dict__, "cors_origins": (ALLOWED,)})
    return create_app(allowed, clients)


def test_cors_answers_listed_origins_on_every_route_and_their_preflights(
    cors_client: Any, auth: Any
) -> None:
    client = cors_client.test_client()
    for method, url in every_route(cors_client):
        allowed = call(client, method, url, {**auth("admin"), "Origin": ALLOWED})
        other = call(client, method, url, {**auth("admin"), "Origin": "https://evil.example"})
        preflight = client.options(
            url,
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )

        assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED, (method, url)
        assert "X-Request-ID" in allowed.headers["Access-Control-Expose-Headers"]
        assert "Origin" in allowed.headers["Vary"]
        assert "Access-Control-Allow-Origin" not in other.headers, (method, url)
        assert preflight.status_code == 200, (method, url)
        assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert method in preflight.headers["Access-Control-Allow-Methods"], (method, url)
        allowed_headers = preflight.headers["Access-Control-Allow-Headers"]
        assert "Authorization" in allowed_headers and "Content-Type" in allowed_headers
        assert "Access-Control-Allow-Credentials" not in preflight.headers


def test_a_preflight_from_an_unlisted_origin_gets_no_cors_headers(cors_client: Any) -> None:
    preflight = cors_client.test_client().options(
        "/event",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )

    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Methods" not in preflight.headers


def test_cors_origins_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {"CORS_ORIGINS": " https://a.example/, https://b.example ", "LOG_FORMAT": "JSON"}
    )

    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.log_format == "json"
