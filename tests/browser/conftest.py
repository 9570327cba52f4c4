"""Browser tests: the real app on 127.0.0.1 in a thread, driven by Debian's headless Chromium.

One server and one browser serve the whole session (each test signs in with a token of its own
project, so tests do not see each other's data). Chromium resolves no host but 127.0.0.1, so a
page that needed another host (a CDN, a font service) would fail to render, and
`assert_only_local_requests` checks that no request even tried.

The app (tests/browser/harness.py) runs in the embedded mode with its Redis state
(leaderboards) in LAUREL_TEST_REDIS_URL's database when a Redis answers there.
Without chromium and chromedriver the tests are skipped, unless LAUREL_TEST_REQUIRE_BROWSER=1
(.ci/run, which installs them), which fails instead.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import harness
from tests.browser.harness import LiveServer
from tests.conftest import REDIS_URL, TEST_SECRET, _redis_answers

__all__ = ["LiveServer"]

WAIT_SECONDS = 15


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    missing = harness.browser_missing()
    for item in items:
        if "tests/browser/" not in item.nodeid.replace(os.sep, "/"):
            continue
        item.add_marker(pytest.mark.browser)
        if missing and os.environ.get("LAUREL_TEST_REQUIRE_BROWSER") != "1":
            item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    redis_url = REDIS_URL if _redis_answers(REDIS_URL) else None
    exports = str(tmp_path_factory.mktemp("exports"))
    with harness.live_server(TEST_SECRET, redis_url, exports) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    with harness.chromium() as driver:
        yield driver


@pytest.fixture
def project() -> str:
    """A project of the test's own: its definitions, users and reports are its alone."""
    return f"b{uuid.uuid4().hex[:12]}"


@pytest.fixture
def page(live_server: LiveServer, browser: WebDriver) -> Callable[..., WebDriver]:
    """page("/dashboard/events", token) opens a dashboard URL signed in through `#token=`."""

    def open_page(path: str, token: str | None = None) -> WebDriver:
        browser.get("about:blank")
        browser.get_log("browser")  # what earlier pages logged is theirs
        browser.get(live_server.url + path + (f"#token={token}" if token else ""))
        return browser

    return open_page


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    """Wait until `condition(driver)` is truthy and return it; fail loudly with `what`."""
    try:
        return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(condition)
    except TimeoutException:
        pytest.fail(
            f"timed out after {WAIT_SECONDS}s waiting for {what}; page: {driver.current_url}\n"
            + (driver.find_element("tag name", "body").text[:2000] if driver.page_source else "")
        )


def assert_only_local_requests(driver: WebDriver, base_url: str) -> list[str]:
    """Every resource the page loaded came from the server under test; returns their URLs."""
    urls: list[str] = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])"
    )
    foreign = [url for url in urls if not url.startswith(base_url + "/")]
    assert foreign == [], f"requests to other hosts: {foreign}"
    return urls


def console_errors(driver: WebDriver) -> list[str]:
    """Errors the page logged since the last call (CSP violations, script errors)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def element(driver: WebDriver, css: str, what: str | None = None) -> Any:
    """The first element matching `css` once there is one (fails loudly otherwise)."""
    found = wait_for(driver, lambda d: d.find_elements("css selector", css), what or css)
    return found[0]


def poll(check: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Call `check` until it returns something truthy; fail loudly after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def fill(form: Any, css: str, value: str) -> None:
    field = form.find_element("css selector", css)
    field.clear()
    field.send_keys(value)


def add_row(form: Any, legend: str) -> Any:
    box = form.find_element("xpath", f".//fieldset[legend='{legend}']")
    box.find_element("xpath", ".//button[starts-with(normalize-space(), 'Add')]").click()
    return box.find_elements("css selector", ".row")[-1]
