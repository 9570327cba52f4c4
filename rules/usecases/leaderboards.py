"""Leaderboards (DESIGN §6): points earned per period, in Redis sorted sets.

Boards: one sorted set per project, period and period key, UTC —
`laurel:lb:{<project>}:day:2026-11-26`, `…:week:2026-W48`, `…:month:2026-11`, `…:all`. The
braces keep one project's keys apart from another's (project ids may contain ":") and in one
Redis Cluster slot. Past periods' boards expire KEEP_AFTER their end; `all` never does. Expiries are
relative (EXPIRE, not EXPIREAT): the end is read on Laurel's clock, not on Redis's.

What counts: ledger entries with a positive delta from rules (sources event, streak,
challenge), in the period of their `createdAt` (when they were awarded, so an imported old
event counts today). Manual adjustments do not count: a board ranks points earned, as
`lifetime` does (rules.usecases.support).

Order: more points first; between equal points, whoever reached that total first (their
latest counted entry is older) ranks higher; then by userId. A member's score encodes both,
negated so that Redis' ascending order is the ranking and ZRANK is the rank:

    score = -(points * 2**(TIE_BITS + 1) + (2**TIE_BITS - 1 - tick))

with `tick` the milliseconds from the period's start (from ALL_TIME_EPOCH for `all`) to the
latest counted entry. The spare bit means a double's rounding never moves a member across
points: integers in doubles are exact up to 2**53, so ties are resolved to the millisecond
while points stay below 2**(52 - TIE_BITS) (a day: 33 million; all time: 1,024), and beyond
that to a coarser instant (all time at a million points: about 2 s) while the points order
stays exact. Equal scores fall back to Redis' member order, the userId's bytes.

Live updates: `record_awards` runs as a rules.usecases.record effect when a record is finished. A
record may be finished twice, so the entries applied are remembered per user
(`laurel:lb:{<project>}:applied:<userId>`, entry id → when, kept APPLIED_KEEP), and one
WATCH/MULTI transaction on that key reads the user's scores and writes the new ones with the
markers: two finishers of one user serialize there, users never contend with each other. (No
Lua: the embedded default's fakeredis has none.)

Redis down: the effect fails (the finisher logs it; the event is recorded all the same), and
a per-process Breaker then leaves Redis alone for 1, 2, 4 … 32 s, so that only one request
per pause waits for Redis' timeouts. What was missed reaches the boards at the next rebuild.

Rebuild: `rebuild` recomputes the current boards of a project from the ledger (one
aggregation) into temporary keys and swaps them in with one MULTI. It first finishes the
project's pending records (with the effects), so a record the live path has not counted yet
cannot be counted twice. Entries written while a rebuild runs may be missed, or counted twice
if their record is finished just after the swap, until the next rebuild (hourly, scheduled)
— which is also how a board catches up after Redis was down.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from weakref import WeakKeyDictionary

import redis
from pymongo.database import Database

from core import clock
from rules.stores.ledger import Ledger
from rules.usecases.reconcile import sweep_pending
from rules.usecases.record import Effect

log = logging.getLogger(__name__)

PERIODS = ("day", "week", "month", "all")
EARNED_SOURCES = ("event", "streak", "challenge")
ALL_TIME_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# Bits of a score's tie-break: the milliseconds a period can last (all time: until 2159).
TIE_BITS = {"day": 27, "week": 30, "month": 32, "all": 42}
KEEP_AFTER = {"day": timedelta(days=7), "week": timedelta(weeks=4), "month": timedelta(days=62)}
APPLIED_KEEP = timedelta(days=7)
MAX_TRIES = 20
BREAKER_MAX = 32.0  # seconds
CHUNK = 1000

Redis = redis.Redis
REBUILD_KEEP = 3600  # seconds a temporary board of a rebuild may outlive its process


@dataclass(frozen=True)
class Board:
    """One period's board of a project."""

    project: str
    period: str
    key: str | None  # 2026-11-26, 2026-W48, 2026-11; None for all
    start: datetime
    end: datetime | None

    @property
    def redis_key(self) -> str:
        suffix = self.period if self.key is None else f"{self.period}:{self.key}"
        return f"{project_prefix(self.project)}{suffix}"

    @property
    def expires_at(self) -> datetime | None:
        return None if self.end is None else self.end + KEEP_AFTER[self.period]

    def tick(self, moment: datetime) -> int:
        """Milliseconds from the board's start to `moment`, within the tie-break's bits."""
        elapsed = (moment - self.start) // timedelta(milliseconds=1)
        return min(max(elapsed, 0), (1 << TIE_BITS[self.period]) - 1)


@dataclass(frozen=True)
class Standing:
    rank: int  # 1 for the first
    user_id: str
    points: int


