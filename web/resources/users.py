"""Users and support actions (docs/api.md#users-support-and-leaderboards): `users:read` to look,
`users:write` to change.

Support actions (adjustments, streak restores and freezes) are recorded with the token's `sub`
as their actor, so they need a token that names its holder (`token create --sub NAME`): one
without `sub` is refused with 403. They take an idempotency key like POST /event (body
`idempotencyKey` or the `Idempotency-Key` header); the key's request is the route, the userId
(and streakId) and the body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Response, after_this_request, request
from flask.views import MethodView
from flask_smorest import abort

from core import clock
from jobs.effects import effects_for
from jobs.locks import LOCK_TTL
from jobs.queue import QueueUnavailable, queue_for
from jobs.reports import run_exports
from reports.analytics.export_erasure import remove_exports_holding
from reports.analytics.runner import forget_user
from rules.stores.eventlog import EventLog
from rules.stores.idempotency import IdempotencyKey, fingerprint
from rules.stores.ledger import Ledger
from rules.usecases.erasure import erase_user
from rules.usecases.history import KINDS, user_history
from rules.usecases.profiles import require_user, user_profile
from rules.usecases.support import (
    Applied,
    adjust_points,
    grant_streak_freezes,
    restore_streak,
    set_usergroup,
)
from web.auth import Principal, current_principal, require_scope
from web.blueprint import Blueprint
from web.context import app_state, database
from web.errors import RETRY_SOON
from web.openapi import IDEMPOTENCY_KEY_PARAMETER
from web.schemas.fields import idempotency_key_problem, to_millis
from web.schemas.users import (
    AdjustmentResultSchema,
    AdjustmentSchema,
    ErasureSchema,
    FreezeGrantSchema,
    HistoryPageSchema,
    HistoryQuerySchema,
    ProfileSchema,
    RestoreSchema,
    StreakToolResultSchema,
    UsergroupResultSchema,
    UsergroupSchema,
)

log = logging.getLogger(__name__)

# Seconds to wait before erasing once more what requests in flight were still writing.
ERASE_SETTLE = 0.5
EXPORT_TIMEOUT = int(LOCK_TTL.total_seconds())  # an export may last as long as its lock

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
REPLAYED_DOC = {
    REPLAYED_HEADER: {
        "description": "`true` when an earlier request with this idempotency key was applied "
        "and this is its response",
        "schema": {"type": "string", "enum": ["true"]},
    }
}

blp = Blueprint(
    "users",
    __name__,
    url_prefix="/users",
    description="Support: a user's profile and history, points adjustments, streak tools and "
    "erasure (scopes users:read, users:write)",
)


@blp.route("/<user:userId>", endpoint="user")
class User(MethodView):
    @require_scope("users:read")
    @blp.response(200, ProfileSchema)
    @blp.errors(401, 403, 404, 429)
    def get(self, userId: str) -> dict[str, Any]:  # noqa: N803 — the path's name
        """Get a user's profile

        Points (balance, lifetime), level, usergroup, timezone, streaks, challenges, badges,
        first and last event times and the number of events. Unknown user: 404 `not_found`.
        Requires the `users:read` scope.
        """
        return user_profile(
            database(), current_principal().project, userId, catalogs=app_state().catalogs
        )

    @require_scope("users:write")
    @blp.response(200, ErasureSchema)
    @blp.errors(401, 403, 404, 429, 503)
    def delete(self, userId: str) -> dict[str, Any]:  # noqa: N803
        """Erase a user

        Deletes everything stored about the user: their profile and state, events, points
        ledger, support audit, webhook notifications and deliveries, idempotency keys of
        their requests, and their places on every leaderboard. Not undoable. Unknown user
        (or erased already): 404 `not_found`. Should Redis be unavailable, the documents are
        erased and the answer is 503: repeat the request to clear the leaderboards. Requires
        the `users:write` scope.
        """
        state = app_state()
        principal = current_principal()
        erased = erase_user(
            state.clients.mongo,
            state.clients.boards,
            principal.project,
            userId,
            settle=ERASE_SETTLE,
        )
        # Analytics partials list the users of each day (and their metadata's values): the
        # days that counted this user are recomputed from what is left.
        forget_user(state.clients.mongo, principal.project, userId, days=erased.report_days)
        _replace_exports(principal.project, erased.report_days, erased.first_received)
        # Accountability without the user's id (that is what was erased).
        log.warning(
            "erased a user of project %s for %s: %s",
            principal.project,
            principal.subject or "a token without sub",
            erased.documents,
        )
        if erased.redis_error is not None:
            abort(
                503,
                message="The user's documents are erased, but Redis is unavailable: repeat the "
                "request to remove them from the leaderboards",
                headers=RETRY_SOON,
            )
        if not erased.found:
            abort(404, message=f"no user {userId!r} in this project")
        return {
            "userId": userId,
            "erased": erased.documents,
            "leaderboardKeys": erased.leaderboard_keys,
        }


@blp.route("/<user:userId>/history", endpoint="history")
class History(MethodView):
    @require_scope("users:read")
    @blp.arguments(HistoryQuerySchema, location="query")
    @blp.response(200, HistoryPageSchema)
    @blp.errors(401, 403, 404, 429)
    def get(self, query: dict[str, Any], userId: str) -> dict[str, Any]:  # noqa: N803
        """A user's events and points entries, newest first

        `type=event` or `type=points` for one kind; without it both are merged. `eventId`,
        `from` and `to` (inclusive; epoch ms or ISO-8601) filter by the event's time, or when
        a points entry was written. Pages of `limit` (1-100, default 20): pass `nextCursor` as
        `cursor` for the next one; it stays exact while new events arrive (they are newer than
        the first page). Requires the `users:read` scope.
        """
        db = database()
        project = current_principal().project
        require_user(db, project, userId)
        page = user_history(
            EventLog(db),
            Ledger(db),
            project,
            userId,
            kinds=[query["type"]] if query["type"] else KINDS,
            event_id=query["eventId"],
            since=query["since"],
            until=query["until"],
            limit=query["limit"],
            after=query["cursor"],
        )
        return {
            "items": page.items,
            "nextCursor": page.next.token() if page.next is not None else None,
        }


@blp.route("/<user:userId>/adjustments", endpoint="adjustments")
class Adjustments(MethodView):
    @require_scope("users:write")
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(
        AdjustmentSchema,
        example={
            "delta": 50,
            "reason": "Goodwill: order #4711 arrived late",
            "idempotencyKey": "t-81",
        },
    )
    @blp.response(200, AdjustmentResultSchema, headers=REPLAYED_DOC)
    @blp.errors(401, 403, 404, 413, 422, 429, 503)
    def post(self, payload: dict[str, Any], userId: str) -> dict[str, Any]:  # noqa: N803
        """Add points to, or take points from, a user's balance

        Writes a ledger entry (source `adjustment`) with the reason and the token's `sub` as
        actor, and notifies `points.adjusted` webhooks. The balance never goes below 0 (400).
        Lifetime points, levels and leaderboards count points earned through rules, so an
        adjustment leaves them as they are. Requires the `users:write` scope and a token with
        a `sub`.
        """
        principal = current_principal()
        now = to_millis(clock.now())
        state = app_state()
        applied = adjust_points(
            state.clients.mongo,
            principal.project,
            userId,
            delta=payload["delta"],
            reason=payload["reason"],
            actor=_actor(principal),
            now=now,
            idempotency=_idempotency(payload, {"userId": userId}),
            effects=effects_for(state.clients),
            catalogs=state.catalogs,
        )
        return _answer(applied)


@blp.route("/<user:userId>/streaks/<streakId>/restore", endpoint="streak_restore")
class StreakRestore(MethodView):
    @require_scope("users:write")
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(RestoreSchema, example={"count": 12})
    @blp.response(200, StreakToolResultSchema, headers=REPLAYED_DOC)
    @blp.errors(401, 403, 404, 413, 422, 429, 503)
    def post(self, payload: dict[str, Any], userId: str, streakId: str) -> dict[str, Any]:  # noqa: N803
        """Restore a user's streak to a count

        The streak stands at `count` and is alive: the user's next activity in this period
        (if not counted yet) or the next one continues it at count + 1, whatever gap there
        was. Pays no milestones (none up to the count is paid again later). Recorded in the
        audit with the token's `sub`. Unknown user or streak: 404. Requires the `users:write`
        scope and a token with a `sub`.
        """
        principal = current_principal()
        state = app_state()
        applied = restore_streak(
            state.clients.mongo,
            principal.project,
            userId,
            streakId,
            count=payload["count"],
            actor=_actor(principal),
            now=to_millis(clock.now()),
            idempotency=_idempotency(payload, {"userId": userId, "streakId": streakId}),
            effects=effects_for(state.clients),
        )
        return _answer(applied)


@blp.route("/<user:userId>/streaks/<streakId>/freezes", endpoint="streak_freezes")
class StreakFreezes(MethodView):
    @require_scope("users:write")
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(FreezeGrantSchema, example={"count": 1})
    @blp.response(200, StreakToolResultSchema, headers=REPLAYED_DOC)
    @blp.errors(401, 403, 404, 413, 422, 429, 503)
    def post(self, payload: dict[str, Any], userId: str, streakId: str) -> dict[str, Any]:  # noqa: N803
        """Grant a user freezes for a streak

        Each freeze covers one missed period. Not bounded by the definition's `freezes.max`
        (which bounds what activity earns). Recorded in the audit with the token's `sub`.
        Unknown user or streak: 404. Requires the `users:write` scope and a token with a
        `sub`.
        """
        principal = current_principal()
        state = app_state()
        applied = grant_streak_freezes(
            state.clients.mongo,
            principal.project,
            userId,
            streakId,
            count=payload["count"],
            actor=_actor(principal),
            now=to_millis(clock.now()),
            idempotency=_idempotency(payload, {"userId": userId, "streakId": streakId}),
            effects=effects_for(state.clients),
        )
        return _answer(applied)


@blp.route("/<user:userId>/usergroup", endpoint="usergroup")
class Usergroup(MethodView):
    @require_scope("users:write")
    @blp.arguments(UsergroupSchema, example={"usergroup": "subscriber"})
    @blp.response(200, UsergroupResultSchema)
    @blp.errors(401, 403, 404, 413, 429, 503)
    def put(self, payload: dict[str, Any], userId: str) -> dict[str, Any]:  # noqa: N803
        """Set a user's usergroup

        The usergroup picks the user's `groupRewards` multiplier. Events set it through
        `metadata.usergroup` unless the project's settings say `usergroupSource: "api"`
        (PUT /admin/settings); then only this call does. `null` clears it. Recorded in the
        audit with the token's `sub`. Unknown user: 404. Requires the `users:write` scope and
        a token with a `sub`.
        """
        principal = current_principal()
        state = app_state()
        applied = set_usergroup(
            state.clients.mongo,
            principal.project,
            userId,
            usergroup=payload["usergroup"],
            actor=_actor(principal),
            now=to_millis(clock.now()),
            effects=effects_for(state.clients),
        )
        return applied.result


def _replace_exports(
    project: str, days: set[tuple[str, str]], first_received: datetime | None
) -> None:
    """Exports that aggregated the erased user's days go; a new export is queued at once."""
    state = app_state()
    removed = remove_exports_holding(state.settings.export_dir, project, days, first_received)
    if not removed:
        return
    log.warning("removed %d export file(s) of project %s after an erasure", len(removed), project)
    try:
        queue_for(state.clients).enqueue(run_exports, project, timeout=EXPORT_TIMEOUT)
    except QueueUnavailable:
        log.warning("cannot queue a new export of %s now; the scheduled one writes it", project)


