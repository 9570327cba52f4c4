"""The data of core.sortedsets (the embedded default's leaderboards): sorted sets by key,
their expiries and the pipelines watching them, and the commands as Redis runs them. Every
method runs under core.sortedsets' lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from redis.exceptions import ResponseError

from core.zset import ZSet

Score = float | int | str | bytes
Bound = float | int | str | bytes
T = TypeVar("T")
Rescore = Callable[[T, float | None], float]  # (a member's change, its score or None) -> new


class Watcher(Protocol):
    """A pipeline that WATCHes keys: set `conflicted` when one of them changes."""

    conflicted: bool


class Keyspace:
    """The data behind the lock: sorted sets by key, their deadlines, the watching pipelines."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.sets: dict[bytes, ZSet] = {}
        self.deadlines: dict[bytes, float] = {}
        self.watchers: dict[bytes, set[Watcher]] = {}

    def get(self, key: bytes) -> ZSet | None:
        """The live set at `key`; an expired one is dropped (as Redis does: no WATCH signal)."""
        deadline = self.deadlines.get(key)
        if deadline is not None and self.clock() > deadline:
            del self.deadlines[key]
            del self.sets[key]
        return self.sets.get(key)

    def touched(self, key: bytes) -> None:
        for pipeline in self.watchers.get(key, ()):
            pipeline.conflicted = True

    def drop(self, key: bytes) -> bool:
        if self.get(key) is None:
            return False
        del self.sets[key]
        self.deadlines.pop(key, None)
        self.touched(key)
        return True

    def emptied(self, key: bytes, zset: ZSet) -> None:
        """Redis deletes a sorted set with its last member."""
        if not zset.scores:
            del self.sets[key]
            self.deadlines.pop(key, None)

    # --- the commands, run under the lock -----------------------------------------------

    def zadd(self, key: bytes, pairs: list[tuple[bytes, Score]]) -> int:
        scores = [
            # a float (the usual score) as _score takes it, without the call
            (member, score + 0.0 if type(score) is float and score == score else _score(score))
            for member, score in pairs
        ]
        return self._add(key, self.get(key), scores)

    def rescore(self, key: bytes, changes: Mapping[str, T], new_score: Rescore[T]) -> int:
        """ZMSCORE then ZADD: each member of `changes` (str, encoded here) gets
        `new_score(its change, its score or None)`, all read before any is written; returns
        how many were new, as ZADD does."""
        zset = self.get(key)
        held = {} if zset is None else zset.scores
        scores: list[tuple[bytes, float]] = []
        for text, change in changes.items():
            member = text.encode()
            score = new_score(change, held.get(member))
            # as zadd takes it: a NaN is refused before anything is written
            scores.append((member, score + 0.0 if score == score else _score(score)))
        return self._add(key, zset, scores)

    def _add(self, key: bytes, zset: ZSet | None, scores: list[tuple[bytes, float]]) -> int:
        """ZADD of valid scores to `zset`, the live set at `key` (None: there is none)."""
        if zset is None:
            zset = self.sets[key] = ZSet()
        added = changed = 0
        for member, score in scores:
            new, change = zset.add(member, score)
            added += new
            changed += change
        if changed:
            self.touched(key)
        return added

    def zmscore(self, key: bytes, members: list[bytes]) -> list[float | None]:
        zset = self.get(key)
        if zset is None:
            return [None] * len(members)
        return [zset.scores.get(member) for member in members]

    def zscore(self, key: bytes, member: bytes) -> float | None:
        zset = self.get(key)
        return None if zset is None else zset.scores.get(member)

    def zrank(self, key: bytes, member: bytes) -> int | None:
        zset = self.get(key)
        return None if zset is None else zset.rank(member)

    def zrange(self, key: bytes, start: int, end: int, withscores: bool) -> list[Any]:
        zset = self.get(key)
        size = 0 if zset is None else len(zset)
        start, end = (start + size if start < 0 else start), (end + size if end < 0 else end)
        start = max(start, 0)
        if zset is None or start > end or start >= size:
            return []
        rows = zset.entries(start, min(end, size - 1) + 1)
        if withscores:
            return [(member, score) for score, member in rows]
        return [member for _, member in rows]

    def zrem(self, key: bytes, members: list[bytes]) -> int:
        zset = self.get(key)
        if zset is None:
            return 0
        removed = sum(zset.remove(member) for member in members)
        if removed:
            self.emptied(key, zset)
            self.touched(key)
        return removed

    def zremrangebyscore(self, key: bytes, low: Bound, high: Bound) -> int:
        (least, open_low), (most, open_high) = _bound(low), _bound(high)
        return self.remove_scored(key, least, open_low, most, open_high)

    def remove_scored(
        self, key: bytes, least: float, open_low: bool, most: float, open_high: bool
    ) -> int:
        """ZREMRANGEBYSCORE of parsed bounds (exclusive when `open_…`)."""
        zset = self.get(key)
        if zset is None:
            return 0
        first = zset.above(least) if open_low else zset.at_least(least)
        last = zset.at_least(most) if open_high else zset.above(most)
        if first >= last:
            return 0
        for _, member in zset.entries(first, last):
            zset.remove(member)
        self.emptied(key, zset)
        self.touched(key)
        return last - first

    def expire(self, key: bytes, seconds: int) -> bool:
        if self.get(key) is None:
            return False
        if seconds <= 0:
            return self.drop(key)
        self.deadlines[key] = self.clock() + seconds
        self.touched(key)
        return True

    def ttl(self, key: bytes) -> int:
        if self.get(key) is None:
            return -2
        deadline = self.deadlines.get(key)
        if deadline is None:
            return -1
        return (round((deadline - self.clock()) * 1000) + 500) // 1000

    def rename(self, source: bytes, target: bytes) -> bool:
        zset = self.get(source)
        if zset is None:
            raise ResponseError("no such key")
        if source == target:
            return True
        deadline = self.deadlines.pop(source, None)
        self.get(target)
        self.deadlines.pop(target, None)
        self.sets[target] = self.sets.pop(source)
        if deadline is not None:
            self.deadlines[target] = deadline
        self.touched(source)
        self.touched(target)
        return True

    def delete(self, keys: list[bytes]) -> int:
        if not keys:
            raise ResponseError("wrong number of arguments for 'del' command")
        return sum(self.drop(key) for key in keys)

    def scan(self, pattern: re.Pattern[bytes] | None) -> list[bytes]:
        return [
            key
            for key in list(self.sets)
            if self.get(key) is not None and (pattern is None or pattern.fullmatch(key))
        ]


