"""The leaderboards' store (docs/architecture.md): one Redis sorted set per board, scored as
rules.engine.scores encodes points and their tie-break, and the only code naming their keys:
`laurel:lb:{<project>}:day:2026-11-26`, `…:week:2026-W48`, `…:month:2026-11`, `…:all`, and
the entries applied per user, `laurel:lb:{<project>}:applied:<userId>`.

Awards are one WATCH/MULTI transaction per user on its applied key (on the embedded default's
sorted sets, the same reads and writes run on them under their lock, by
rules.stores.boards_in_process), so a record finished twice counts once; a per-process Breaker
(rules.stores.breaker) leaves Redis alone for a while after a failure.
Why: docs/decisions/0007-leaderboard-scores-and-live-updates.md.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ParamSpec, TypeVar, cast

import redis

from core.sortedsets import SortedSets
from rules.engine.scores import (
    ALL_TIME_EPOCH,
    PERIODS,
    TIE_BITS,
    Board,
    board_for,
    counted,
    decode,
    encode,
    utc,
)
from rules.errors import LeaderboardUnavailable
from rules.stores.boards_in_process import record_in_process
from rules.stores.breaker import Breaker as Breaker
from rules.stores.breaker import breaker_for as breaker_for

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

APPLIED_KEEP = timedelta(days=7)
MAX_TRIES = 20
CHUNK = 1000
_MILLISECOND = timedelta(milliseconds=1)

Redis = redis.Redis | SortedSets  # SortedSets: the embedded default's, Redis's semantics
REBUILD_KEEP = 3600  # seconds a temporary board of a rebuild may outlive its process


@dataclass(frozen=True)
class Standing:
    rank: int  # 1 for the first
    user_id: str
    points: int


def project_prefix(project: str) -> str:
    return f"laurel:lb:{{{project}}}:"


def board_key(board: Board) -> str:
    suffix = board.period if board.key is None else f"{board.period}:{board.key}"
    return f"{project_prefix(board.project)}{suffix}"


def applied_key(project: str, user_id: str) -> str:
    return f"{project_prefix(project)}applied:{user_id}"


# --- awards --------------------------------------------------------------------------------


class LeaderboardContention(Exception):
    """A user's boards kept changing under us; the next rebuild catches up."""


def record_awards(
    client: Redis,
    project: str,
    user_id: str,
    entries: Iterable[Mapping[str, Any]],
    now: datetime,
) -> int:
    """Add the counted `entries` of one user to their boards, each entry once however often
    this runs. Returns how many entries were new."""
    return record_awards_of_users(client, project, {user_id: entries}, now)


def record_awards_of_users(
    client: Redis,
    project: str,
    entries_by_user: Mapping[str, Iterable[Mapping[str, Any]]],
    now: datetime,
) -> int:
    """`record_awards` for several users at once (a batch's), in the same three round trips
    as for one: the markers watched together, the reads in one pipeline (one ZMSCORE per
    board for all its users), the writes in one transaction (one ZADD per board).

    Should one of the users change meanwhile (another request awarded them), the users are
    recorded one by one instead: retrying them all together could lose again and again to
    whichever of them is busiest.

    On the embedded default's sorted sets (core.sortedsets), rules.stores.boards_in_process
    runs the same reads and writes on them while holding their lock instead: nothing can
    change in between, so there is nothing to watch and no transaction to retry."""
    earned = {user: counted(entries) for user, entries in entries_by_user.items()}
    earned = {user: entries for user, entries in earned.items() if entries}
    if not earned:
        return 0
    markers = {user: applied_key(project, user) for user in earned}
    placed = Placements(project)
    if isinstance(client, SortedSets):
        return record_in_process(client, markers, earned, placed, now, _millis(now), APPLIED_KEEP)
    earned_changes = {user: placed.changes(entries) for user, entries in earned.items()}
    tries = MAX_TRIES if len(earned) == 1 else 1
    transaction: Any = client.pipeline()  # redis-py's Pipeline: its `watch` is untyped
    with transaction as pipe:
        for _ in range(tries):
            try:
                pipe.watch(*markers.values())
                return _record(client, pipe, markers, earned, earned_changes, placed, now)
            except redis.WatchError:
                continue
    if len(earned) > 1:
        return sum(
            _record_alone(client, project, user, entries, now) for user, entries in earned.items()
        )
    raise LeaderboardContention(f"the boards of user {next(iter(earned))!r} kept changing")