def _actor(principal: Principal) -> str:
    if not principal.subject:
        abort(
            403,
            message="Forbidden: support actions are recorded with who made them; use a token "
            "with a `sub` claim (token create --sub NAME)",
        )
    return principal.subject


def _idempotency(payload: Mapping[str, Any], path: Mapping[str, str]) -> IdempotencyKey | None:
    """The request's key (body or header) bound to the route, the path and the body."""
    key = payload.get("idempotencyKey")
    header = request.headers.get(KEY_HEADER)
    if header is not None:
        problem = idempotency_key_problem(header)
        if problem:
            abort(400, errors={KEY_HEADER: [problem]})
        if key not in (None, header):
            abort(400, errors={KEY_HEADER: ["differs from the body's idempotencyKey"]})
        key = header
    if key is None:
        return None
    body = request.get_json(silent=True) or {}
    fields = {k: v for k, v in body.items() if k != "idempotencyKey"}
    # The route as written before userIds had their converter, so that keys stored then match.
    route = str(request.url_rule).replace("<user:userId>", "<userId>")
    return IdempotencyKey(key, fingerprint({"route": route, **path, **fields}))


def _answer(applied: Applied) -> dict[str, Any]:
    if applied.replayed:
        after_this_request(_mark_replayed)
    return applied.result


def _mark_replayed(response: Response) -> Response:
    response.headers[REPLAYED_HEADER] = "true"
    return response
