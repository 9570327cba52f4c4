"""What support sees of one user (`GET /users/{userId}`,
docs/api.md#users-support-and-leaderboards), as plain data.

Decisions: `level` follows lifetime points under the project's level table (None when the
project defines no levels); a challenge shows its target while its definition is active (None
once deactivated); streaks show their stored counts — a streak the user let lapse still shows
its count until their next event restarts it, and `lastUpdate` tells how old it is.
"""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from rules.engine.challenges import plain_number
from rules.engine.levels import level_for
from rules.errors import UserNotFound
from rules.stores.users import StoredUser, UserStore
from rules.usecases.catalog import CatalogCache, load_catalog


def require_user(db: Database[Any], project: str, user_id: str) -> StoredUser:
    """The stored user; raises UserNotFound."""
    stored = UserStore(db).load(project, user_id)
    if stored is None:
        raise UserNotFound(
            f"no user {user_id!r} in this project", {"userId": ["no such user in this project"]}
        )
    return stored


def user_profile(
    db: Database[Any], project: str, user_id: str, catalogs: CatalogCache | None = None
) -> dict[str, Any]:
    """The profile of a user (keys as in the API); raises UserNotFound."""
    state = require_user(db, project, user_id).state
    catalog = catalogs.get(db, project) if catalogs is not None else load_catalog(db, project)
    level = None
    if catalog.levels is not None and catalog.levels.levels:
        number, name = level_for(catalog.levels, state.lifetime)
        level = {"level": number, "name": name}
    targets = {rule.challenge_id: rule.goal.target for rule in catalog.challenges}
    return {
        "userId": state.user_id,
        "points": {"balance": state.balance, "lifetime": state.lifetime},
        "level": level,
        "usergroup": state.usergroup,
        "timezone": state.timezone,
        "streaks": [
            {
                "streakId": streak_id,
                "currentCount": streak.current_count,
                "longestCount": streak.longest_count,
                "freezes": streak.freezes,
                "lastUpdate": streak.last_update,
            }
            for streak_id, streak in sorted(state.streaks.items())
        ],
        "challenges": [
            {
                "challengeId": challenge_id,
                "progress": plain_number(challenge.progress),
                "target": plain_number(targets[challenge_id]) if challenge_id in targets else None,
                "completed": challenge.completed,
                "completions": challenge.completions,
                "lastUpdate": challenge.last_update,
            }
            for challenge_id, challenge in sorted(state.challenges.items())
        ],
        "badges": list(state.badges),
        "firstSeen": state.first_seen,
        "lastSeen": state.last_seen,
        "eventCount": state.event_count,
    }