def _record(
    client: Redis,
    transaction: Any,
    markers: Mapping[str, str],
    earned: Mapping[str, list[Mapping[str, Any]]],
    earned_changes: Mapping[str, Changes],
    placed: Placements,
    now: datetime,
) -> int:
    """Read what is new, then write it in `transaction` (a pipeline watching the markers)."""
    fresh, scores = _unapplied(client, markers, earned, earned_changes)
    if not fresh:
        return 0  # leaving the pipeline unwatches
    # Usually every entry is new: the changes of all of them are those of the new.
    fresh_changes = {
        user: earned_changes[user] if len(entries) == len(earned[user]) else placed.changes(entries)
        for user, entries in fresh.items()
    }
    transaction.multi()
    _write_awards(transaction, markers, fresh, fresh_changes, scores, placed.boards, now)
    transaction.execute()
    return sum(len(entries) for entries in fresh.values())


def _record_alone(
    client: Redis, project: str, user_id: str, entries: list[Mapping[str, Any]], now: datetime
) -> int:
    """One user's awards after a combined write lost its race; a user whose boards keep
    changing is left to the hourly `rebuild` so that the users after them still get
    theirs."""
    try:
        return record_awards_of_users(client, project, {user_id: entries}, now)
    except LeaderboardContention:
        log.warning("leaderboards of user %r kept changing; the rebuild catches up", user_id)
        return 0


Changes = dict[str, tuple[int, int]]  # board key -> (points added, latest tick)
Scores = dict[str, dict[str, float | None]]  # board key -> user -> score (None: not on it)


class Placements:
    """rules.engine.scores.changes by board key, placing each moment on its boards once: a
    batch's entries share their moment (tests/unit/rules/test_leaderboard_scores.py compares
    both). `boards` holds the boards placed, by key."""

    def __init__(self, project: str) -> None:
        self._project = project
        self._placed: dict[datetime, list[tuple[str, int]]] = {}
        self.boards: dict[str, Board] = {}

    def changes(self, entries: Iterable[Mapping[str, Any]]) -> Changes:
        found: Changes = {}
        for entry in entries:
            placed = self._placed.get(entry["createdAt"]) or self._place(entry["createdAt"])
            delta = entry["delta"]
            for key, tick in placed:
                if key in found:
                    points, latest = found[key]
                    found[key] = (points + delta, max(latest, tick))
                else:
                    found[key] = (delta, tick)  # as from (0, 0): a tick is never negative
        return found

    def _place(self, moment: datetime) -> list[tuple[str, int]]:
        at = utc(moment)
        boards, starts = _boards_of_day(self._project, at.date())
        self.boards.update(boards)
        # Board.tick(at), counted from ALL_TIME_EPOCH: a board starts on a whole millisecond.
        millis = (at - ALL_TIME_EPOCH) // _MILLISECOND
        placed = self._placed[moment] = [
            (key, min(max(millis - start, 0), last)) for key, start, last in starts
        ]
        return placed


