"""Leaderboards (docs/architecture.md): points earned per period, kept in Redis
(rules.stores.boards) as rules.engine.scores ranks them. This module keeps them up to date:
live, as each record is finished (`leaderboard_effect`, a rules.effects effect), and
by rebuilding them from the ledger (`rebuild`, hourly), which also catches up whatever the
live path missed while Redis was down.
Why: docs/decisions/0007-leaderboard-scores-and-live-updates.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import redis
from pymongo.database import Database

from core import clock
from rules.effects import Effect
from rules.engine.scores import EARNED_SOURCES, PERIODS, board_for, counted, encode, utc
from rules.stores import boards
from rules.stores.boards import Redis
from rules.stores.breaker import Breaker
from rules.stores.ledger import Ledger
from rules.usecases.reconcile import sweep_pending

log = logging.getLogger(__name__)


def leaderboard_effect(client: Callable[[], Redis], breaker: Breaker | None = None) -> Effect:
    """The rules.effects effect: count a finished record's awards (`client` gives this
    process's Redis when called). With a `breaker`, a failing Redis is left alone for a while
    (and the failure raised, so that the finisher logs it)."""
    return LeaderboardEffect(client, breaker)


class LeaderboardEffect:
    """leaderboard_effect's effect; `many` counts a batch's records in one transaction."""

    def __init__(self, client: Callable[[], Redis], breaker: Breaker | None) -> None:
        self._client = client
        self._breaker = breaker

    def __call__(self, project: str, user_id: str, pending: Mapping[str, Any]) -> None:
        self.many(project, [(user_id, pending)])

    def many(self, project: str, records: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        entries: dict[str, list[Mapping[str, Any]]] = {}
        for user_id, pending in records:
            counted_entries = counted(pending.get("ledger", []))
            if counted_entries:
                entries.setdefault(user_id, []).extend(counted_entries)
        if not entries:
            return
        breaker = self._breaker
        if breaker is not None and not breaker.allows():
            ids = ", ".join(str(pending["id"]) for _, pending in records)
            log.info("leaderboards skipped for record(s) %s: Redis failed lately", ids)
            return
        try:
            boards.record_awards_of_users(self._client(), project, entries, clock.now())
        except redis.RedisError:
            if breaker is not None:
                breaker.failed()
            raise
        if breaker is not None:
            breaker.succeeded()


def rebuild(
    db: Database[Any],
    client: Redis,
    project: str,
    now: datetime,
    effects: Sequence[Effect] = (),
) -> dict[str, int]:
    """Recompute the project's current boards from the ledger; returns members per period."""
    sweep_pending(db, now, grace=timedelta(0), project=project, effects=effects)
    current = {period: board_for(project, period, now) for period in PERIODS}
    members: dict[str, dict[str, float]] = {period: {} for period in PERIODS}
    windows = {
        period: (None if board.end is None else board.start) for period, board in current.items()
    }
    for user_id, earned in Ledger(db).earned_by_user(project, EARNED_SOURCES, windows):
        for period, (points, latest) in earned.items():
            board = current[period]
            members[period][user_id] = encode(points, board.tick(utc(latest)), period)
    boards.replace_boards(client, project, current, members, now)
    return {period: len(scores) for period, scores in members.items()}
