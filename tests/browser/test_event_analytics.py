"""The event analytics page draws the numbers the API returns: events sent through the API,
a report run, then the page's charts and figures compared with GET .../metadata."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import LiveServer, element, poll, wait_for

HOSTILE = "<script>window.__xss = 1</script>"
ORDERS = [
    ("ann", 12.5, "ios", True),
    ("ann", 40.0, "ios", False),
    ("bob", 99.0, "android", True),
    ("cid", 7.0, "web", False),
    ("dee", 61.0, "ios", True),
    ("eve", 23.0, HOSTILE, True),
]


def run_reports(server: LiveServer, token: str, event_id: str, count: int) -> dict[str, Any]:
    server.call("POST", "/analytics/reports/run", token)

    def report() -> dict[str, Any] | None:
        response = requests.get(
            f"{server.url}/analytics/events/{event_id}/metadata?window=7d",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        data = response.json().get("data") if response.ok else None
        return data if data and data["count"] == count else None

    result: dict[str, Any] = poll(report, f"a report of {count} {event_id} events")
    return result


def chart(driver: WebDriver, name: str) -> tuple[list[str], list[float]]:
    figure = element(driver, f"figure[data-chart='{name}']")
    bars = figure.find_elements(By.CSS_SELECTOR, "rect.bar")
    return (
        [bar.get_attribute("data-label") for bar in bars],
        [float(bar.get_attribute("data-value")) for bar in bars],
    )


def table_rows(driver: WebDriver, name: str) -> list[list[str]]:
    rows = element(driver, f"figure[data-chart='{name}']").find_elements(
        By.CSS_SELECTOR, "table tbody tr"
    )
    return [
        [cell.get_attribute("textContent") for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in rows
    ]


@pytest.fixture
def purchases(live_server: LiveServer, project: str) -> tuple[str, dict[str, Any]]:
    token = live_server.token(project)
    live_server.call(
        "PUT",
        "/admin/events/purchase_completed",
        token,
        {"points": {"fixed": 1}, "metadataSchema": {"orderValue": "number"}},
    )
    events_token = live_server.token(project, "events:write")
    for user, value, platform, gift in ORDERS:
        live_server.call(
            "POST",
            "/event",
            events_token,
            {
                "eventId": "purchase_completed",
                "userId": user,
                "metadata": {"orderValue": value, "platform": platform, "gift": gift},
            },
        )
    return token, run_reports(live_server, token, "purchase_completed", len(ORDERS))


def test_analytics_page_draws_the_reports_numbers(
    live_server: LiveServer,
    page: Callable[..., WebDriver],
    purchases: tuple[str, dict[str, Any]],
) -> None:
    token, report = purchases
    driver = page("/dashboard/events/purchase_completed?window=7d", token)

    fields = report["fields"]
    labels, values = chart(driver, "histogram:orderValue")
    assert values == [float(n) for n in fields["orderValue"]["histogram"]["counts"]]
    assert sum(values) == len(ORDERS)
    labels, values = chart(driver, "top:platform")
    assert list(zip(labels, values, strict=True)) == [
        (item["value"], float(item["count"])) for item in fields["platform"]["top"]
    ]
    assert ("ios", 3.0) in zip(labels, values, strict=True)
    assert chart(driver, "boolean:gift") == (["true", "false"], [4.0, 2.0])
    labels, values = chart(driver, "trend")
    assert labels == [day["day"] for day in report["trend"]]
    assert values == [float(day["count"]) for day in report["trend"]]
    assert table_rows(driver, "boolean:gift") == [["true", "4"], ["false", "2"]]

    numeric = element(driver, "section[data-field='orderValue']")
    assert numeric.get_attribute("data-type") == "numeric"
    shown = {
        figure.get_attribute("data-figure"): figure.find_element(By.TAG_NAME, "dd").text
        for figure in numeric.find_elements(By.CSS_SELECTOR, "[data-figure]")
    }
    assert shown["count"] == "6"
    assert shown["min"] == "7"
    assert shown["max"] == "99"
    assert shown["mean"] == f"{fields['orderValue']['mean']:,.3f}".rstrip("0").rstrip(".")
    types = {
        row.find_elements(By.TAG_NAME, "td")[0].text: row.find_elements(By.TAG_NAME, "td")[1].text
        for row in driver.find_elements(
            By.XPATH, "//table[caption='Fields and their types']/tbody/tr"
        )
    }
    assert types == {"orderValue": "numeric", "platform": "categorical", "gift": "boolean"}
    segments = driver.find_element(By.XPATH, "//table[starts-with(caption, 'Segments by')]")
    assert "Segments by platform" in segments.text


def test_window_switch_and_hostile_metadata_render_as_text(
    live_server: LiveServer,
    page: Callable[..., WebDriver],
    purchases: tuple[str, dict[str, Any]],
) -> None:
    token, _report = purchases
    driver = page("/dashboard/events/purchase_completed", token)
    element(driver, "figure[data-chart='top:platform']")

    labels, _values = chart(driver, "top:platform")
    assert HOSTILE in labels
    assert HOSTILE in element(driver, "figure[data-chart='top:platform'] table").get_attribute(
        "textContent"
    )
    assert driver.execute_script("return document.querySelectorAll('main script').length") == 0
    assert driver.execute_script("return window.__xss") is None

    element(driver, "button[data-window='all']").click()
    wait_for(
        driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".report[data-window='all']"), "all"
    )
    assert driver.current_url.endswith("?window=all")
    assert element(driver, "button[data-window='all']").get_attribute("aria-pressed") == "true"


def test_exports_list_downloads_the_file_the_api_serves(
    live_server: LiveServer,
    page: Callable[..., WebDriver],
    purchases: tuple[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    token, _report = purchases
    live_server.call("POST", "/analytics/exports/run", token)
    exports = poll(
        lambda: live_server.call("GET", "/analytics/exports", token)["items"], "an export"
    )
    csv = next(item for item in exports if item["name"].endswith(".csv"))
    driver = page("/dashboard/events/purchase_completed", token)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    row = wait_for(
        driver,
        lambda d: d.find_elements(By.XPATH, f"//div[@id='exports']//tr[td[1]='{csv['name']}']"),
        "the export in the list",
    )[0]
    assert row.find_elements(By.TAG_NAME, "td")[1].text == f"{csv['size']:,}"
    row.find_element(By.XPATH, ".//button[.='Download']").click()

    saved = poll(lambda: (tmp_path / csv["name"]).is_file() and tmp_path / csv["name"], "file")
    served = requests.get(
        f"{live_server.url}/analytics/exports/{csv['name']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert saved.read_bytes() == served.content
    assert "purchase_completed" in served.text
