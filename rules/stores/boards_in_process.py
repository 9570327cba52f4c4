"""rules.stores.boards' awards on the embedded default's sorted sets (core.sortedsets): the
reads and writes of its Redis path, to the same keys, members, scores and expiries, run on
the sets at once while holding their lock, instead of as commands queued on pipelines
(redis-py's argument checks, encoding, closures and replies cost more than the sorted-set work
itself, issue 17).

Nothing can come between the reads and the writes (the lock), so there is nothing to watch
and no transaction to retry. As on Redis, every marker is read before any is written (an entry
given twice in one call counts twice), and a board's scores are read before its one ZADD; the
EXPIRE of a board follows that ZADD when one of its users is new on it.
tests/integration/test_leaderboard_equivalence.py compares both paths on random awards.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.sortedset_data import Rescore
from core.sortedsets import SortedSets
from rules.engine.scores import PERIODS, Board, decode, encode

if TYPE_CHECKING:
    from rules.stores.boards import Changes, Placements

Entries = list[Mapping[str, Any]]


def record_in_process(
    sets: SortedSets,
    markers: Mapping[str, str],
    earned: Mapping[str, Entries],
    placed: Placements,
    now: datetime,
    stamp: int,
    keep: timedelta,
) -> int:
    """Add the `earned` entries (by user) not marked applied yet to their boards, and mark
    them with `stamp` in `markers` (by user), kept for `keep`; returns how many were new."""
    with sets.atomically():
        fresh = _unapplied(sets, markers, earned)
        if not fresh:
            return 0
        changes = {user: placed.changes(entries) for user, (entries, _) in fresh.items()}
        _write_boards(sets, changes, placed.boards, now)
        _write_markers(sets, markers, fresh, stamp, keep)
    return sum(len(entries) for entries, _ in fresh.values())


def _unapplied(
    sets: SortedSets, markers: Mapping[str, str], earned: Mapping[str, Entries]
) -> dict[str, tuple[Entries, list[str]]]:
    """The entries not applied yet (with their ids), by user; users with none are left out."""
    fresh: dict[str, tuple[Entries, list[str]]] = {}
    for user, entries in earned.items():
        ids = [str(entry["_id"]) for entry in entries]
        marks = sets.scores(markers[user], ids)
        new = [number for number, mark in enumerate(marks) if mark is None]
        if len(new) == len(entries):  # the usual case
            fresh[user] = (entries, ids)
        elif new:
            fresh[user] = ([entries[number] for number in new], [ids[number] for number in new])
    return fresh


def _write_boards(
    sets: SortedSets,
    changes: Mapping[str, Changes],
    boards: Mapping[str, Board],
    now: datetime,
) -> None:
    """Add each user's points to their scores (with the later tick), board by board."""
    by_board: dict[str, dict[str, tuple[int, int]]] = {}
    for user, user_changes in changes.items():
        for key, change in user_changes.items():
            by_board.setdefault(key, {})[user] = change
    for key, added in by_board.items():
        board = boards[key]
        newcomers = sets.rescore(key, added, _ADDING[board.period])
        # A board that held these users already has its (fixed) expiry: whoever added its
        # first member set it.
        if newcomers and (expires_at := board.expires_at) is not None:
            sets.expire_in(key, int((expires_at - now).total_seconds()))


def _adding(period: str) -> Rescore[tuple[int, int]]:
    """A user's new score on a board of `period`: the points added (with the tick reached)
    to those they have (at the later of both ticks)."""

    def new_score(added: tuple[int, int], before: float | None) -> float:
        points, reached = added
        if before is None:
            return encode(points, reached, period)
        old_points, old_tick = decode(before, period)
        return encode(old_points + points, max(reached, old_tick), period)

    return new_score


_ADDING = {period: _adding(period) for period in PERIODS}


def _write_markers(
    sets: SortedSets,
    markers: Mapping[str, str],
    fresh: Mapping[str, tuple[Entries, list[str]]],
    stamp: int,
    keep: timedelta,
) -> None:
    """Mark the entries applied, dropping the marks older than `keep`."""
    oldest = float(stamp - keep // timedelta(milliseconds=1))
    seconds = int(keep.total_seconds())
    for user, (_, ids) in fresh.items():
        sets.stamp(markers[user], ids, float(stamp), oldest, seconds)
