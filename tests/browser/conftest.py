"""Browser tests: the real app on 127.0.0.1 in a thread, driven by Debian's headless Chromium.

One server and one browser serve the whole session (each test signs in with a token of its own
project, so tests do not see each other's data). Chromium resolves no host but 127.0.0.1, so a
page that needed another host (a CDN, a font service) would fail to render, and
`assert_only_local_requests` checks that no request even tried.

The app runs in the embedded mode (in-memory MongoDB, in-process job queue) with its Redis
state (leaderboards) in LAUREL_TEST_REDIS_URL's database when a Redis answers there.
Without chromium and chromedriver the tests are skipped, unless LAUREL_TEST_REQUIRE_BROWSER=1
(.ci/run, which installs them), which fails instead.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import fakeredis
import pytest
import redis
import requests
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import BaseWSGIServer, make_server

from core.clients import Clients
from core.settings import Settings
from tests.conftest import REDIS_URL, TEST_SECRET, _redis_answers
from web import create_app
from web.auth import mint_token

CHROMIUM = os.environ.get("LAUREL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LAUREL_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT_SECONDS = 15


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) or shutil.which(path)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    missing = _browser_missing()
    for item in items:
        if "tests/browser/" not in item.nodeid.replace(os.sep, "/"):
            continue
        item.add_marker(pytest.mark.browser)
        if missing and os.environ.get("LAUREL_TEST_REQUIRE_BROWSER") != "1":
            item.add_marker(pytest.mark.skip(reason=missing))


@dataclass
class LiveServer:
    url: str
    settings: Settings
    clients: Clients

    def token(self, project: str, scope: str = "admin", subject: str = "browser-test") -> str:
        return mint_token(self.settings.signing_keys(), project, scope.split(), subject=subject)

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        """The public API, as a client of the server (not through the browser)."""
        response = requests.request(
            method,
            self.url + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        payload = response.json()
        assert response.ok and payload["success"], (method, path, response.status_code, payload)
        return payload["data"]


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    settings = Settings(
        jwt_secret=TEST_SECRET,
        rate_limit="100000/minute",
        webhook_allow_private=True,
    )
    clients = Clients(settings)
    if _redis_answers(REDIS_URL):
        store: redis.Redis = redis.Redis.from_url(REDIS_URL)
        store.flushdb()
    else:
        store = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    clients.__dict__["redis"] = store
    app = create_app(settings, clients)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", settings, clients)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        store.flushdb()
        store.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(CHROMIUM) or CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        # No host but this machine resolves: nothing may come from elsewhere.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager must never download
    driver = webdriver.Chrome(
        service=Service(executable_path=shutil.which(CHROMEDRIVER) or CHROMEDRIVER),
        options=options,
    )
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def project() -> str:
    """A project of the test's own: its definitions, users and reports are its alone."""
    return f"b{uuid.uuid4().hex[:12]}"


@pytest.fixture
def page(live_server: LiveServer, browser: WebDriver) -> Callable[..., WebDriver]:
    """page("/dashboard/events", token) opens a dashboard URL signed in through `#token=`."""

    def open_page(path: str, token: str | None = None) -> WebDriver:
        browser.get("about:blank")
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
