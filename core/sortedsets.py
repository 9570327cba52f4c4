"""Redis sorted sets in this process's memory: the leaderboards' store of the embedded default
(no REDIS_URL), without the Redis protocol.

`SortedSets` answers the part of redis-py's client that rules.stores.boards uses (ZADD, ZMSCORE,
ZRANGE, ZRANK, ZSCORE, ZREM, ZREMRANGEBYSCORE, EXPIRE, TTL, RENAME, DEL, SCAN, and pipelines
with WATCH/MULTI/EXEC) with Redis's answers and redis-py's return types, so that the same code
runs on it and on a real Redis. fakeredis did this before, but each command went through RESP
encoding and parsing, which cost more than the sorted-set work itself (issue 17).

How Redis's semantics are kept:
- one lock around every command, and around a whole EXEC: a transaction is atomic;
  `atomically()` holds it around several commands of this process (reads, then the writes
  they decide), so that nothing else runs in between, as inside a Lua script on Redis;
- WATCH as Redis does it: a write that changes a watched key (from any client, this one
  included) marks the watching pipelines, and their EXEC raises redis.WatchError; so does a
  watched key that expires between WATCH and EXEC;
- errors as Redis's: a command failing inside a pipeline does not stop the others, and the
  first failure is raised after them (redis.ResponseError); what redis-py refuses before
  sending (redis.DataError) is refused here when the command is issued;
- expiry on the injected monotonic clock, lazily, as Redis does on access.
Anything else raises AttributeError: there is no silent stand-in.
tests/integration/test_sortedsets_equivalence.py runs random command sequences on both.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from redis.exceptions import DataError, RedisError, ResponseError, WatchError

from core.sortedset_data import Bound, Keyspace, Rescore, Score, T, glob

Key = str | bytes
Member = str | bytes | int | float


def encode(value: Member) -> bytes:
    """A key or member as redis-py sends it."""
    if type(value) is str:  # the usual case first, without the isinstance tests below
        return value.encode()
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataError(f"Invalid input of type: {type(value).__name__!r}")
    return repr(value).encode() if isinstance(value, float) else str(value).encode()


Command = Callable[[Keyspace], Any]


class _Commands:
    """The commands as redis-py's client and pipeline take them; `_issue` runs or queues."""

    def _issue(self, command: Command) -> Any:
        raise NotImplementedError

    def zadd(self, name: Key, mapping: Mapping[Member, Score]) -> Any:
        if not mapping:
            raise DataError("ZADD requires at least one element/score pair")
        key = encode(name)
        pairs = [
            (member.encode() if type(member) is str else encode(member), score)
            for member, score in mapping.items()
        ]
        for _, score in pairs:
            if type(score) is not float:  # a float is always sent
                encode(score)  # a score redis-py could not send is refused now, not at EXEC
        return self._issue(lambda keys: keys.zadd(key, pairs))

    def zmscore(self, key: Key, members: Sequence[Member]) -> Any:
        if not members:
            raise DataError("ZMSCORE members must be a non-empty list")
        name = encode(key)
        encoded = [member.encode() if type(member) is str else encode(member) for member in members]
        return self._issue(lambda keys: keys.zmscore(name, encoded))

    def zscore(self, name: Key, value: Member) -> Any:
        key, member = encode(name), encode(value)
        return self._issue(lambda keys: keys.zscore(key, member))

    def zrank(self, name: Key, value: Member) -> Any:
        key, member = encode(name), encode(value)
        return self._issue(lambda keys: keys.zrank(key, member))

    def zrange(self, name: Key, start: int, end: int, *, withscores: bool = False) -> Any:
        key = encode(name)
        return self._issue(lambda keys: keys.zrange(key, start, end, withscores))

    def zrem(self, name: Key, *values: Member) -> Any:
        key, members = encode(name), [encode(value) for value in values]
        if not members:
            raise ResponseError("wrong number of arguments for 'zrem' command")
        return self._issue(lambda keys: keys.zrem(key, members))

    def zremrangebyscore(self, name: Key, min: Bound, max: Bound) -> Any:
        key = encode(name)
        return self._issue(lambda keys: keys.zremrangebyscore(key, min, max))

    def expire(self, name: Key, time: int | timedelta) -> Any:
        key = encode(name)
        seconds = int(time.total_seconds()) if isinstance(time, timedelta) else time
        return self._issue(lambda keys: keys.expire(key, seconds))

    def ttl(self, name: Key) -> Any:
        key = encode(name)
        return self._issue(lambda keys: keys.ttl(key))

    def rename(self, src: Key, dst: Key) -> Any:
        source, target = encode(src), encode(dst)
        return self._issue(lambda keys: keys.rename(source, target))

    def delete(self, *names: Key) -> Any:
        encoded = [encode(name) for name in names]
        return self._issue(lambda keys: keys.delete(encoded))


