"""Every dashboard page renders completely (no fetch left loading, no error) from this server
alone, with every other host unreachable, and logs no error (a CSP violation would)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import (
    LiveServer,
    assert_only_local_requests,
    console_errors,
    element,
    poll,
    wait_for,
)
from tests.browser.sample import populate

PAGES = {
    "/dashboard/": "figure[data-chart='events-per-day'] rect.bar",
    "/dashboard/events": "#event-list table a",
    "/dashboard/events/purchase_completed": "figure[data-chart='histogram:orderValue']",
    "/dashboard/streaks": "#definition-list table code",
    "/dashboard/challenges": "#definition-list table code",
    "/dashboard/levels": "#levels-form .row",
    "/dashboard/webhooks": "#definition-list table code",
    "/dashboard/users": "#find-user",
    "/dashboard/users/user01": "#profile [data-figure='balance']",
    "/dashboard/leaderboards": "#board table a",
    "/dashboard/insights": "#funnel-form[data-ready='true']",
}


@pytest.fixture(scope="module")
def sample(live_server: LiveServer) -> tuple[str, int]:
    project = "pages"
    admin = live_server.token(project)
    sent = populate(live_server, admin, live_server.token(project, "events:write"))
    live_server.call("POST", "/analytics/reports/run", admin)
    poll(
        lambda: (
            sum(
                item["count"]
                for item in live_server.call("GET", "/analytics/events", admin)["items"]
            )
            == sent
        ),
        "the report run",
    )
    return admin, sent


def settled(driver: WebDriver) -> bool:
    return not driver.find_elements(By.CSS_SELECTOR, "[aria-busy], .loading")


@pytest.mark.parametrize("path", list(PAGES))
def test_page_renders_fully_from_this_server_alone(
    live_server: LiveServer,
    page: Callable[..., WebDriver],
    sample: tuple[str, int],
    path: str,
) -> None:
    admin, _sent = sample
    driver = page(path, admin)
    element(driver, PAGES[path])
    wait_for(driver, settled, "every fetch to finish")

    assert driver.find_elements(By.CSS_SELECTOR, ".error") == []
    urls = assert_only_local_requests(driver, live_server.url)
    assert any(url.endswith("/dashboard/static/dashboard.css") for url in urls)
    assert console_errors(driver) == []


def test_overview_shows_the_apis_figures(
    live_server: LiveServer, page: Callable[..., WebDriver], sample: tuple[str, int]
) -> None:
    admin, sent = sample
    driver = page("/dashboard/", admin)
    element(driver, "figure[data-chart='top-events']")
    wait_for(driver, settled, "every fetch to finish")

    totals = live_server.call("GET", "/analytics/events", admin)["items"]
    people = live_server.call("GET", "/analytics/users", admin)
    shown = {
        node.get_attribute("data-figure"): node.find_element(By.TAG_NAME, "dd").text
        for node in driver.find_elements(By.CSS_SELECTOR, "[data-figure]")
    }
    assert shown["events"] == f"{sent:,}"
    assert shown["points awarded"] == f"{sum(t['totalPointsAwarded'] for t in totals):,}"
    assert shown["users"] == "8"
    assert shown["active 7 days"] == str(people["active"]["7d"])
    bars = driver.find_elements(By.CSS_SELECTOR, "figure[data-chart='events-per-day'] rect.bar")
    assert sum(float(bar.get_attribute("data-value")) for bar in bars) == sent
    levels = driver.find_elements(By.CSS_SELECTOR, "figure[data-chart='levels'] rect.bar")
    assert [float(bar.get_attribute("data-value")) for bar in levels] == [
        level["users"] for level in people["levels"]
    ]


def test_leaderboard_periods_match_the_api(
    live_server: LiveServer, page: Callable[..., WebDriver], sample: tuple[str, int]
) -> None:
    admin, _sent = sample
    driver = page("/dashboard/leaderboards", admin)
    element(driver, "#board table a")
    element(driver, "button[data-period='all']").click()
    wait_for(
        driver,
        lambda d: "all ·" in d.find_element(By.CSS_SELECTOR, "#board caption").text,
        "the all-time board",
    )

    board = live_server.call("GET", "/leaderboards?period=all&limit=50", admin)["items"]
    rows = [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in driver.find_elements(By.CSS_SELECTOR, "#board tbody tr")
    ]
    assert rows == [[str(i["rank"]), i["userId"], f"{i['points']:,}"] for i in board]


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/dashboard/", "figure[data-chart='levels']"),
        ("/dashboard/events/purchase_completed", "figure[data-chart='top:platform']"),
        ("/dashboard/users/user01", "#adjust-form"),
    ],
)
def test_narrow_screen_fits_and_keeps_the_navigation_behind_a_menu_button(
    live_server: LiveServer,
    page: Callable[..., WebDriver],
    sample: tuple[str, int],
    path: str,
    ready: str,
) -> None:
    admin, _sent = sample
    driver = page(path, admin)
    driver.set_window_size(390, 844)
    try:
        element(driver, ready)
        wait_for(driver, settled, "every fetch to finish")
        toggle = driver.find_element(By.CSS_SELECTOR, ".menu-toggle")
        assert toggle.is_displayed()
        assert not driver.find_element(By.ID, "nav").is_displayed()
        toggle.click()
        assert driver.find_element(By.ID, "nav").is_displayed()
        viewport = driver.execute_script("return document.documentElement.clientWidth")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= viewport
    finally:
        driver.set_window_size(1280, 900)


def test_optional_parts_of_a_form_stay_hidden_until_chosen(
    live_server: LiveServer, page: Callable[..., WebDriver], sample: tuple[str, int]
) -> None:
    admin, _sent = sample
    driver = page("/dashboard/events", admin)
    rate = element(driver, "#event-form [data-path='points.perUnit.rate']")
    assert not rate.is_displayed()
    driver.find_element(By.XPATH, "//label[contains(., 'Points per unit')]/input").click()
    assert rate.is_displayed()


def test_the_browser_reaches_no_other_host(browser: WebDriver) -> None:
    """What makes the tests above meaningful: a page needing a CDN would fail here."""
    with pytest.raises(WebDriverException, match="ERR_NAME_NOT_RESOLVED"):
        browser.get("http://cdn.jsdelivr.net/npm/swagger-ui-dist/")