def _score(value: Score) -> float:
    try:
        score = float(value)
    except ValueError:
        raise ResponseError("value is not a valid float") from None
    if score != score:  # NaN
        raise ResponseError("value is not a valid float")
    return score + 0.0  # Redis keeps -0 as 0


def _bound(value: Bound) -> tuple[float, bool]:
    """A ZREMRANGEBYSCORE bound: its score, and whether it is exclusive (`(5`)."""
    text = value.decode() if isinstance(value, bytes) else str(value)
    exclusive = text.startswith("(")
    try:
        score = float(text[1:] if exclusive else text)
    except ValueError:
        raise ResponseError("min or max is not a float") from None
    if score != score:
        raise ResponseError("min or max is not a float")
    return score, exclusive


def glob(pattern: bytes) -> re.Pattern[bytes]:
    """Redis's glob-style pattern (`*`, `?`, `[...]`, `[^...]`, `\\x`) as a regex."""
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index : index + 1]
        index += 1
        if char == b"*":
            out.append(b".*")
        elif char == b"?":
            out.append(b".")
        elif char == b"\\" and index < len(pattern):
            out.append(re.escape(pattern[index : index + 1]))
            index += 1
        elif char == b"[" and b"]" in pattern[index:]:
            end = pattern.index(b"]", index)
            body = pattern[index:end]
            negate = body.startswith(b"^")
            body = body[1:] if negate else body
            escaped = re.sub(rb"([\\\]\[^])", rb"\\\1", body)
            out.append(b"[" + (b"^" if negate else b"") + escaped + b"]")
            index = end + 1
        else:
            out.append(re.escape(char))
    return re.compile(b"".join(out), re.DOTALL)
