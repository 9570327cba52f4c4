"""A small project with something on every dashboard page: the demo's definitions, a webhook,
a few users' events and a report run. Used by the page tests and the screenshots script."""

from __future__ import annotations

from typing import Any, Protocol

from web.demo import CHALLENGES, EVENTS, LEVELS, STREAKS

PLATFORMS = ["ios", "android", "web"]


class Server(Protocol):
    def call(self, method: str, path: str, token: str, body: Any = None) -> Any: ...


def populate(server: Server, admin_token: str, events_token: str) -> int:
    """Define and send; returns how many events were sent."""
    for kind, definitions in (("events", EVENTS), ("streaks", STREAKS), ("challenges", CHALLENGES)):
        for definition_id, body in definitions.items():
            server.call("PUT", f"/admin/{kind}/{definition_id}", admin_token, body)
    server.call("PUT", "/admin/levels", admin_token, LEVELS)
    server.call(
        "PUT",
        "/admin/funnels/login_to_purchase",
        admin_token,
        {
            "name": "Login, then purchase, then a level",
            "steps": [
                {"eventId": "daily_login"},
                {"eventId": "purchase_completed"},
                {"eventId": "level_completed"},
            ],
        },
    )
    server.call(
        "PUT",
        "/admin/webhooks/crm",
        admin_token,
        {
            "url": "http://127.0.0.1:9/hooks",  # nothing listens: deliveries fail and retry
            "secret": "whsec_0123456789abcdef",
            "events": ["level.changed", "challenge.completed"],
        },
    )
    sent = 0
    for index in range(24):
        user = f"user{index % 8:02d}"
        platform = PLATFORMS[index % 3]
        batch = [
            {"eventId": "daily_login", "userId": user, "metadata": {"platform": platform}},
            {
                "eventId": "purchase_completed",
                "userId": user,
                "metadata": {
                    "orderValue": 10 + (index * 37) % 140,
                    "platform": platform,
                    "usergroup": "subscriber" if index % 4 == 0 else "free",
                    "gift": index % 5 == 0,
                },
            },
            {
                "eventId": "level_completed",
                "userId": user,
                "metadata": {"starsEarned": index % 4, "difficulty": ["easy", "hard"][index % 2]},
            },
        ]
        server.call("POST", "/events/batch", events_token, {"events": batch})
        sent += len(batch)
    return sent
