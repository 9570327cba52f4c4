"""Who the project's users are, in numbers: all of them, those active over the last 7 and 30
days (by their latest event), and how many stand at each level (by lifetime points, as
rules.engine.levels places them). Read by the dashboard's overview through GET /analytics/users."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database

from rules.stores.definitions import DefinitionStore
from rules.stores.users import UserStore

ACTIVE_WINDOWS = {"7d": timedelta(days=7), "30d": timedelta(days=30)}


def population(db: Database[Any], project: str, now: datetime) -> dict[str, Any]:
    users = UserStore(db)
    table = sorted(
        DefinitionStore(db).levels.get(project)["levels"], key=lambda row: row["minPoints"]
    )
    levels: list[dict[str, Any]] = []
    if not table or table[0]["minPoints"] > 0:
        below = table[0]["minPoints"] if table else None
        levels.append(
            {
                "level": 0,
                "name": None,
                "minPoints": 0,
                "users": users.count(project, lifetime_below=below),
            }
        )
    for index, level in enumerate(table):
        upper = table[index + 1]["minPoints"] if index + 1 < len(table) else None
        levels.append(
            {
                "level": level["level"],
                "name": level["name"],
                "minPoints": level["minPoints"],
                "users": users.count(
                    project, lifetime_from=level["minPoints"], lifetime_below=upper
                ),
            }
        )
    return {
        "users": users.count(project),
        "active": {
            window: users.count(project, seen_since=now - span)
            for window, span in ACTIVE_WINDOWS.items()
        },
        "levels": levels,
    }
