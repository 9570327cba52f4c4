"""GET /analytics/users: all users, active over 7 and 30 days, users per level."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from core import clock

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def test_counts_users_active_over_7_and_30_days_and_per_level(
    client: Any, auth: Callable[..., dict[str, str]], define: Callable[..., Any]
) -> None:
    define("events", "purchase", {"points": {"perUnit": {"field": "value", "rate": 1}}})
    levels = client.put(
        "/admin/levels",
        json={
            "levels": [
                {"level": 1, "name": "Bronze", "minPoints": 10},
                {"level": 2, "name": "Silver", "minPoints": 100},
            ]
        },
        headers=auth("admin"),
    )
    assert levels.status_code == 200, levels.json
    sent = [
        ("new", 5, NOW - timedelta(days=1)),
        ("mid", 50, NOW - timedelta(days=3)),
        ("old", 500, NOW - timedelta(days=20)),
        ("gone", 20, NOW - timedelta(days=40)),
    ]
    with clock.using(clock.frozen(NOW)):
        for user, value, moment in sent:
            response = client.post(
                "/event",
                json={
                    "eventId": "purchase",
                    "userId": user,
                    "metadata": {"value": value},
                    "timestamp": moment.isoformat(),
                },
                headers=auth("events:write events:import"),
            )
            assert response.status_code == 200, response.json
        response = client.get("/analytics/users", headers=auth("reports:read"))

    assert response.status_code == 200, response.json
    assert response.json["data"] == {
        "users": 4,
        "active": {"7d": 2, "30d": 3},
        "levels": [
            {"level": 0, "name": None, "minPoints": 0, "users": 1},
            {"level": 1, "name": "Bronze", "minPoints": 10, "users": 2},
            {"level": 2, "name": "Silver", "minPoints": 100, "users": 1},
        ],
    }


def test_without_levels_everyone_is_level_0(
    client: Any, auth: Callable[..., dict[str, str]], define: Callable[..., Any]
) -> None:
    define("events", "login", {"points": {"fixed": 10}})
    client.post("/event", json={"eventId": "login", "userId": "a"}, headers=auth())

    data = client.get("/analytics/users", headers=auth("reports:read")).json["data"]

    assert data["levels"] == [{"level": 0, "name": None, "minPoints": 0, "users": 1}]
    assert data["active"] == {"7d": 1, "30d": 1}


def test_needs_reports_read(client: Any, auth: Callable[..., dict[str, str]]) -> None:
    assert client.get("/analytics/users", headers=auth("users:read")).status_code == 403
    assert client.get("/analytics/users").status_code == 401