def board_for(project: str, period: str, moment: datetime) -> Board:
    """The board of `period` that `moment` (UTC) falls in."""
    moment = _utc(moment)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return Board(project, period, f"{day:%Y-%m-%d}", day, day + timedelta(days=1))
    if period == "week":
        year, week, weekday = moment.isocalendar()
        start = day - timedelta(days=weekday - 1)
        return Board(project, period, f"{year}-W{week:02d}", start, start + timedelta(weeks=1))
    if period == "month":
        start = day.replace(day=1)
        end = (
            start.replace(year=start.year + 1, month=1)
            if start.month == 12
            else start.replace(month=start.month + 1)
        )
        return Board(project, period, f"{start:%Y-%m}", start, end)
    if period == "all":
        return Board(project, period, None, ALL_TIME_EPOCH, None)
    raise ValueError(f"unknown period {period!r}; one of {', '.join(PERIODS)}")


def project_prefix(project: str) -> str:
    return f"laurel:lb:{{{project}}}:"


def applied_key(project: str, user_id: str) -> str:
    return f"{project_prefix(project)}applied:{user_id}"


def encode(points: int, tick: int, period: str) -> float:
    bits = TIE_BITS[period]
    return -float((points << (bits + 1)) + ((1 << bits) - 1 - tick))


def decode(score: float, period: str) -> tuple[int, int]:
    """(points, tick) of a score written by `encode` (the tick as rounding left it)."""
    bits = TIE_BITS[period]
    composite = int(-score)
    points = composite >> (bits + 1)
    tie = composite - (points << (bits + 1))
    return points, max(0, (1 << bits) - 1 - tie)


def counted(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The ledger entries a board counts: points earned through rules."""
    return [e for e in entries if e["delta"] > 0 and e["source"] in EARNED_SOURCES]


# --- live updates --------------------------------------------------------------------------


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
    whichever of them is busiest."""
    earned = {user: counted(entries) for user, entries in entries_by_user.items()}
    earned = {user: entries for user, entries in earned.items() if entries}
    if not earned:
        return 0
    markers = {user: applied_key(project, user) for user in earned}
    tries = MAX_TRIES if len(earned) == 1 else 1
    with client.pipeline() as pipe:
        for _ in range(tries):
            try:
                pipe.watch(*markers.values())  # type: ignore[no-untyped-call]  # unannotated in redis-py
                fresh, scores = _unapplied(client, markers, earned, project)
                if not fresh:
                    pipe.unwatch()
                    return 0
                pipe.multi()
                _write_awards(pipe, project, markers, fresh, scores, now)
                pipe.execute()
                return sum(len(entries) for entries in fresh.values())
            except redis.WatchError:
                continue
    if len(earned) > 1:
        return sum(
            _record_alone(client, project, user, entries, now) for user, entries in earned.items()
        )
    raise LeaderboardContention(f"the boards of user {next(iter(earned))!r} kept changing")


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


Scores = dict[str, dict[str, float | None]]  # board key -> user -> score (None: not on it)


def _unapplied(
    client: Redis,
    markers: Mapping[str, str],
    earned: Mapping[str, list[Mapping[str, Any]]],
    project: str,
) -> tuple[dict[str, list[Mapping[str, Any]]], Scores]:
    """The entries not applied yet, per user, and the users' scores on the boards they
    touch. The reads run in one round trip, on another connection: WATCH is already set, so
    a change to a marker after them still fails the EXEC."""
    on_board: dict[str, list[str]] = {}
    for user, entries in earned.items():
        for key in _changes(project, entries):
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
    project: str,
    markers: Mapping[str, str],
    fresh: Mapping[str, list[Mapping[str, Any]]],
    scores: Scores,
    now: datetime,
) -> None:
    """Queue the new scores (one ZADD per board) and the markers of the entries applied."""
    members: dict[str, dict[str, float]] = {}
    boards: dict[str, Board] = {}
    newcomers: set[str] = set()
    for user, entries in fresh.items():
        for key, (board, points, reached) in _changes(project, entries).items():
            before = scores[key][user]
            if before is None:
                newcomers.add(key)
            else:
                old_points, old_tick = decode(before, board.period)
                points += old_points
                reached = max(reached, old_tick)
            members.setdefault(key, {})[user] = encode(points, reached, board.period)
            boards[key] = board
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


def _changes(
    project: str, entries: Iterable[Mapping[str, Any]]
) -> dict[str, tuple[Board, int, int]]:
    """Per board key: the board, the points the entries add and the latest entry's tick."""
    changes: dict[str, tuple[Board, int, int]] = {}
    for entry in entries:
        at = _utc(entry["createdAt"])
        for period in PERIODS:
            board = board_for(project, period, at)
            _, points, tick = changes.get(board.redis_key, (board, 0, 0))
            changes[board.redis_key] = (board, points + entry["delta"], max(tick, board.tick(at)))
    return changes