class SortedSets(_Commands):
    """The client: commands run at once, each under the lock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.RLock()  # reentrant: see `atomically`
        self._keys = Keyspace(clock)

    def atomically(self) -> AbstractContextManager[Any]:
        """`with sets.atomically():` the commands this thread issues inside (on the client or
        on pipelines) run with no other client's command in between."""
        return self._lock

    def _issue(self, command: Command) -> Any:
        with self._lock:
            return command(self._keys)

    def pipeline(self, transaction: bool = True) -> SortedSetsPipeline:
        return SortedSetsPipeline(self, transaction)

    # --- direct: what the commands below do, for callers in this process -----------------
    # str keys and members and float scores only, so nothing to check or encode but the
    # text; run at once (under the lock, usually already held through `atomically`).

    def scores(self, key: str, members: list[str]) -> list[float | None]:
        """ZMSCORE key member...: each member's score, None for one not in the set."""
        with self._lock:
            return self._keys.zmscore(key.encode(), [member.encode() for member in members])

    def rescore(self, key: str, changes: Mapping[str, T], new_score: Rescore[T]) -> int:
        """ZMSCORE then ZADD in one step: each member of `changes` (at least one) gets the
        score `new_score(its change, its score or None)`; returns how many were new."""
        with self._lock:
            return self._keys.rescore(key.encode(), changes, new_score)

    def expire_in(self, key: str, seconds: int) -> None:
        """EXPIRE key seconds (zero or less deletes the key)."""
        with self._lock:
            self._keys.expire(key.encode(), seconds)

    def stamp(
        self, key: str, members: Iterable[str], score: float, oldest: float, seconds: int
    ) -> None:
        """ZADD key score member... (at least one), then ZREMRANGEBYSCORE key -inf oldest and
        EXPIRE key seconds: members stamped with a time, the old ones forgotten."""
        name = key.encode()
        with self._lock:
            self._keys.zadd(name, [(member.encode(), score) for member in members])
            self._keys.remove_scored(name, -math.inf, False, oldest, False)
            self._keys.expire(name, seconds)

    def scan_iter(self, match: Key | None = None, count: int | None = None) -> Iterator[bytes]:
        """The keys matching the glob-style `match` (`count` is only a hint, as in Redis)."""
        pattern = None if match is None else glob(encode(match))
        yield from self._issue(lambda keys: keys.scan(pattern))

    def _watch(self, pipeline: SortedSetsPipeline, keys: list[bytes]) -> None:
        with self._lock:
            for key in keys:
                self._keys.watchers.setdefault(key, set()).add(pipeline)
                pipeline.watched.setdefault(key, self._keys.get(key) is not None)

    def _unwatch(self, pipeline: SortedSetsPipeline) -> None:
        with self._lock:
            self._unwatch_locked(pipeline)

    def _unwatch_locked(self, pipeline: SortedSetsPipeline) -> None:
        for key in pipeline.watched:
            watchers = self._keys.watchers.get(key)
            if watchers is not None:
                watchers.discard(pipeline)
                if not watchers:
                    del self._keys.watchers[key]
        pipeline.watched.clear()
        pipeline.conflicted = False

    def _exec(self, pipeline: SortedSetsPipeline, commands: list[Command]) -> list[Any]:
        with self._lock:
            try:
                expired = any(
                    was_live and self._keys.get(key) is None
                    for key, was_live in pipeline.watched.items()
                )
                if pipeline.conflicted or expired:
                    raise WatchError("Watched variable changed.")
                results: list[Any] = []
                for command in commands:
                    try:
                        results.append(command(self._keys))
                    except ResponseError as error:
                        results.append(error)
            finally:
                self._unwatch_locked(pipeline)
        for number, result in enumerate(results, start=1):
            if isinstance(result, ResponseError):
                raise ResponseError(f"Command # {number} of pipeline caused error: {result}")
        return results


class SortedSetsPipeline(_Commands):
    """redis-py's Pipeline on SortedSets: queued commands, run together by `execute`;
    after `watch` and before `multi` they run at once, as in redis-py."""

    def __init__(self, client: SortedSets, transaction: bool) -> None:
        self._client = client
        self._transaction = transaction
        self._queued: list[Command] = []
        self._multi = False
        self.watched: dict[bytes, bool] = {}  # watched key -> whether it existed at WATCH
        self.watching = False
        self.conflicted = False  # a watched key changed (set under the client's lock)

    def __enter__(self) -> SortedSetsPipeline:
        return self

    def __exit__(self, *_: object) -> None:
        self.reset()

    def __len__(self) -> int:
        return len(self._queued)

    def _issue(self, command: Command) -> Any:
        if self.watching and not self._multi:
            return self._client._issue(command)
        self._queued.append(command)
        return self

    def watch(self, *names: Key) -> bool:
        if self._multi:
            raise RedisError("Cannot issue a WATCH after a MULTI")
        self._client._watch(self, [encode(name) for name in names])
        self.watching = True
        return True

    def unwatch(self) -> bool:
        self._client._unwatch(self)
        self.watching = False
        return True

    def multi(self) -> None:
        if self._multi:
            raise RedisError("Cannot issue nested calls to MULTI")
        if self._queued:
            raise RedisError("Commands without an initial WATCH have already been issued")
        self._multi = True

    def execute(self) -> list[Any]:
        if not self._queued and not self.watching:
            return []
        try:
            return self._client._exec(self, self._queued)
        finally:
            self.reset()

    def reset(self) -> None:
        if self.watching:
            self._client._unwatch(self)
        self._queued = []
        self._multi = False
        self.watching = False
