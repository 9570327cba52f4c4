"""The report run (docs/architecture.md#analytics-and-insights): bring a project's day partials and
reports up to date, at a cost that follows the events received since the previous run, not all
events stored.

A run reads which (eventId, day) the events received since its watermark minus OVERLAP touch
(reports.source), recomputes those days whole in batches of about `chunk_events` events
(their partials, insight days and users' first times: reports.insights), rebuilds the reports
of the eventIds that changed, then advances the watermark, never past the oldest pending
record.
Every step replaces documents, never adds to a total: redoing a run counts nothing twice.
"Days touched" counts (eventId, day) partials.
Why: docs/decisions/0010-incremental-report-runs-by-whole-days.md.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database

from core import clock
from reports.analytics.batch import Failures, aggregate_batch
from reports.analytics.merge import window_report
from reports.analytics.store import Pair, ReportStore
from reports.insights.hashes import user_hash
from reports.insights.store import InsightStore
from reports.source import BATCH_SIZE, DayRange, EventSource
from reports.windows import WINDOWS, day_key, window_days
from rules.stores.users import UserStore

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=15)
CHUNK_EVENTS = 100_000  # events held in memory at once (a single larger day is read whole)
MAX_CLAUSES = 100  # day ranges per query
PROGRESS_EVERY = 100_000  # events between two progress lines

Batch = list[DayRange]


@dataclass
class RunStats:
    project: str
    run_id: str
    full: bool
    started: datetime
    since: datetime | None = None  # events received from then on were looked at (incremental)
    new_events: int = 0  # events received since `since`
    events: int = 0  # events aggregated (the days touched, read whole)
    days_touched: int = 0  # (eventId, day) partials recomputed
    partials_written: int = 0
    partials_deleted: int = 0
    reports_built: int = 0
    partials_read: int = 0  # to rebuild reports: one per day of each affected eventId
    queries: int = 0  # queries on the events collection
    read_seconds: float = 0.0  # time spent waiting for events from the store
    store_seconds: float = 0.0  # time spent reading and writing partials and reports
    elapsed: float = 0.0
    failures: Failures = field(default_factory=Failures)  # (eventId, day)s skipped, logged
    _clock_start: float = field(default_factory=time.monotonic, repr=False)

    def tick(self) -> None:
        self.elapsed = time.monotonic() - self._clock_start

    @contextmanager
    def storing(self) -> Iterator[None]:
        """Count the time of the block as store_seconds."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.store_seconds += time.perf_counter() - started

    def line(self) -> str:
        """The progress line: events processed, days touched, elapsed."""
        new = "" if self.full else f" ({self.new_events:,} new)"
        return (
            f"{self.project}: {self.events:,} events processed{new}, "
            f"{self.days_touched:,} days touched, {self.elapsed:.1f}s"
        )

    def summary(self) -> dict[str, Any]:
        """BSON-clean, for the watermark document."""
        return {
            "runId": self.run_id,
            "full": self.full,
            "startedAt": self.started,
            "newEvents": self.new_events,
            "events": self.events,
            "daysTouched": self.days_touched,
            "partialsWritten": self.partials_written,
            "partialsDeleted": self.partials_deleted,
            "reportsBuilt": self.reports_built,
            "seconds": round(self.elapsed, 3),
            "failureCount": self.failures.count,
            "failures": list(self.failures.listed),
        }


Progress = Callable[[RunStats], None]


def plan_batches(
    estimates: Mapping[Pair, int], chunk_events: int = CHUNK_EVENTS, max_clauses: int = MAX_CLAUSES
) -> list[Batch]:
    """Group (eventId, day) pairs into queries of about `chunk_events` events (by their
    estimated counts) and at most `max_clauses` day ranges; consecutive days of one eventId
    share a range. A day larger than `chunk_events` is a batch of its own: a partial needs
    its day whole."""
    batches: list[Batch] = []
    batch: Batch = []
    size = 0
    for (event_id, day), estimate in sorted(estimates.items()):
        if batch and size + estimate > chunk_events:
            batches.append(batch)
            batch, size = [], 0
        last = batch[-1] if batch else None
        if last is not None and last.event_id == event_id and _next_day(last.last) == day:
            batch[-1] = DayRange(event_id, last.first, day)
        else:
            if len(batch) == max_clauses:
                batches.append(batch)
                batch, size = [], 0
            batch.append(DayRange(event_id, day, day))
        size += estimate
    if batch:
        batches.append(batch)
    return batches


