"""The demo project of docs/api.md#running: valid definitions, seeded once, edits kept."""

from __future__ import annotations

from typing import Any

import pytest

from web.demo import CHALLENGES, DEMO_PROJECT, EVENTS, LEVELS, STREAKS, seed_demo
from web.schemas.definitions import (
    ChallengeDefinitionSchema,
    EventDefinitionSchema,
    StreakDefinitionSchema,
)


@pytest.mark.parametrize(
    ("schema", "definitions"),
    [
        (EventDefinitionSchema, EVENTS),
        (StreakDefinitionSchema, STREAKS),
        (ChallengeDefinitionSchema, CHALLENGES),
    ],
)
def test_demo_definitions_are_valid_admin_bodies(schema: Any, definitions: Any) -> None:
    for body in definitions.values():
        assert schema().load(body)["name"]  # load raises ValidationError on any problem


def test_seeding_twice_keeps_an_admins_edit(db: Any, client: Any, auth: Any) -> None:
    seed_demo(db)
    edited = client.put(
        "/admin/events/daily_login",
        json={"points": {"fixed": 99}},
        headers=auth("admin", project=DEMO_PROJECT),
    )
    assert edited.status_code == 200

    seed_demo(db)

    assert db.event_definitions.count_documents({"project": DEMO_PROJECT}) == len(EVENTS)
    stored = db.event_definitions.find_one({"project": DEMO_PROJECT, "eventId": "daily_login"})
    assert stored["points"]["fixed"] == 99


def test_the_demo_shows_conditions_value_rewards_challenges_and_levels(
    db: Any, client: Any, auth: Any
) -> None:
    seed_demo(db)
    headers = auth(project=DEMO_PROJECT)

    def send(event_id: str, **metadata: Any) -> dict[str, Any]:
        body = {"eventId": event_id, "userId": "player", "metadata": metadata}
        response = client.post("/event", json=body, headers=headers)
        assert response.status_code == 200, response.json
        data: dict[str, Any] = response.json["data"]
        return data

    no_stars = send("level_completed", starsEarned=0)
    assert (no_stars["rewarded"], no_stars["reason"]) == (False, "conditions_not_met")
    assert no_stars["challenges"] == []  # the challenge shares the condition

    levels = [send("level_completed", starsEarned=3) for _ in range(5)]
    assert [d["challenges"][0]["progress"] for d in levels] == [1, 2, 3, 4, 5]
    assert levels[-1]["challenges"][0]["completed"] is True
    assert levels[-1]["totalPointsAwarded"] == 5 + 100
    assert levels[-1]["badges"] == ["level_master"]

    purchase = send("purchase_completed", orderValue=200)
    assert purchase["pointsAwarded"] == 400
    assert purchase["streaks"][0]["streakId"] == "weekly_shopper"
    assert purchase["streaks"][0]["currentCount"] == 1
    assert purchase["challenges"][0]["progress"] == 200
    assert purchase["level"] == {"level": 2, "name": "Silver", "levelUp": True}  # 125 + 400
    assert purchase["balance"] == 525


def test_seeding_keeps_an_edited_level_table(db: Any, client: Any, auth: Any) -> None:
    seed_demo(db)
    assert db.level_tables.find_one({"_id": DEMO_PROJECT})["levels"] == LEVELS["levels"]
    one_level = {"levels": [{"level": 1, "name": "Everyone", "minPoints": 0}]}
    client.put("/admin/levels", json=one_level, headers=auth("admin", project=DEMO_PROJECT))

    seed_demo(db)

    assert db.level_tables.find_one({"_id": DEMO_PROJECT})["levels"] == one_level["levels"]