class Breaker:
    """Skips Redis for a while after it failed, so that a Redis outage does not slow every
    request down by its timeouts: after a failure, calls are skipped for 1, 2, 4 … 32 s, and
    the first call after that tries again. Skipped awards reach the boards at the next
    rebuild."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._until = 0.0

    def allows(self) -> bool:
        with self._lock:
            return self._clock() >= self._until

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0
            self._until = 0.0

    def failed(self) -> None:
        with self._lock:
            self._until = self._clock() + min(BREAKER_MAX, 2.0**self._failures)
            self._failures = min(self._failures + 1, 16)


_breakers: WeakKeyDictionary[object, Breaker] = WeakKeyDictionary()
_breakers_lock = threading.Lock()


def breaker_for(owner: object) -> Breaker:
    """One Breaker per `owner` (a process's connections) for as long as it lives."""
    with _breakers_lock:
        breaker = _breakers.get(owner)
        if breaker is None:
            breaker = _breakers[owner] = Breaker()
        return breaker


def leaderboard_effect(client: Callable[[], Redis], breaker: Breaker | None = None) -> Effect:
    """The rules.usecases.record effect: count a finished record's awards (`client` gives this
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
            record_awards_of_users(self._client(), project, entries, clock.now())
        except redis.RedisError:
            if breaker is not None:
                breaker.failed()
            raise
        if breaker is not None:
            breaker.succeeded()


# --- reading -------------------------------------------------------------------------------


def top(client: Redis, project: str, period: str, limit: int, now: datetime) -> list[Standing]:
    """The first `limit` of the current board of `period`."""
    board = board_for(project, period, now)
    rows = cast(
        "list[tuple[bytes, float]]", client.zrange(board.redis_key, 0, limit - 1, withscores=True)
    )
    return [
        Standing(rank, _text(member), decode(score, period)[0])
        for rank, (member, score) in enumerate(rows, start=1)
    ]


def standing(
    client: Redis, project: str, period: str, user_id: str, now: datetime
) -> Standing | None:
    """The user's place on the current board of `period`; None when they earned nothing."""
    board = board_for(project, period, now)
    with client.pipeline(transaction=True) as pipe:
        pipe.zrank(board.redis_key, user_id)
        pipe.zscore(board.redis_key, user_id)
        rank, score = pipe.execute()
    if rank is None or score is None:
        return None
    return Standing(int(rank) + 1, user_id, decode(float(score), period)[0])


# --- rebuild -------------------------------------------------------------------------------


def rebuild(
    db: Database[Any],
    client: Redis,
    project: str,
    now: datetime,
    effects: Sequence[Effect] = (),
) -> dict[str, int]:
    """Recompute the project's current boards from the ledger; returns members per period."""
    sweep_pending(db, now, grace=timedelta(0), project=project, effects=effects)
    boards = {period: board_for(project, period, now) for period in PERIODS}
    members: dict[str, dict[str, float]] = {period: {} for period in PERIODS}
    windows = {
        period: (None if board.end is None else board.start) for period, board in boards.items()
    }
    for user_id, earned in Ledger(db).earned_by_user(project, EARNED_SOURCES, windows):
        for period, (points, latest) in earned.items():
            board = boards[period]
            members[period][user_id] = encode(points, board.tick(_utc(latest)), period)

    token = uuid.uuid4().hex
    temporary = {period: f"{project_prefix(project)}rebuild:{token}:{period}" for period in PERIODS}
    try:
        for period, scores in members.items():
            items = list(scores.items())
            for start in range(0, len(items), CHUNK):
                client.zadd(temporary[period], dict(items[start : start + CHUNK]))
            # Should this process die before the swap, the half-built board goes away alone.
            client.expire(temporary[period], REBUILD_KEEP)
        with client.pipeline(transaction=True) as pipe:
            for period, board in boards.items():
                if members[period]:
                    pipe.rename(temporary[period], board.redis_key)
                    if board.expires_at is not None:
                        pipe.expire(board.redis_key, board.expires_at - now)
                else:
                    pipe.delete(board.redis_key)
            pipe.execute()
    finally:
        client.delete(*temporary.values())
    return {period: len(scores) for period, scores in members.items()}


# --- erasure -------------------------------------------------------------------------------


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


def _utc(moment: datetime) -> datetime:
    # A MongoDB client that is not tz_aware hands back naive UTC datetimes.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _millis(moment: datetime) -> int:
    return (_utc(moment) - ALL_TIME_EPOCH) // timedelta(milliseconds=1)


def _score(value: Any) -> float | None:
    return None if value is None else float(value)


def _text(member: Any) -> str:
    return member.decode() if isinstance(member, bytes) else str(member)
