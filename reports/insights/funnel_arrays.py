"""The funnel walk of reports.insights.funnels, over event timelines (reports.insights.timelines)
with numpy: the same journeys, one step at a time for all users at once instead of one user at a
time.

The events (of the funnel's eventIds) are sorted by (user, timestamp, record id), the order
in which reports.insights.funnels walks a user's events. For each step, a boolean array says which
events match it (its eventId, and its conditions evaluated on the metadata rebuilt from the
timeline's columns). Then, as docs/api.md#insights words it:
- entry: per user, the first event matching step 1 with a timestamp in [start, end];
- step k: per user still walking, the first event matching step k in that order whose
  timestamp is at or after the time step k-1 was reached, skipping the events that reached
  earlier steps, and at most `window_ms` after entry. A searchsorted over (user, timestamp
  rank) finds the first candidate; a candidate already used moves the user to their next
  candidate (at most k-1 times, as only k-1 events are used).

`journeys` returns None when a timeline cannot answer exactly (record ids unknown, or
metadata needed but not complete): the caller then walks the raw events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from reports.insights.days import canonical
from reports.insights.funnels import Journey
from reports.insights.timelines import Columns
from rules.engine.funnels import FunnelStep

Rows = npt.NDArray[np.int64]
NOT_REACHED = np.iinfo(np.int64).min


def journeys(
    timelines: Sequence[Columns],
    steps: Sequence[FunnelStep],
    start_ms: int,
    end_ms: int,
    window_ms: int,
    by: str | None,
) -> list[Journey] | None:
    """The journey of every user who entered in [start_ms, end_ms] (both included), or None
    when the timelines cannot tell exactly."""
    parts = []
    for columns in timelines:
        if by is not None and not columns.complete:
            return None
        matched = []
        for step in steps:
            if step.event_id != columns.event_id:
                matched.append(np.zeros(len(columns.ms), dtype=bool))
            elif not step.conditional:
                matched.append(np.ones(len(columns.ms), dtype=bool))
            elif not columns.complete:
                return None
            else:
                metadata = columns.metadata(np.arange(len(columns.ms), dtype=np.int64))
                matched.append(np.fromiter((step.matches(m) for m in metadata), dtype=bool))
        parts.append((columns, np.vstack(matched), _values(columns, by)))
    if not parts:
        return []
    users = np.concatenate([c.hashes for c, _, _ in parts])
    ms = np.concatenate([c.ms for c, _, _ in parts])
    high = np.concatenate([c.id_high for c, _, _ in parts])
    low = np.concatenate([c.id_low for c, _, _ in parts])
    matches = np.hstack([m for _, m, _ in parts])
    values: list[Any] = [v for _, _, part in parts for v in part]
    order = np.lexsort((low, high, ms, users))
    users, ms, matches = users[order], ms[order], matches[:, order]
    reached = _walk(users, ms, matches, start_ms, end_ms, window_ms)
    if reached is None:
        return []
    entries, times = reached
    result = []
    for row, (entry, user) in enumerate(
        zip(entries.tolist(), users[entries].tolist(), strict=True)
    ):
        value = values[int(order[entry])] if by is not None else None
        walked = tuple(t for t in times[row].tolist() if t != NOT_REACHED)
        entry = {} if by is None or value is None else {by: value}
        result.append(Journey(str(user), walked, entry))
    return result


def _values(columns: Columns, by: str | None) -> list[Any]:
    """Each event's value of `by` as segments group it (None when absent or null)."""
    if by is None:
        return []
    codes = columns.codes(by)
    if codes is None:
        return [None] * len(columns.ms)
    values = [None, *(canonical(v) for v in columns.values(by))]
    return [values[code] for code in codes.tolist()]


def _walk(
    users: npt.NDArray[np.uint64],
    ms: npt.NDArray[np.int64],
    matches: npt.NDArray[np.bool_],
    start_ms: int,
    end_ms: int,
    window_ms: int,
) -> tuple[Rows, npt.NDArray[np.int64]] | None:
    """(entry rows, times reached per entered user and step, NOT_REACHED where not)."""
    entering = np.flatnonzero(matches[0] & (ms >= start_ms) & (ms <= end_ms))
    if not len(entering):
        return None
    _, first = np.unique(users[entering], return_index=True)
    entries = entering[first]  # the first step-1 event in range of each user, in walk order
    # A key that sorts like (user, timestamp): user index then timestamp rank.
    user_index = np.unique(users, return_inverse=True)[1].astype(np.int64)
    ranks, rank = np.unique(ms, return_inverse=True)
    key = user_index * (len(ranks) + 1) + rank.astype(np.int64)
    times = np.full((len(entries), matches.shape[0]), NOT_REACHED, dtype=np.int64)
    times[:, 0] = ms[entries]
    deadline = ms[entries] + window_ms
    used = [entries]
    walking = np.arange(len(entries))  # rows of `entries` still walking
    for k in range(1, matches.shape[0]):
        candidates = np.flatnonzero(matches[k])
        if not len(walking) or not len(candidates):
            break
        previous = used[-1][walking]  # the event that reached step k-1, per walking user
        slot = np.searchsorted(key[candidates], key[previous], side="left")
        found = np.full(len(walking), -1, dtype=np.int64)
        pending = np.arange(len(walking))
        while len(pending):  # each pass finds or steps over one of the k-1 used events
            valid = slot[pending] < len(candidates)
            pending = pending[valid]
            row = candidates[slot[pending]]
            user_rows = entries[walking[pending]]
            fits = (user_index[row] == user_index[user_rows]) & (
                ms[row] <= deadline[walking[pending]]
            )
            pending, row = pending[fits], row[fits]
            taken = np.zeros(len(pending), dtype=bool)
            for earlier in used:
                taken |= earlier[walking[pending]] == row
            found[pending[~taken]] = row[~taken]
            pending = pending[taken]
            slot[pending] += 1
        reached = found >= 0
        step_rows = np.full(len(entries), -1, dtype=np.int64)
        step_rows[walking[reached]] = found[reached]
        used.append(step_rows)
        walking = walking[reached]
        times[walking, k] = ms[step_rows[walking]]
    return entries, times
