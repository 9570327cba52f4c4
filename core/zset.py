"""One sorted set of core.sortedsets (the embedded default's leaderboards): each member's
score, and the members in Redis's order (by score, then by member's bytes).

The order is kept as a list of short sorted lists, each at most 2 * LOAD long, with the last
entry of each in `_maxes` (the layout of sortedcontainers' SortedList, written out here for
the few operations a board needs and without a Python call per step). Adding, moving and
ranking a member then cost about the same on a board of 100,000 as on one of 1,000: one plain
list would move every member after the insertion point (issue 17; `python -m tests.bench.zset`
measures it).
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort

Entry = tuple[float, bytes]  # (score, member), as ZRANGE lists them


class ZSet:
    """A sorted set: `scores` by member, and the entries in order."""

    __slots__ = ("_lists", "_maxes", "scores")

    LOAD = 500  # a list of more than 2 * LOAD entries is split in two

    def __init__(self) -> None:
        self.scores: dict[bytes, float] = {}
        self._lists: list[list[Entry]] = []
        self._maxes: list[Entry] = []  # the last entry of each of `_lists`

    def __len__(self) -> int:
        return len(self.scores)

    def add(self, member: bytes, score: float) -> tuple[bool, bool]:
        """Sets the member's score; (whether it is new, whether anything changed)."""
        before = self.scores.get(member)
        if before is not None:
            if before == score:
                return False, False
            self._delete((before, member))
        self.scores[member] = score
        self._insert((score, member))
        return before is None, True

    def remove(self, member: bytes) -> bool:
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self._delete((score, member))
        return True

    def rank(self, member: bytes) -> int | None:
        score = self.scores.get(member)
        return None if score is None else self._index((score, member))

    def at_least(self, score: float) -> int:
        """The index of the first entry scored `score` or more."""
        return self._index((score,))  # (s,) sorts before every (s, member)

    def above(self, score: float) -> int:
        """The index of the first entry scored more than `score`."""
        if score == math.inf:
            return len(self.scores)
        return self._index((math.nextafter(score, math.inf),))

    def entries(self, start: int, stop: int) -> list[Entry]:
        """The entries from index `start` to `stop` (excluded), 0 <= start <= stop."""
        found: list[Entry] = []
        for entries in self._lists:
            if start >= len(entries):
                start -= len(entries)
                stop -= len(entries)
                continue
            found.extend(entries[start:stop])
            stop -= len(entries)
            if stop <= 0:
                break
            start = 0
        return found

    # --- the lists ---------------------------------------------------------------------------

    def _index(self, entry: Entry | tuple[float]) -> int:
        """How many entries sort before `entry`."""
        at = bisect_left(self._maxes, entry)
        if at == len(self._maxes):
            return len(self.scores)
        return sum(map(len, self._lists[:at])) + bisect_left(self._lists[at], entry)

    def _insert(self, entry: Entry) -> None:
        maxes = self._maxes
        at = bisect_left(maxes, entry)
        if at == len(maxes):  # after every entry: at the end of the last list
            if not maxes:
                self._lists.append([entry])
                maxes.append(entry)
                return
            at -= 1
            entries = self._lists[at]
            entries.append(entry)
            maxes[at] = entry
        else:
            entries = self._lists[at]
            insort(entries, entry)
        if len(entries) > 2 * self.LOAD:
            half = entries[self.LOAD :]
            del entries[self.LOAD :]
            self._lists.insert(at + 1, half)
            maxes[at] = entries[-1]
            maxes.insert(at + 1, half[-1])

    def _delete(self, entry: Entry) -> None:
        """Removes `entry`, which is there."""
        at = bisect_left(self._maxes, entry)
        entries = self._lists[at]
        del entries[bisect_left(entries, entry)]
        if not entries:
            del self._lists[at]
            del self._maxes[at]
        elif self._maxes[at] == entry:
            self._maxes[at] = entries[-1]
