"""The live server and the browser of the browser tests and of the screenshots script.

The app runs in the embedded mode (in-memory MongoDB, in-process job queue) in a thread of
this process, on 127.0.0.1 and a free port; its Redis state (leaderboards) goes to the Redis
given, else to fakeredis. Chromium is Debian's, driven by Debian's chromedriver named by path
(so selenium-manager never looks for one online), and resolves no host but 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import fakeredis
import redis
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from werkzeug.serving import BaseWSGIServer, make_server

from core.clients import Clients
from core.settings import Settings
from web import create_app
from web.auth import mint_token

CHROMIUM = os.environ.get("LAUREL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LAUREL_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
PAGE_LOAD_SECONDS = 15


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


def browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    return None


@contextmanager
def live_server(secret: str, redis_url: str | None, export_dir: str) -> Iterator[LiveServer]:
    settings = Settings(
        jwt_secret=secret,
        rate_limit="100000/minute",
        webhook_allow_private=True,
        export_dir=export_dir,
    )
    clients = Clients(settings)
    store: redis.Redis = (
        redis.Redis.from_url(redis_url)
        if redis_url
        else fakeredis.FakeRedis(server=fakeredis.FakeServer())
    )
    store.flushdb()
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


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(CHROMIUM) or CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
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
    driver.set_page_load_timeout(PAGE_LOAD_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()
