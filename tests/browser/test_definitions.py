"""Streaks, challenges, levels and webhooks through their dashboard forms."""

from __future__ import annotations

from collections.abc import Callable

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import LiveServer, add_row, element, fill, wait_for


def test_streak_form_saves_milestones_and_freezes(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    driver = page("/dashboard/streaks", token)
    form = element(driver, "#streak-form")
    fill(form, "[data-path=streakId]", "weekly_shopper")
    fill(form, "[data-path=name]", "Weekly shopper")
    fill(form, "[data-path=events]", "purchase_completed, refund_skipped")
    Select(form.find_element(By.CSS_SELECTOR, "[data-path=period]")).select_by_value("week")
    fill(form, "[data-path=timezone]", "Europe/Berlin")
    milestone = add_row(form, "Milestones")
    fill(milestone, "[aria-label='At count']", "4")
    fill(milestone, "[aria-label=Points]", "100")
    fill(milestone, "[aria-label='Badge (optional)']", "loyal_shopper")
    form.find_element(By.XPATH, ".//label[contains(., 'Freezes')]/input").click()
    fill(form, "[data-path='freezes.initial']", "1")
    fill(form, "[data-path='freezes.max']", "2")
    fill(form, "[data-path='freezes.earnEvery']", "4")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    assert element(driver, "#streak-form .ok").text == "Saved weekly_shopper."
    saved = live_server.call("GET", "/admin/streaks/weekly_shopper", token)
    assert saved["events"] == ["purchase_completed", "refund_skipped"]
    assert (saved["period"], saved["timezone"]) == ("week", "Europe/Berlin")
    assert saved["milestones"] == [{"count": 4, "points": 100, "badge": "loyal_shopper"}]
    assert saved["freezes"] == {"initial": 1, "max": 2, "earnEvery": 4}
    wait_for(
        driver,
        lambda d: d.find_elements(
            By.XPATH, "//div[@id='definition-list']//code[.='weekly_shopper']"
        ),
        "the streak in the list",
    )


def test_challenge_form_saves_a_sum_goal_with_a_reward(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    driver = page("/dashboard/challenges", token)
    form = element(driver, "#challenge-form")
    fill(form, "[data-path=challengeId]", "big_spender")
    fill(form, "[data-path=events]", "purchase_completed")
    Select(form.find_element(By.CSS_SELECTOR, "[data-path='goal.type']")).select_by_value("sum")
    fill(form, "[data-path='goal.field']", "orderValue")
    fill(form, "[data-path='goal.target']", "500")
    Select(form.find_element(By.CSS_SELECTOR, "[data-path=reset]")).select_by_value("month")
    fill(form, "[data-path='reward.points']", "250")
    fill(form, "[data-path='reward.badge']", "big_spender")
    form.find_element(By.CSS_SELECTOR, "[data-path=repeatable]").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    assert element(driver, "#challenge-form .ok").text == "Saved big_spender."
    saved = live_server.call("GET", "/admin/challenges/big_spender", token)
    assert saved["goal"] == {"type": "sum", "field": "orderValue", "target": 500}
    assert (saved["reset"], saved["repeatable"]) == ("month", True)
    assert saved["reward"] == {"points": 250, "badge": "big_spender"}


def test_levels_form_shows_the_bad_rows_error_then_saves(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    driver = page("/dashboard/levels", token)
    form = element(driver, "#levels-form")
    for level, name, points in (("1", "Bronze", "100"), ("2", "Silver", "50")):
        row = add_row(form, "Levels")
        fill(row, "[aria-label=Level]", level)
        fill(row, "[aria-label=Name]", name)
        fill(row, "[aria-label='Lifetime points from']", points)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    error = element(driver, "#levels-form .field-error")
    assert error.get_attribute("data-error-for") == "levels[1].minPoints"
    assert "greater than" in error.text
    fill(
        form.find_elements(By.CSS_SELECTOR, ".row")[1], "[aria-label='Lifetime points from']", "500"
    )
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert element(driver, "#levels-form .ok").text == "Saved 2 levels."
    assert live_server.call("GET", "/admin/levels", token)["levels"] == [
        {"level": 1, "name": "Bronze", "minPoints": 100},
        {"level": 2, "name": "Silver", "minPoints": 500},
    ]


def test_webhook_form_saves_and_shows_the_delivery_log(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    driver = page("/dashboard/webhooks", token)
    form = element(driver, "#webhook-form")
    fill(form, "[data-path=webhookId]", "crm")
    fill(form, "[data-path=url]", "http://127.0.0.1:9/hooks")
    fill(form, "[data-path=secret]", "whsec_0123456789abcdef")
    form.find_element(By.XPATH, ".//label[contains(., 'event.rewarded')]/input").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    assert element(driver, "#webhook-form .ok").text == "Saved crm."
    saved = live_server.call("GET", "/admin/webhooks/crm", token)
    assert saved["url"] == "http://127.0.0.1:9/hooks"
    assert "event.rewarded" not in saved["events"]
    assert "secret" not in saved
    deliveries = wait_for(
        driver, lambda d: d.find_elements(By.XPATH, "//button[.='Deliveries']"), "the row"
    )
    deliveries[0].click()
    log = element(driver, "#deliveries table")
    assert "Nothing yet" in log.text
