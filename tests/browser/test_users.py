"""Support through the dashboard: find a user, read the profile and history, adjust points,
streak tools, erase; a hostile userId and metadata render as text."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import requests
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import LiveServer, element, wait_for

HOSTILE_USER = "<img src=x onerror=window.__xss=1>"
HOSTILE_VALUE = "<script>window.__xss = 2</script>"


def figure(driver: WebDriver, name: str) -> str:
    return str(element(driver, f"#profile [data-figure='{name}'] dd").text)


def define_login(server: LiveServer, token: str) -> None:
    server.call("PUT", "/admin/events/daily_login", token, {"points": {"fixed": 10}})
    server.call(
        "PUT",
        "/admin/streaks/daily_app_use",
        token,
        {"events": ["daily_login"], "period": "day", "milestones": []},
    )


def test_find_a_user_adjust_points_and_see_the_balance_change(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project, "admin", subject="support-ann")
    define_login(live_server, token)
    live_server.call("POST", "/event", token, {"eventId": "daily_login", "userId": "user123"})
    driver = page("/dashboard/users", token)
    element(driver, "#find-user input[name=userId]").send_keys("user123")
    driver.find_element(By.CSS_SELECTOR, "#find-user button[type=submit]").click()

    wait_for(driver, lambda d: d.current_url.endswith("/dashboard/users/user123"), "the user page")
    assert figure(driver, "balance") == "10"
    assert "daily_login" in element(driver, "#history-list li.event").text
    form = element(driver, "#adjust-form")
    form.find_element(By.CSS_SELECTOR, "[name=delta]").send_keys("25")
    form.find_element(By.CSS_SELECTOR, "[name=reason]").send_keys("Goodwill: late order")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    assert element(driver, "#adjust-form .ok").text == "Done: balance is now 35."
    wait_for(
        driver,
        lambda d: (
            d.find_element(By.CSS_SELECTOR, "#profile [data-figure='balance'] dd").text == "35"
        ),
        "the new balance",
    )
    assert live_server.call("GET", "/users/user123", token)["points"]["balance"] == 35
    entry = wait_for(
        driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#history-list li.points"), "points"
    )[0]
    assert "+25 points" in entry.text
    assert "Goodwill: late order" in entry.text
    assert "by support-ann" in entry.text


def test_adjustment_without_a_reason_shows_the_field_error(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project, "users:read users:write events:write")
    live_server.call("PUT", "/admin/events/daily_login", live_server.token(project), {})
    live_server.call("POST", "/event", token, {"eventId": "daily_login", "userId": "u1"})
    driver = page("/dashboard/users/u1", token)
    form = element(driver, "#adjust-form")
    form.find_element(By.CSS_SELECTOR, "[name=delta]").send_keys("5")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    error = element(driver, "#adjust-form .field-error")
    assert error.get_attribute("data-error-for") == "reason"
    assert error.text
    assert form.find_element(By.CSS_SELECTOR, "[name=reason]").get_attribute("aria-invalid")


def test_streak_restore_and_freeze_grant(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    define_login(live_server, token)
    live_server.call("POST", "/event", token, {"eventId": "daily_login", "userId": "kim"})
    driver = page("/dashboard/users/kim", token)
    restore, grant = wait_for(
        driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".inline-form"), "streak tools"
    )
    restore.find_element(By.CSS_SELECTOR, "input").send_keys("12")
    restore.find_element(By.CSS_SELECTOR, "button").click()
    assert element(driver, ".inline-form .ok").text == "Restored: 12."
    grant.find_element(By.CSS_SELECTOR, "input").send_keys("2")
    grant.find_element(By.CSS_SELECTOR, "button").click()
    wait_for(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".inline-form .ok")) == 2, "ok")

    streak = live_server.call("GET", "/users/kim", token)["streaks"][0]
    assert (streak["currentCount"], streak["freezes"]) == (12, 2)


def test_erase_needs_the_typed_user_id(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    define_login(live_server, token)
    live_server.call("POST", "/event", token, {"eventId": "daily_login", "userId": "gone"})
    driver = page("/dashboard/users/gone", token)
    form = element(driver, "#erase-form")
    button = form.find_element(By.CSS_SELECTOR, "button[type=submit]")
    form.find_element(By.CSS_SELECTOR, "[name=confirm]").send_keys("gon")
    assert not button.is_enabled()
    form.find_element(By.CSS_SELECTOR, "[name=confirm]").send_keys("e")
    button.click()

    assert element(driver, "#erase-form .ok").text == "Erased."
    response = requests.get(
        f"{live_server.url}/users/gone", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 404


def test_hostile_user_id_and_metadata_render_as_text(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    define_login(live_server, token)
    live_server.call(
        "POST",
        "/event",
        token,
        {"eventId": "daily_login", "userId": HOSTILE_USER, "metadata": {"note": HOSTILE_VALUE}},
    )
    driver = page(f"/dashboard/users/{quote(HOSTILE_USER, safe='')}", token)

    item = element(driver, "#history-list li.event")
    assert HOSTILE_VALUE in item.text
    assert element(driver, "#page-title code").text == HOSTILE_USER
    assert driver.execute_script("return document.querySelectorAll('main img').length") == 0
    assert driver.execute_script("return document.querySelectorAll('main script').length") == 0
    assert driver.execute_script("return window.__xss") is None
    try:
        alert = driver.switch_to.alert.text
    except NoAlertPresentException:
        alert = None
    assert alert is None
    assert (
        element(driver, "#erase-form label").text == f"Type the user id ({HOSTILE_USER}) to confirm"
    )


def test_unknown_user_and_missing_scope_show_error_states(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    driver = page("/dashboard/users/nobody", live_server.token(project, "users:read"))
    box = element(driver, "#profile .error[role=alert]")
    assert box.text.startswith("Not found:")
    assert "nobody" in box.text

    driver = page("/dashboard/streaks", live_server.token(project, "users:read"))
    box = element(driver, "#definition-list .error[role=alert]")
    assert box.text.startswith("Not allowed:")


def test_support_flow_works_from_the_keyboard(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    define_login(live_server, token)
    live_server.call("POST", "/event", token, {"eventId": "daily_login", "userId": "kbd"})
    driver = page("/dashboard/users", token)
    element(driver, "#find-user input[name=userId]")
    active = driver.switch_to.active_element
    assert active.get_attribute("name") == "userId"  # the search box takes the focus
    active.send_keys("kbd", Keys.ENTER)

    wait_for(driver, lambda d: d.current_url.endswith("/dashboard/users/kbd"), "the user page")
    element(driver, "#adjust-form")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert driver.switch_to.active_element.text == "Skip to content"
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    assert driver.switch_to.active_element.get_attribute("id") == "main"
    for _ in range(40):  # tab forward to the adjustment's first box
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if driver.switch_to.active_element.get_attribute("name") == "delta":
            break
    driver.switch_to.active_element.send_keys("3", Keys.TAB, "Keyboard only", Keys.ENTER)

    assert element(driver, "#adjust-form .ok").text == "Done: balance is now 13."


def test_history_pages_back_with_older(
    live_server: LiveServer, page: Callable[..., WebDriver], project: str
) -> None:
    token = live_server.token(project)
    define_login(live_server, token)
    events = [{"eventId": "daily_login", "userId": "busy"} for _ in range(15)]
    live_server.call("POST", "/events/batch", token, {"events": events})
    history = live_server.call("GET", "/users/busy/history?limit=100", token)["items"]
    driver = page("/dashboard/users/busy", token)

    wait_for(
        driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#history-list > li")) == 20, "20"
    )
    element(driver, "#history-list ~ button:not([hidden])").click()
    wait_for(
        driver,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#history-list > li")) == len(history),
        f"all {len(history)} items",
    )
    assert not driver.find_element(By.CSS_SELECTOR, "#history-list ~ button").is_displayed()
    kinds = [
        li.get_attribute("data-type")
        for li in driver.find_elements(By.CSS_SELECTOR, "#history-list > li")
    ]
    assert kinds == [item["type"] for item in history]