def _next_day(day: str) -> str:
    return (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()


def run_project(
    db: Database[Any],
    project: str,
    *,
    now: datetime | None = None,
    full: bool = False,
    overlap: timedelta = OVERLAP,
    chunk_events: int = CHUNK_EVENTS,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> RunStats:
    """Bring one project's partials and reports up to date (see the module docstring)."""
    started = now or clock.now()
    started = started.replace(microsecond=started.microsecond // 1000 * 1000)
    store, source = ReportStore(db), EventSource(db, batch_size)
    watermark = None if full else store.watermark(project)
    stats = RunStats(project, uuid.uuid4().hex, full=watermark is None, started=started)
    # Before the events are read: read after, it would miss a record written in between.
    pending_since = UserStore(db).oldest_pending_since(project)

    if stats.full:
        pairs = Counter(_timed(source.days_of_project(project), stats))
        estimates: dict[Pair, int] = dict(pairs)
    else:
        assert watermark is not None
        stats.since = watermark - overlap
        new = Counter(_timed(source.received_since(project, stats.since), stats))
        stats.new_events = sum(new.values())
        with stats.storing():
            stored = store.partial_counts(project, new)
        estimates = {pair: stored.get(pair, 0) + n for pair, n in new.items()}
    stats.queries += 1
    _recompute(store, source, estimates, stats, chunk_events, progress)
    with stats.storing():
        store.advance_watermark(project, min(started, pending_since or started), stats.summary())
    if progress is not None:
        progress(stats)
    return stats


def forget_user(
    db: Database[Any],
    project: str,
    user_id: str,
    *,
    days: Iterable[Pair] = (),
    now: datetime | None = None,
) -> RunStats:
    """Recompute the days whose partials list `user_id`, and `days` (the (eventId, day) pairs
    of the user's erased events: days counted with a HyperLogLog sketch list no ids, but may
    hold the user's metadata values), and their reports, from the events stored now: call it
    once the user's events are erased. The watermark is left alone."""
    started = now or clock.now()
    store, source = ReportStore(db), EventSource(db)
    stats = RunStats(project, uuid.uuid4().hex, full=False, started=started)
    with stats.storing():
        pairs = sorted(set(store.pairs_with_user(project, user_id)) | set(days))
        estimates = store.partial_counts(project, pairs)
    _recompute(store, source, estimates, stats, CHUNK_EVENTS, None)
    with stats.storing():
        InsightStore(db).forget_user(project, user_hash(user_id))
    return stats


def _recompute(
    store: ReportStore,
    source: EventSource,
    estimates: Mapping[Pair, int],
    stats: RunStats,
    chunk_events: int,
    progress: Progress | None,
) -> None:
    """Steps 2 and 3: recompute the days of `estimates` whole, then the affected reports."""
    project, started = stats.project, stats.started
    insights = InsightStore(store.database)
    stats.days_touched = len(estimates)
    stats.tick()
    changed: set[str] = set()
    reported = 0
    for batch in plan_batches(estimates, chunk_events):
        records = list(_timed(source.events_of_days(project, batch), stats))
        stats.queries += 1
        stats.events += len(records)
        result = aggregate_batch(
            project, records, store, insights, stats.run_id, started, stats.failures, stats.storing
        )
        stats.partials_written += result.partials_written
        with stats.storing():
            emptied = [pair for r in batch for pair in _pairs(r) if pair not in result.pairs]
            stats.partials_deleted += store.delete_partials(project, emptied)
            insights.delete_days(project, emptied)
        changed.update(r.event_id for r in batch)
        stats.tick()
        if progress is not None and stats.events - reported >= PROGRESS_EVERY:
            reported = stats.events
            progress(stats)
    today = day_key(started)
    with stats.storing():
        if stats.full:
            changed.update(store.delete_partials_before(project, started))
            insights.delete_days_before(project, started)
        changed.update(store.stale_event_ids(project, today))
    for event_id in sorted(changed):
        try:
            stats.reports_built += rebuild_reports(store, project, event_id, today, stats, started)
        except Exception as error:  # noqa: BLE001 — recorded; the other events go on
            stats.failures.add(project, event_id, None, "building the reports", error)
    stats.tick()


def rebuild_reports(
    store: ReportStore,
    project: str,
    event_id: str,
    today: str,
    stats: RunStats,
    now: datetime,
) -> int:
    """Rebuild the stored reports of one eventId from its partials; return how many."""
    with stats.storing():
        partials = store.event_partials(project, event_id)
        if not partials:
            store.delete_reports(project, event_id)
            return 0
    stats.partials_read += len(partials)
    reports = {
        window: build_report(project, event_id, partials, window, today) for window in WINDOWS
    }
    with stats.storing():
        for window, report in reports.items():
            store.save_report(report, window, stats.run_id, now)
    return len(reports)


def build_report(
    project: str,
    event_id: str,
    partials: list[dict[str, Any]],
    window: str,
    today: str,
) -> dict[str, Any]:
    """The report of `window` ending on `today`, from the eventId's partials (oldest first)."""
    first_day = partials[0]["day"] if partials else None
    days = window_days(window, datetime.fromisoformat(today).date(), first_day)
    return window_report(project, event_id, partials, days)


def run_projects(
    db: Database[Any],
    project: str | None = None,
    *,
    now: datetime | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> list[RunStats]:
    """Run `project`, or every project with events (each with its own watermark)."""
    projects = [project] if project is not None else EventSource(db).projects()
    return [run_project(db, p, now=now, full=full, progress=progress) for p in projects]


def _pairs(day_range: DayRange) -> Iterator[Pair]:
    day = day_range.first
    while day <= day_range.last:
        yield day_range.event_id, day
        day = _next_day(day)


def _timed(items: Iterable[Any], stats: RunStats) -> Iterator[Any]:
    """`items`, adding the time spent waiting for each to stats.read_seconds."""
    iterator = iter(items)
    while True:
        waited = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            stats.read_seconds += time.perf_counter() - waited
            return
        stats.read_seconds += time.perf_counter() - waited
        yield item
