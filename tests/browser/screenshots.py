"""Take a screenshot of every dashboard page into docs/dashboard/ (python -m
tests.browser.screenshots). The pages show the sample project of tests/browser/sample.py,
served by the embedded app in this process; Chromium reaches no other host."""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.harness import LiveServer, chromium, live_server
from tests.browser.sample import populate

SECRET = "screenshots-secret-that-is-long-enough-0123456789"
WIDTH = 1280
MAX_HEIGHT = 2600

# file name → (path, CSS selector of what must be there first)
PAGES = {
    "overview": ("/dashboard/", "figure[data-chart='top-events']"),
    "events": ("/dashboard/events", "#event-list table a"),
    "event-analytics": (
        "/dashboard/events/purchase_completed?window=7d",
        "figure[data-chart='histogram:orderValue']",
    ),
    "streaks": ("/dashboard/streaks", "#definition-list table code"),
    "challenges": ("/dashboard/challenges", "#definition-list table code"),
    "levels": ("/dashboard/levels", "#levels-form .row"),
    "webhooks": ("/dashboard/webhooks", "#definition-list table code"),
    "users": ("/dashboard/users", "#find-user"),
    "user": ("/dashboard/users/user01", "#history-list li"),
    "leaderboards": ("/dashboard/leaderboards", "#board table a"),
    "insights": ("/dashboard/insights", "#funnel-form[data-ready='true']"),
}


def settle(driver: WebDriver, css: str) -> None:
    wait = WebDriverWait(driver, 20, poll_frequency=0.1)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, css))
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "[aria-busy], .loading"))


def shoot(driver: WebDriver, target: Path, width: int) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(int(height) + 120, MAX_HEIGHT))
    driver.save_screenshot(str(target))
    driver.set_window_size(width, 900)


def wait_for_reports(server: LiveServer, token: str, sent: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = server.call("GET", "/analytics/events", token)["items"]
        if sum(item["count"] for item in items) == sent:
            return
        time.sleep(0.1)
    raise SystemExit("the report run did not finish within 30 s")


def show_insights(driver: WebDriver) -> None:
    """Run the three insights of the sample project: a breakdown, the funnel, retention."""
    for css, value in (
        ("#breakdown-form [name=eventId]", "purchase_completed"),
        ("#breakdown-form [name=by]", "platform"),
        ("#breakdown-form [name=field]", "orderValue"),
        ("#funnel-form [name=by]", "platform"),
    ):
        driver.find_element(By.CSS_SELECTOR, css).send_keys(value)
    for form in ("breakdown", "funnel", "retention"):
        driver.find_element(By.CSS_SELECTOR, f"#{form}-form button[type=submit]").click()
    settle(driver, "figure[data-chart='breakdown']")
    settle(driver, "figure[data-chart='funnel']")
    settle(driver, "#retention-result table")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/dashboard"))
    args = parser.parse_args()
    # The sample webhook's receiver is down on purpose: its retries need not fill the screen.
    logging.getLogger("jobs").setLevel(logging.CRITICAL)
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as exports,
        live_server(SECRET, None, exports) as server,
        chromium(WIDTH, 900) as driver,
    ):
        admin = server.token("demo", subject="ann-support")
        sent = populate(server, admin, server.token("demo", "events:write"))
        server.call("POST", "/analytics/reports/run", admin)
        wait_for_reports(server, admin, sent)
        server.call("POST", "/analytics/exports/run", admin)
        driver.get(f"{server.url}/dashboard/signin")
        driver.execute_script("sessionStorage.setItem('laurel.token', arguments[0])", admin)
        for name, (path, ready) in PAGES.items():
            driver.get(server.url + path)
            settle(driver, ready)
            if name == "insights":
                show_insights(driver)
            if name == "webhooks":
                driver.find_element(By.XPATH, "//button[.='Deliveries']").click()
                settle(driver, "#deliveries table")
            shoot(driver, args.out / f"{name}.png", WIDTH)
            print(args.out / f"{name}.png")
        driver.execute_script("sessionStorage.clear()")
        driver.get(server.url + "/dashboard/signin")
        settle(driver, "#signin")
        shoot(driver, args.out / "signin.png", WIDTH)
        print(args.out / "signin.png")
        driver.execute_script("sessionStorage.setItem('laurel.token', arguments[0])", admin)
        driver.get(server.url + "/dashboard/")
        driver.set_window_size(390, 844)
        settle(driver, PAGES["overview"][1])
        shoot(driver, args.out / "overview-390px.png", 390)
        print(args.out / "overview-390px.png")


if __name__ == "__main__":
    main()