@functools.lru_cache(maxsize=1024)
def _boards_of_day(project: str, day: date) -> tuple[dict[str, Board], list[tuple[str, int, int]]]:
    """The boards of a UTC day (the same four for every award that day) by key, and each
    key with its board's start (milliseconds from ALL_TIME_EPOCH) and last tick. Shared by
    every caller: not to be changed."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    boards = {board_key(b): b for b in (board_for(project, p, midnight) for p in PERIODS)}
    last = {period: (1 << bits) - 1 for period, bits in TIE_BITS.items()}
    return boards, [(key, _millis(b.start), last[b.period]) for key, b in boards.items()]


def _unapplied(
    client: Redis,
    markers: Mapping[str, str],
    earned: Mapping[str, list[Mapping[str, Any]]],
    earned_changes: Mapping[str, Changes],
) -> tuple[dict[str, list[Mapping[str, Any]]], Scores]:
    """The entries not applied yet, per user, and the users' scores on the boards they
    touch. The reads run in one round trip, on another connection: WATCH is already set, so
    a change to a marker after them still fails the EXEC."""
    on_board: dict[str, list[str]] = {}
    for user in earned:
        for key in earned_changes[user]:
            on_board.setdefault(key, []).append(user)
    with client.pipeline(transaction=False) as reads:
        for user, entries in earned.items():
            reads.zmscore(markers[user], [str(entry["_id"]) for entry in entries])
        for key, users in on_board.items():
            reads.zmscore(key, users)
        answers = reads.execute()
    seen, boards = answers[: len(earned)], answers[len(earned) :]
    fresh = {
        user: [entry for entry, mark in zip(entries, marks, strict=True) if mark is None]
        for (user, entries), marks in zip(earned.items(), seen, strict=True)
    }
    scores = {
        key: dict(zip(users, map(_score, values), strict=True))
        for (key, users), values in zip(on_board.items(), boards, strict=True)
    }
    return {user: entries for user, entries in fresh.items() if entries}, scores


def _write_awards(
    pipe: Any,
    markers: Mapping[str, str],
    fresh: Mapping[str, list[Mapping[str, Any]]],
    fresh_changes: Mapping[str, Changes],
    scores: Scores,
    boards: Mapping[str, Board],
    now: datetime,
) -> None:
    """Queue the new scores (one ZADD per board) and the markers of the entries applied."""
    members: dict[str, dict[str, float]] = {}
    newcomers: set[str] = set()
    for user in fresh:
        for key, (points, reached) in fresh_changes[user].items():
            period = boards[key].period
            before = scores[key][user]
            if before is None:
                newcomers.add(key)
            else:
                old_points, old_tick = decode(before, period)
                points += old_points
                reached = max(reached, old_tick)
            members.setdefault(key, {})[user] = encode(points, reached, period)
    for key, board_members in members.items():
        pipe.zadd(key, board_members)
        # A board that held these users already has its (fixed) expiry: whoever added its
        # first member set it.
        expires_at = boards[key].expires_at
        if expires_at is not None and key in newcomers:
            pipe.expire(key, expires_at - now)
    stamp = _millis(now)
    keep = APPLIED_KEEP // timedelta(milliseconds=1)
    for user, entries in fresh.items():
        pipe.zadd(markers[user], {str(entry["_id"]): stamp for entry in entries})
        pipe.zremrangebyscore(markers[user], "-inf", stamp - keep)
        pipe.expire(markers[user], APPLIED_KEEP)


# --- reading -------------------------------------------------------------------------------


def _read(what: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """A board read that raises LeaderboardUnavailable when Redis does not answer."""

    def decorate(read: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(read)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return read(*args, **kwargs)
            except redis.RedisError as error:
                log.warning("leaderboards: Redis is unavailable for %s", what, exc_info=True)
                raise LeaderboardUnavailable("Redis did not answer") from error

        return guarded

    return decorate


@_read("the leaders")
def top(client: Redis, project: str, period: str, limit: int, now: datetime) -> list[Standing]:
    """The first `limit` of the current board of `period`."""
    key = board_key(board_for(project, period, now))
    rows = cast("list[tuple[bytes, float]]", client.zrange(key, 0, limit - 1, withscores=True))
    return [
        Standing(rank, _text(member), decode(score, period)[0])
        for rank, (member, score) in enumerate(rows, start=1)
    ]


@_read("a user's rank")
def standing(
    client: Redis, project: str, period: str, user_id: str, now: datetime
) -> Standing | None:
    """The user's place on the current board of `period`; None when they earned nothing."""
    key = board_key(board_for(project, period, now))
    with client.pipeline(transaction=True) as pipe:
        pipe.zrank(key, user_id)
        pipe.zscore(key, user_id)
        rank, score = pipe.execute()
    if rank is None or score is None:
        return None
    return Standing(int(rank) + 1, user_id, decode(float(score), period)[0])


# --- replacing and erasing -----------------------------------------------------------------


def replace_boards(
    client: Redis,
    project: str,
    boards: Mapping[str, Board],
    members: Mapping[str, Mapping[str, float]],
    now: datetime,
) -> None:
    """Make `members` (user → score, per period) the whole of each of `boards` (per period):
    written into temporary keys, then swapped in with one MULTI, so that a reader sees either
    board whole. A period without members has its board deleted."""
    token = uuid.uuid4().hex
    temporary = {period: f"{project_prefix(project)}rebuild:{token}:{period}" for period in boards}
    try:
        for period, scores in members.items():
            items = list(scores.items())
            for start in range(0, len(items), CHUNK):
                client.zadd(temporary[period], dict(items[start : start + CHUNK]))
            # Should this process die before the swap, the half-built board goes away alone.
            client.expire(temporary[period], REBUILD_KEEP)
        with client.pipeline(transaction=True) as pipe:
            for period, board in boards.items():
                key = board_key(board)
                if members.get(period):
                    pipe.rename(temporary[period], key)
                    if board.expires_at is not None:
                        pipe.expire(key, board.expires_at - now)
                else:
                    pipe.delete(key)
            pipe.execute()
    finally:
        client.delete(*temporary.values())


def erase_user(client: Redis, project: str, user_id: str) -> int:
    """Remove the user from every board of the project (past periods and rebuilds in progress
    included) and drop their markers; returns how many keys held them."""
    prefix = project_prefix(project)
    found = 0
    for pattern in ("day:*", "week:*", "month:*", "all", "rebuild:*"):
        for key in client.scan_iter(match=prefix + pattern, count=CHUNK):
            found += cast(int, client.zrem(key, user_id))
    found += cast(int, client.delete(applied_key(project, user_id)))
    return found


def _millis(moment: datetime) -> int:
    return (utc(moment) - ALL_TIME_EPOCH) // _MILLISECOND


def _score(value: Any) -> float | None:
    return None if value is None else float(value)


def _text(member: Any) -> str:
    return member.decode() if isinstance(member, bytes) else str(member)
