"""/docs renders Swagger UI from Laurel's own files: with every other host unreachable, the
operations list is there and no request left 127.0.0.1."""

from __future__ import annotations

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import LiveServer, assert_only_local_requests, wait_for


def test_docs_render_the_operations_offline(live_server: LiveServer, browser: WebDriver) -> None:
    browser.get(f"{live_server.url}/docs")

    operations = wait_for(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"),
        "Swagger UI's operations",
    )
    paths = {operation.get_attribute("data-path") or operation.text for operation in operations}
    assert {"/event", "/users/{userId}", "/analytics/events/{eventId}/metadata"} <= paths
    loaded = assert_only_local_requests(browser, live_server.url)
    assert f"{live_server.url}/docs/assets/swagger-ui-bundle.js" in loaded
    assert f"{live_server.url}/openapi.json" in loaded


def test_docs_assets_are_served_and_nothing_else_is(live_server: LiveServer) -> None:
    script = requests.get(f"{live_server.url}/docs/assets/swagger-ui-bundle.js", timeout=10)
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.text
    page = requests.get(f"{live_server.url}/docs", timeout=10)
    assert "cdn." not in page.text
    assert requests.get(f"{live_server.url}/docs/assets/index.html", timeout=10).status_code == 404
