"""What the analytics API reads (docs/architecture.md#analytics-and-insights), from the stored
partials and reports.

- `event_totals`: per eventId, events, distinct users and points over a range of UTC days, from
  the partials' totals (never from the events).
- `metadata_report`: the report of one eventId over 7d, 30d or all, ending today. The stored
  one when it was built today; otherwise (its window has slid since, or no run built it yet)
  it is merged from the stored partials on the spot, which reads one partial per day.
  An eventId without any partial (unknown, or no run has seen its events yet) raises
  NoReportData; an eventId with partials but no event in the window gets a report with
  count 0 and a trend of zeros.

Both reflect the events up to the project's last run (REPORT_INTERVAL, or a run on demand).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.database import Database

from core.errors import LaurelError
from reports.analytics.merge import event_summaries
from reports.analytics.runner import build_report
from reports.analytics.store import ReportStore, without_store_fields
from reports.windows import WINDOWS, UnknownWindow, day_key


class NoReportData(LaurelError):
    """No partial exists for this eventId in this project."""


def event_totals(db: Database[Any], project: str, first: str, last: str) -> list[dict[str, Any]]:
    """[{eventId, count, uniqueUsers, uniqueUsersExact, pointsAwarded, totalPointsAwarded}]
    over the days from `first` to `last` ('YYYY-MM-DD', both included), by eventId."""
    return event_summaries(ReportStore(db).day_summaries(project, first, last))


def metadata_report(
    db: Database[Any], project: str, event_id: str, window: str, now: datetime
) -> dict[str, Any]:
    """The report of `window` ending on the UTC day of `now`, with `window` and `generatedAt`."""
    if window not in WINDOWS:
        raise UnknownWindow(f"window must be one of {', '.join(WINDOWS)}, not {window!r}")
    store, today = ReportStore(db), day_key(now)
    stored = store.report(project, event_id, window)
    if stored is not None and stored.get("to") == today:
        return {
            **without_store_fields(stored),
            "window": window,
            "generatedAt": stored["generatedAt"],
        }
    partials = store.event_partials(project, event_id)
    if not partials:
        raise NoReportData(f"no analytics for eventId {event_id!r} yet")
    report = build_report(project, event_id, partials, window, today)
    return {**report, "window": window, "generatedAt": now}
