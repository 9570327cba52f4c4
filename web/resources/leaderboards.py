"""Leaderboards (docs/api.md#users-support-and-leaderboards): GET /leaderboards and GET
/users/{userId}/rank.

Scope: `users:read` or `events:write`. Apps show leaderboards to their users, and the token an
app holds is the `events:write` one; a board shows userIds and points earned, nothing a token
that may record events for those users should not see. Support tokens (`users:read`) read them
too. A Redis that cannot answer gives 503 `unavailable` (rules.stores.boards raises
LeaderboardUnavailable).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask.views import MethodView
from flask_smorest import abort

from core import clock
from rules.engine.scores import board_for
from rules.stores import boards
from rules.usecases.profiles import require_user
from web.auth import current_principal
from web.blueprint import Blueprint
from web.context import app_state, database
from web.schemas.leaderboards import (
    LeaderboardQuerySchema,
    LeaderboardSchema,
    RankQuerySchema,
    RankSchema,
)

READ_SCOPES = ("users:read", "events:write")

View = TypeVar("View", bound=Callable[..., Any])

blp = Blueprint(
    "leaderboards",
    __name__,
    description="Rankings of points earned per day, week, month or all time (UTC)",
)


def require_board_reader(view: View) -> View:
    """Let the view run for a token holding one of READ_SCOPES (401 / 403 otherwise)."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        principal = current_principal()
        if not any(principal.allows(scope) for scope in READ_SCOPES):
            abort(
                403, message="Forbidden: leaderboards need the 'users:read' or 'events:write' scope"
            )
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]  # functools.wraps(view) keeps its signature


@blp.route("/leaderboards", endpoint="board")
class Leaderboard(MethodView):
    @require_board_reader
    @blp.arguments(LeaderboardQuerySchema, location="query")
    @blp.response(200, LeaderboardSchema)
    @blp.errors(401, 403, 429, 503)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The leaders of the current period

        Points earned through rules (events, streak milestones, challenges; not manual
        adjustments) in the current day, ISO week, month (UTC) or all time. Most points
        first; between equal points, whoever reached them first ranks higher. Requires the
        `users:read` or `events:write` scope.
        """
        now = clock.now()
        project = current_principal().project
        period = query["period"]
        items = boards.top(app_state().clients.boards, project, period, query["limit"], now)
        return {
            "period": period,
            "periodKey": board_for(project, period, now).key,
            "items": items,
        }


@blp.route("/users/<user:userId>/rank", endpoint="rank")
class Rank(MethodView):
    @require_board_reader
    @blp.arguments(RankQuerySchema, location="query")
    @blp.response(200, RankSchema)
    @blp.errors(401, 403, 404, 429, 503)
    def get(self, query: dict[str, Any], userId: str) -> dict[str, Any]:  # noqa: N803
        """A user's place on the current period's leaderboard

        `rank` is null (and `points` 0) while the user has earned nothing in the period.
        Unknown user: 404 `not_found`. Requires the `users:read` or `events:write` scope.
        """
        now = clock.now()
        project = current_principal().project
        period = query["period"]
        require_user(database(), project, userId)
        standing = boards.standing(app_state().clients.boards, project, period, userId, now)
        return {
            "period": period,
            "periodKey": board_for(project, period, now).key,
            "rank": standing.rank if standing else None,
            "points": standing.points if standing else 0,
        }
