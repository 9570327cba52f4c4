"""The demo project of DESIGN §9: valid definitions, seeded once, edits kept."""

from __future__ import annotations

from typing import Any

import pytest

from web.demo import DEMO_PROJECT, EVENTS, STREAKS, seed_demo
from web.schemas.definitions import EventDefinitionSchema, StreakDefinitionSchema


@pytest.mark.parametrize(
    ("schema", "definitions"), [(EventDefinitionSchema, EVENTS), (StreakDefinitionSchema, STREAKS)]
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
