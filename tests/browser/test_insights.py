"""The insights page shows the numbers the API returns: events sent through the API over
three past days, a report run, then the breakdown, funnel and retention tables compared with
GET .../breakdown, /analytics/funnels/{id} and /analytics/retention; a hostile metadata value
is drawn as text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from core import clock
from tests.browser.conftest import LiveServer, element, fill, poll, wait_for

HOSTILE = "<img src=x onerror=window.__xss=1>"
# user → (platform of their login, order value or None when they never buy)
USERS = {
    "ann": ("ios", 12.0),
    "bob": ("ios", 40.0),
    "cid": ("android", 99.0),
    "dee": ("android", None),
    "eve": (HOSTILE, 7.0),
    "fay": ("web", None),
}


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def send(server: LiveServer, token: str, events: list[dict[str, Any]]) -> None:
    results = server.call("POST", "/events/batch", token, {"events": events})["results"]
    assert [r["status"] for r in results] == [200] * len(events), results


@pytest.fixture
def insights(live_server: LiveServer, project: str) -> str:
    """Logins three days ago, purchases an hour later, and returns on the next day by some."""
    admin = live_server.token(project)
    for event_id in ("daily_login", "purchase_completed"):
        live_server.call("PUT", f"/admin/events/{event_id}", admin, {"points": {"fixed": 1}})
    live_server.call(
        "PUT",
        "/admin/funnels/buy",
        admin,
        {
            "name": "Login to purchase",
            "steps": [{"eventId": "daily_login"}, {"eventId": "purchase_completed"}],
        },
    )
    # Noon, so that every user's login falls on the same UTC day and the returns on the next.
    start = (clock.now() - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    events: list[dict[str, Any]] = []
    for index, (user, (platform, value)) in enumerate(USERS.items()):
        entered = start + timedelta(minutes=index)
        events.append(
            {
                "eventId": "daily_login",
                "userId": user,
                "timestamp": ms(entered),
                "metadata": {"platform": platform},
            }
        )
        if value is not None:
            events.append(
                {
                    "eventId": "purchase_completed",
                    "userId": user,
                    "timestamp": ms(entered + timedelta(hours=1)),
                    "metadata": {"orderValue": value, "platform": platform},
                }
            )
        if index % 2 == 0:  # ann, cid, eve come back the next day
            events.append(
                {
                    "eventId": "daily_login",
                    "userId": user,
                    "timestamp": ms(entered + timedelta(days=1)),
                }
            )
    send(live_server, live_server.token(project, "events:write"), events)
    live_server.call("POST", "/analytics/reports/run", admin)
    logins = sum(1 for e in events if e["eventId"] == "daily_login")
    poll(
        lambda: (
            any(
                item["eventId"] == "daily_login" and item["count"] == logins
                for item in live_server.call("GET", "/analytics/events", admin)["items"]
            )
            or None
        ),
        f"a report of {logins} logins",
    )
    return admin


def captioned(driver: WebDriver, container: str, caption: str) -> Any:
    found = wait_for(
        driver,
        lambda d: d.find_elements(By.XPATH, f"//*[@id='{container}']//table[caption='{caption}']"),
        f"the {caption} table",
    )
    return found[0]


def rows(driver: WebDriver, container: str, caption: str) -> list[list[str]]:
    table = captioned(driver, container, caption)
    return [
        [cell.get_attribute("textContent") for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]


def number(value: Any) -> str:
    """How the page writes a figure (dom.js text())."""
    if value is None:
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def test_breakdown_shows_the_apis_numbers_and_hostile_values_as_text(
    live_server: LiveServer, page: Callable[..., WebDriver], insights: str
) -> None:
    admin = insights
    driver = page("/dashboard/insights", admin)
    form = element(driver, "#breakdown-form")
    fill(form, "[name=eventId]", "purchase_completed")
    fill(form, "[name=by]", "platform")
    fill(form, "[name=field]", "orderValue")
    Select(form.find_element(By.CSS_SELECTOR, "[name=window]")).select_by_value("7d")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    shown = rows(driver, "breakdown-result", "Breakdown")
    api = live_server.call(
        "GET",
        "/analytics/events/purchase_completed/breakdown?by=platform&field=orderValue&window=7d",
        admin,
    )
    assert [row[:3] for row in shown] == [
        [item["value"], number(item["count"]), number(item["uniqueUsers"])] for item in api["items"]
    ]
    assert [row[3:6] for row in shown] == [
        [number(item["stats"][n]) for n in ("count", "mean", "min")] for item in api["items"]
    ]
    assert ["ios", "2", "2", "2", "26", "12"] in [row[:6] for row in shown]
    bars = element(driver, "figure[data-chart='breakdown']").find_elements(
        By.CSS_SELECTOR, "rect.bar"
    )
    assert [
        (b.get_attribute("data-label"), float(b.get_attribute("data-value"))) for b in bars
    ] == [(item["value"], float(item["count"])) for item in api["items"]]
    assert HOSTILE in [row[0] for row in shown]
    assert driver.find_elements(By.CSS_SELECTOR, "main img") == []
    assert driver.execute_script("return window.__xss") is None


def test_funnel_picker_shows_steps_conversion_and_segments(
    live_server: LiveServer, page: Callable[..., WebDriver], insights: str
) -> None:
    admin = insights
    driver = page("/dashboard/insights", admin)
    form = element(driver, "#funnel-form[data-ready='true']", "the funnel list")
    picker = Select(form.find_element(By.CSS_SELECTOR, "[name=funnelId]"))
    assert [o.get_attribute("value") for o in picker.options] == ["buy"]
    fill(form, "[name=by]", "platform")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    shown = rows(driver, "funnel-result", "Conversion")
    api = live_server.call("GET", "/analytics/funnels/buy?by=platform", admin)
    assert [row[:2] for row in shown] == [
        [f"{i + 1}. {step['eventId']}", number(step["users"])]
        for i, step in enumerate(api["steps"])
    ]
    assert [row[:3] for row in shown] == [
        ["1. daily_login", "6", "100.0 %"],
        ["2. purchase_completed", "4", "66.7 %"],
    ]
    assert shown[1][4] == "3,600"
    segments = captioned(driver, "funnel-result", "Segments (users per step)")
    segment_rows = [
        [cell.get_attribute("textContent") for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in segments.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    assert segment_rows == [
        [s["value"], *(number(step["users"]) for step in s["steps"])] for s in api["segments"]
    ]
    assert ["android", "2", "1"] in segment_rows


def test_funnel_id_input_for_a_reports_token_and_its_error_state(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str, insights: str
) -> None:
    driver = page("/dashboard/insights", live_server.token(project, "reports:read"))
    form = element(driver, "#funnel-form")
    assert form.find_element(By.CSS_SELECTOR, "[name=funnelId]").tag_name == "input"
    assert driver.find_element(By.XPATH, "//nav//a[.='Insights']").is_displayed()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert element(driver, "#funnel-result .error[role=alert]").text == "Missing: funnel"
    fill(form, "[name=funnelId]", "missing")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(
        driver,
        lambda d: d.find_element(By.ID, "funnel-result").text.startswith("Not found:"),
        "the funnel's 404 in its result box",
    )
    assert element(driver, "#funnel-result .error[role=alert]").text.startswith("Not found:")

    fill(form, "[name=funnelId]", "buy")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    shown = rows(driver, "funnel-result", "Conversion")
    assert [row[1] for row in shown] == ["6", "4"]


def test_insights_is_in_the_navigation_of_reports_tokens_only(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    driver = page("/dashboard/users", live_server.token(project, "users:read"))
    element(driver, "#find-user")
    assert not driver.find_element(By.XPATH, "//nav//a[.='Insights']").is_displayed()
    driver = page("/dashboard/insights", live_server.token(project, "users:read"))
    assert "may not read reports" in element(driver, "#app p").text


def test_retention_table_shows_the_apis_cohorts(
    live_server: LiveServer, page: Callable[..., WebDriver], insights: str
) -> None:
    admin = insights
    driver = page("/dashboard/insights", admin)
    form = element(driver, "#retention-form")
    fill(form, "[name=periods]", "3")
    fill(form, "[name=cohortEvent]", "daily_login")
    fill(form, "[name=returnEvent]", "daily_login")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    shown = rows(driver, "retention-result", "Retention")
    api = live_server.call(
        "GET",
        "/analytics/retention?period=day&periods=3&cohortEvent=daily_login&returnEvent=daily_login",
        admin,
    )
    cells = captioned(driver, "retention-result", "Retention").find_elements(
        By.CSS_SELECTOR, "tbody tr"
    )
    values = [
        [span.get_attribute("data-value") for span in row.find_elements(By.CSS_SELECTOR, ".heat")]
        for row in cells
    ]
    assert [row[:2] for row in shown] == [[c["start"], number(c["users"])] for c in api["cohorts"]]
    assert values == [["" if n is None else str(n) for n in c["retained"]] for c in api["cohorts"]]
    assert values == [["6", "3", "0", "0"]]
    assert "heat-2" in cells[0].find_elements(By.CSS_SELECTOR, ".heat")[1].get_attribute("class")


def test_retention_split_shows_both_groups_cohorts(
    live_server: LiveServer, page: Callable[..., WebDriver], insights: str
) -> None:
    admin = insights
    driver = page("/dashboard/insights", admin)
    form = element(driver, "#retention-form")
    fill(form, "[name=periods]", "1")
    fill(form, "[name=cohortEvent]", "daily_login")
    fill(form, "[name=split]", "purchase_completed")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    api = live_server.call(
        "GET",
        "/analytics/retention?period=day&periods=1&cohortEvent=daily_login"
        "&split=purchase_completed",
        admin,
    )
    bought = rows(driver, "retention-result", "Did the split event in their first period")
    did_not = rows(driver, "retention-result", "Did not")
    assert [row[1] for row in bought] == [number(c["with"]["users"]) for c in api["cohorts"]]
    assert [row[1] for row in did_not] == [number(c["without"]["users"]) for c in api["cohorts"]]
    assert ([row[1] for row in bought], [row[1] for row in did_not]) == (["4"], ["2"])
