"""What the insights API reads (docs/api.md#insights): breakdowns, funnels and retention.

Where each answer comes from, and what it costs (docs/insights.md has the whole argument):
- breakdown: the insight days of one eventId over the window (one document a day, projected
  on the field broken down and the numeric field): cost follows the days of the window and
  the values kept per day, never the events;
- funnel: the timelines of the insight days of the funnel's eventIds over [from, to + window]
  (reports.insights.timelines: each day's events as columns, with their metadata), walked with numpy
  (reports.insights.funnel_arrays); when a day's timeline cannot answer exactly (its columns were
  dropped to fit, or a record id or value it cannot hold), the raw events of that range,
  along the events index (reports.insights.funnels): exact either way, for any conditions;
- retention: users' first times (16 documents per eventId) and the user hashes of the insight
  days of the cohorts' span: cost follows users and days, never the events.

All three reflect the events up to the project's last report run (the raw-event fallback of a
funnel reads the events stored now).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from pymongo.database import Database

from core import clock
from core.errors import LaurelError
from reports.insights import funnel_arrays
from reports.insights.breakdown import breakdown
from reports.insights.funnels import FunnelEvent, Journey, segments, step_figures, walk
from reports.insights.retention import Period, days_read, retention, span, users_by_day
from reports.insights.store import ANY_EVENT, InsightStore
from reports.insights.timelines import decode, epoch_ms
from reports.source import EventSource, day_start
from reports.windows import WINDOWS, UnknownWindow, day_key, window_bounds
from rules.engine.funnels import FunnelRule

APPROXIMATE_RETAINED = "retained"
# A split event's day without user hashes: who did it is unknown, so are both groups.
APPROXIMATE_SPLIT = ["with", "without"]
FunnelRead = Literal["auto", "timelines", "events"]


class TimelinesCannotAnswer(LookupError):
    """A funnel asked to walk the timelines only, over a range they cannot answer exactly."""


class NoInsightData(LaurelError):
    """No run has stored any insight day for this eventId (unknown, or not run yet)."""


def breakdown_report(
    db: Database[Any],
    project: str,
    event_id: str,
    by: str,
    field: str | None,
    window: str,
    limit: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    """{eventId, by, field, window, from, to, items, otherCount, approximate}
    (docs/api.md#insights)."""
    if window not in WINDOWS:
        raise UnknownWindow(f"window must be one of {', '.join(WINDOWS)}, not {window!r}")
    store = InsightStore(db)
    first_day = store.first_day(project, event_id)
    if first_day is None:
        raise NoInsightData(f"no analytics for eventId {event_id!r} yet")
    start, last = window_bounds(window, now or clock.now())
    first = start or min(first_day, last)  # `all` starts at the first day with data
    stored = store.breakdown_days(project, event_id, first, last, by, field)
    answer = breakdown(stored, by, field, limit)
    return {
        "eventId": event_id,
        "by": by,
        "field": field,
        "window": window,
        "from": first,
        "to": last,
        **answer,
    }


def funnel_report(
    db: Database[Any],
    project: str,
    funnel: FunnelRule,
    first: str,
    last: str,
    by: str | None = None,
    read: FunnelRead = "auto",
) -> dict[str, Any]:
    """{funnelId, from, to, steps, segments} over the users entering from `first` to `last`
    (UTC days, both included). `read` picks where the events come from: the insight days'
    timelines when they can answer exactly, else the raw events ("auto"), or one of them
    (the tests compare both; "timelines" raises TimelinesCannotAnswer when they cannot)."""
    start = day_start(first)
    end = day_start(last) + timedelta(days=1)  # exclusive
    journeys = None
    if read != "events":
        journeys = _timeline_journeys(db, project, funnel, start, end, by)
        if journeys is None and read == "timelines":
            raise TimelinesCannotAnswer("the timelines of this range cannot answer exactly")
    if journeys is None:
        journeys = _event_journeys(db, project, funnel, start, end, by)
    return {
        "funnelId": funnel.funnel_id,
        "from": first,
        "to": last,
        "steps": step_figures(journeys, funnel.steps),
        "segments": [] if by is None else segments(journeys, funnel.steps, by),
    }


def _timeline_journeys(
    db: Database[Any],
    project: str,
    funnel: FunnelRule,
    start: datetime,
    end: datetime,
    by: str | None,
) -> list[Journey] | None:
    """The journeys from the timelines of the days from `start` to `end` + the window, or
    None when one of them cannot answer exactly (reports.insights.funnel_arrays)."""
    window_ms = funnel.window_seconds * 1000
    latest = end - timedelta(milliseconds=1) + timedelta(milliseconds=window_ms)
    stored = InsightStore(db).timelines(
        project, [step.event_id for step in funnel.steps], day_key(start), day_key(latest)
    )
    decoded = []
    for event_id, timeline in stored:
        columns = None if timeline is None else decode(event_id, timeline)
        if columns is None:
            return None
        decoded.append(columns)
    return funnel_arrays.journeys(
        decoded, funnel.steps, epoch_ms(start), epoch_ms(end) - 1, window_ms, by
    )


def _event_journeys(
    db: Database[Any],
    project: str,
    funnel: FunnelRule,
    start: datetime,
    end: datetime,
    by: str | None,
) -> list[Journey]:
    """The journeys from the raw events of [start, end + window), exact for any data."""
    window = timedelta(seconds=funnel.window_seconds)
    with_metadata = by is not None or any(step.conditional for step in funnel.steps)
    records = EventSource(db).events_between(
        project, [step.event_id for step in funnel.steps], start, end + window, with_metadata
    )
    # Events of one moment are taken in the order they were recorded (their record ids
    # grow), whatever order the store returns them in: a tie has one answer.
    timed = [(epoch_ms(r["timestamp"]), str(r["_id"]), r) for r in records]
    timed.sort(key=lambda item: item[:2])
    events: list[FunnelEvent] = [
        (str(r["userId"]), moment, str(r["eventId"]), r.get("metadata") or {})
        for moment, _, r in timed
    ]
    return walk(
        events, funnel.steps, epoch_ms(start), epoch_ms(end) - 1, funnel.window_seconds * 1000
    )


def retention_report(
    db: Database[Any],
    project: str,
    *,
    period: Period,
    first: str,
    last: str,
    periods: int,
    cohort_event: str | None = None,
    return_event: str | None = None,
    split: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """{period, from, to, cohorts, approximate} (docs/api.md#insights)."""
    store = InsightStore(db)
    today = date.fromisoformat(day_key(now or clock.now()))
    lo, hi = date.fromisoformat(first), date.fromisoformat(last)
    span_first, span_last = span(lo, hi, period, periods)
    span_last = min(span_last, today)
    hashes, firsts = store.firsts(project, cohort_event or ANY_EVENT)
    active, dropped = users_by_day(
        store.user_days(project, span_first.isoformat(), span_last.isoformat(), return_event)
        if span_first <= span_last
        else [],
        days_read(lo, hi, period, periods, returns=True),
    )
    split_days, split_dropped = None, False
    if split is not None:
        split_days, split_dropped = users_by_day(
            store.user_days(project, span_first.isoformat(), span_last.isoformat(), split)
            if span_first <= span_last
            else [],
            days_read(lo, hi, period, periods, returns=False),
        )
    cohorts = retention(
        period=period,
        first=lo,
        last=hi,
        periods=periods,
        today=today,
        first_hashes=hashes,
        first_ms=firsts,
        active=active,
        split=split_days,
    )
    return {
        "period": period,
        "from": first,
        "to": last,
        "cohorts": cohorts,
        "approximate": ([APPROXIMATE_RETAINED] if dropped or split_dropped else [])
        + (APPROXIMATE_SPLIT if split_dropped else []),
    }
