"""Funnel results (docs/api.md#insights), exactly as the contract words them, from the events of the
funnel's eventIds (rules.engine.funnels defines the steps).

Per user, events in time order (events of one moment in the order given: the service gives
them in the order they were recorded):
- entry: the first event with a timestamp in [start, end] matching step 1 (its eventId and
  conditions); a user's later step-1 events never enter again;
- step k: the first event matching step k, other than the events that reached earlier steps,
  with a timestamp at or after the time step k-1 was reached and at most `window_seconds`
  after entry (it may fall after `end`). The walk stops at the first step not reached.

Then users(k), conversion = users(k) / users(1), stepConversion = users(k) / users(k-1) (1.0
for step 1; 0 when the denominator is 0), and medianSecondsFromPrevious over the users who
reached step k (the mean of the two middle values for an even count; null for step 1 or no
user). Segments split the same figures by a metadata field of the entering event.

This walk over the raw events is the reference: reports.insights.service answers from the timelines
the report runs store (reports.insights.funnel_arrays, the same rules over columns) and falls back
to this walk when a timeline cannot answer exactly; the tests compare the two. Its read is
bounded by the question, not by history: the funnel's eventIds over [start, end + window],
along the events index project_event_timestamp (reports.source).
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reports.insights.days import canonical, value_order
from rules.engine.funnels import FunnelStep

# One event: (userId, epoch ms, eventId, metadata)
FunnelEvent = tuple[str, int, str, Mapping[str, Any]]


@dataclass(frozen=True)
class Journey:
    """How far one entered user went: the times (ms) each reached step was reached at."""

    user: str
    times: tuple[int, ...]
    entry_metadata: Mapping[str, Any]


def walk(
    events: Iterable[FunnelEvent],
    steps: Sequence[FunnelStep],
    start_ms: int,
    end_ms: int,
    window_ms: int,
) -> list[Journey]:
    """The journey of every user who entered in [start_ms, end_ms] (both included)."""
    by_user: dict[str, list[tuple[int, int, str, Mapping[str, Any]]]] = defaultdict(list)
    for order, (user, moment, event_id, metadata) in enumerate(events):
        by_user[user].append((moment, order, event_id, metadata))
    journeys = []
    for user in sorted(by_user):
        timeline = sorted(by_user[user], key=lambda e: (e[0], e[1]))
        journey = _walk_user(user, timeline, steps, start_ms, end_ms, window_ms)
        if journey is not None:
            journeys.append(journey)
    return journeys


def _walk_user(
    user: str,
    timeline: list[tuple[int, int, str, Mapping[str, Any]]],
    steps: Sequence[FunnelStep],
    start_ms: int,
    end_ms: int,
    window_ms: int,
) -> Journey | None:
    def matches(index: int, step: FunnelStep) -> bool:
        _, _, event_id, metadata = timeline[index]
        return event_id == step.event_id and step.matches(metadata)

    moments = [event[0] for event in timeline]
    entry = None
    for i in range(bisect_left(moments, start_ms), len(timeline)):
        if moments[i] > end_ms:
            break
        if matches(i, steps[0]):
            entry = i
            break
    if entry is None:
        return None
    used, times = {entry}, [moments[entry]]
    deadline = moments[entry] + window_ms
    for step in steps[1:]:
        found = None
        for i in range(bisect_left(moments, times[-1]), len(timeline)):
            if moments[i] > deadline:
                break
            if i not in used and matches(i, step):
                found = i
                break
        if found is None:
            break
        used.add(found)
        times.append(moments[found])
    return Journey(user, tuple(times), timeline[entry][3])


def step_figures(journeys: Sequence[Journey], steps: Sequence[FunnelStep]) -> list[dict[str, Any]]:
    """[{eventId, users, conversion, stepConversion, medianSecondsFromPrevious}] per step."""
    figures = []
    entered = len(journeys)
    previous = entered
    for k, step in enumerate(steps):
        reached = [j for j in journeys if len(j.times) > k]
        users = len(reached)
        gaps = [(j.times[k] - j.times[k - 1]) / 1000 for j in reached] if k else []
        figures.append(
            {
                "eventId": step.event_id,
                "users": users,
                "conversion": users / entered if entered else 0,
                "stepConversion": 1.0 if k == 0 else (users / previous if previous else 0),
                "medianSecondsFromPrevious": statistics.median(gaps) if gaps else None,
            }
        )
        previous = users
    return figures


def segments(
    journeys: Sequence[Journey], steps: Sequence[FunnelStep], by: str
) -> list[dict[str, Any]]:
    """[{value, steps}] by the entering event's `by` (absent or null: value null), most
    entered users first, ties by value (reports.insights.days.value_order)."""
    groups: dict[tuple[int, Any], list[Journey]] = defaultdict(list)
    for journey in journeys:
        groups[value_order(canonical(journey.entry_metadata.get(by)))].append(journey)
    ordered = sorted(groups, key=lambda key: (-len(groups[key]), key))
    return [{"value": key[1], "steps": step_figures(groups[key], steps)} for key in ordered]
