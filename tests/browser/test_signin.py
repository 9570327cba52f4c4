"""Signing in to the dashboard through a `#token=` link, the navigation a token's scopes
allow, sign-out, and the security headers of every dashboard response."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import (
    LiveServer,
    assert_only_local_requests,
    console_errors,
    element,
    wait_for,
)


def visible_nav(driver: WebDriver) -> list[str]:
    return [link.text for link in driver.find_elements(By.CSS_SELECTOR, "nav li:not([hidden]) a")]


def test_token_link_signs_in_and_leaves_the_address_bar(
    live_server: LiveServer,
    page: Callable[..., WebDriver],
    project: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    token = live_server.token(project, "admin", subject="support-ann")
    driver = page("/dashboard/events", token)

    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#event-list table"), "events")
    assert driver.current_url == f"{live_server.url}/dashboard/events"
    assert token not in driver.execute_script("return location.href")
    assert driver.execute_script("return sessionStorage.getItem('laurel.token')") == token
    assert "support-ann" in driver.find_element(By.ID, "account").text
    assert visible_nav(driver) == [
        "Overview",
        "Events",
        "Insights",
        "Streaks",
        "Challenges",
        "Levels",
        "Webhooks",
        "Users",
        "Leaderboards",
    ]
    assert_only_local_requests(driver, live_server.url)
    assert console_errors(driver) == []
    # The server saw the page and the API calls, never the token in a URL.
    assert "GET /dashboard/events HTTP/1.1" in caplog.text
    assert "GET /admin/events HTTP/1.1" in caplog.text
    assert token not in caplog.text


def test_navigation_shows_only_what_the_scopes_allow(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    driver = page("/dashboard/users", live_server.token(project, "users:read users:write"))

    wait_for(driver, lambda d: d.find_elements(By.ID, "find-user"), "the user search")
    assert visible_nav(driver) == ["Users", "Leaderboards"]


def test_sign_out_forgets_the_token_and_pages_ask_for_one(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    driver = page("/dashboard/users", live_server.token(project, "users:read"))
    element(driver, "#signout").click()

    wait_for(
        driver, lambda d: d.current_url.startswith(f"{live_server.url}/dashboard/signin"), "sign-in"
    )
    assert driver.execute_script("return sessionStorage.getItem('laurel.token')") is None
    driver.get(f"{live_server.url}/dashboard/users")
    wait_for(
        driver, lambda d: "/dashboard/signin?next=" in d.current_url, "the redirect to sign-in"
    )


def test_sign_in_page_takes_a_pasted_token_and_returns_to_the_page(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project, "users:read")
    driver = page("/dashboard/signin?next=/dashboard/users")
    driver.execute_script("sessionStorage.clear()")
    element(driver, "#token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()

    wait_for(driver, lambda d: d.find_elements(By.ID, "find-user"), "the user search")
    assert driver.current_url == f"{live_server.url}/dashboard/users"


def test_dashboard_responses_forbid_inline_scripts_and_framing(live_server: LiveServer) -> None:
    for path in ("/dashboard/", "/dashboard/events/x", "/dashboard/static/js/main.js"):
        response = requests.get(live_server.url + path, timeout=10)
        assert response.status_code == 200
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["X-Frame-Options"] == "DENY"
