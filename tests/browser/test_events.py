"""Event definitions through the dashboard's form: every field of the admin API, the
condition builder, and a 400's message next to the field its details name."""

from __future__ import annotations

from collections.abc import Callable

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import LiveServer, add_row, element, fill, wait_for


def fill_leaf(leaf: WebDriver, field: str, op: str, value: str) -> None:
    fill(leaf, ".cond-field", field)
    Select(leaf.find_element(By.CSS_SELECTOR, ".cond-op")).select_by_value(op)
    fill(leaf, ".cond-value", value)


def test_form_creates_an_event_with_every_field_and_the_api_returns_it(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    driver = page("/dashboard/events", token)
    form = element(driver, "#event-form")
    fill(form, "[data-path=eventId]", "purchase_completed")
    fill(form, "[data-path=name]", "Purchase completed")
    fill(form, "[data-path='points.fixed']", "5")
    form.find_element(By.XPATH, ".//label[contains(., 'Points per unit')]/input").click()
    fill(form, "[data-path='points.perUnit.field']", "orderValue")
    fill(form, "[data-path='points.perUnit.rate']", "2")
    Select(
        form.find_element(By.CSS_SELECTOR, "[data-path='points.perUnit.rounding']")
    ).select_by_value("round")
    fill(form, "[data-path='points.perUnit.max']", "1000")
    form.find_element(By.CSS_SELECTOR, ".cond-enabled").click()
    root = form.find_element(By.CSS_SELECTOR, ".cond-root > .cond")
    fill_leaf(root.find_element(By.CSS_SELECTOR, ".cond-leaf"), "orderValue", "gte", "20")
    root.find_element(By.XPATH, ".//button[.='Add group']").click()
    children = ":scope > .cond-body > .cond-children > .cond"
    group = root.find_elements(By.CSS_SELECTOR, children)[-1]
    Select(group.find_element(By.CSS_SELECTOR, ".cond-kind")).select_by_value("any")
    fill_leaf(group.find_element(By.CSS_SELECTOR, ".cond-leaf"), "platform", "in", "ios, android")
    group.find_element(By.XPATH, ".//button[.='Add rule']").click()
    fill_leaf(group.find_elements(By.CSS_SELECTOR, ".cond-leaf")[-1], "coupon", "exists", "false")
    form.find_element(By.XPATH, ".//label[contains(., 'Limit how often')]/input").click()
    fill(form, "[data-path='maxCompletions.count']", "3")
    Select(
        form.find_element(By.CSS_SELECTOR, "[data-path='maxCompletions.period']")
    ).select_by_value("week")
    group_row = add_row(form, "Usergroup multipliers")
    fill(group_row, "[aria-label=Usergroup]", "subscriber")
    fill(group_row, "[aria-label=Multiplier]", "1.5")
    schema_row = add_row(form, "Declared metadata fields")
    fill(schema_row, "[aria-label='Metadata field']", "orderValue")
    Select(schema_row.find_element(By.CSS_SELECTOR, "[aria-label=Type]")).select_by_value("number")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    assert "Saved purchase_completed" in element(driver, "#event-form .ok").text
    saved = live_server.call("GET", "/admin/events/purchase_completed", token)
    assert {key: saved[key] for key in saved if key not in ("createdAt", "updatedAt")} == {
        "eventId": "purchase_completed",
        "name": "Purchase completed",
        "active": True,
        "points": {
            "fixed": 5,
            "perUnit": {"field": "orderValue", "rate": 2.0, "rounding": "round", "max": 1000},
        },
        "conditions": {
            "all": [
                {"field": "orderValue", "op": "gte", "value": 20},
                {
                    "any": [
                        {"field": "platform", "op": "in", "value": ["ios", "android"]},
                        {"field": "coupon", "op": "exists", "value": False},
                    ]
                },
            ]
        },
        "maxCompletions": {"count": 3, "period": "week"},
        "groupRewards": {"subscriber": {"multiplier": 1.5}},
        "metadataSchema": {"orderValue": "number"},
    }
    listed = wait_for(
        driver,
        lambda d: d.find_elements(By.XPATH, "//div[@id='event-list']//a[.='purchase_completed']"),
        "the new event in the list",
    )
    assert listed[0].get_attribute("href").endswith("/dashboard/events/purchase_completed")


def test_editing_loads_the_definition_and_saves_a_change(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    live_server.call(
        "PUT",
        "/admin/events/level_completed",
        token,
        {
            "name": "Level completed",
            "points": {"fixed": 5},
            "conditions": {"not": {"field": "starsEarned", "op": "lt", "value": 1}},
        },
    )
    driver = page("/dashboard/events/level_completed", token)
    form = element(driver, "#event-form")
    assert (
        form.find_element(By.CSS_SELECTOR, ".cond-root > .cond .cond-kind").get_attribute("value")
        == "not"
    )
    assert form.find_element(By.CSS_SELECTOR, ".cond-value").get_attribute("value") == "1"
    fill(form, "[data-path='points.fixed']", "7")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    element(driver, "#event-form .ok")
    saved = live_server.call("GET", "/admin/events/level_completed", token)
    assert saved["points"] == {"fixed": 7}
    assert saved["conditions"] == {"not": {"field": "starsEarned", "op": "lt", "value": 1}}


def test_a_400_shows_its_message_next_to_the_field_it_names(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    driver = page("/dashboard/events", token)
    form = element(driver, "#event-form")
    fill(form, "[data-path=eventId]", "bad_rule")
    form.find_element(By.CSS_SELECTOR, ".cond-enabled").click()
    fill_leaf(form.find_element(By.CSS_SELECTOR, ".cond-leaf"), "orderValue", "gt", "lots")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    error = element(driver, "#event-form .field-error")
    assert error.get_attribute("data-error-for") == "conditions.all[0].value"
    assert error.text == "must be a finite number (integers: 64 bits)"
    value_box = form.find_element(By.CSS_SELECTOR, ".cond-value")
    assert value_box.get_attribute("aria-invalid") == "true"
    # The message sits right after the box it is about.
    assert driver.execute_script("return arguments[0].nextElementSibling", value_box) == error
    assert "conditions.all[0].value" in form.find_element(By.CSS_SELECTOR, ".form-status").text
    missing = requests.get(
        f"{live_server.url}/admin/events/bad_rule",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert missing.status_code == 404


def test_deactivate_turns_the_event_off(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    live_server.call("PUT", "/admin/events/daily_login", token, {"points": {"fixed": 10}})
    driver = page("/dashboard/events/daily_login", token)
    element(driver, "#definition button.danger").click()
    driver.switch_to.alert.accept()

    wait_for(
        driver,
        lambda d: d.find_elements(By.XPATH, "//button[.='Inactive']"),
        "the definition shown inactive",
    )
    assert live_server.call("GET", "/admin/events/daily_login", token)["active"] is False
