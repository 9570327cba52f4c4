"""Prometheus metrics of every Laurel process (docs/architecture.md, operations).

The metric objects live here, created once per process at import; the web layer, the job
runners and the scheduler count into them. Under gunicorn (and in an RQ worker, whose jobs run
in forked children) PROMETHEUS_MULTIPROC_DIR must be set before this module is first imported:
prometheus-client then keeps the values in files of that folder, one per process, and
`exposition()` adds them all up, so one scrape covers every worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

HTTP_REQUESTS = Counter(
    "laurel_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ("method", "route", "status"),
)
HTTP_DURATION = Histogram(
    "laurel_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ("method", "route"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS = Counter(
    "laurel_events_total",
    "Events received: rewarded, not_rewarded, replayed (idempotent repeat) or rejected (4xx)",
    ("outcome",),
)
POINTS_AWARDED = Counter(
    "laurel_points_awarded_total", "Points awarded by events (rule, streak and challenge points)"
)
WEBHOOK_DELIVERIES = Counter(
    "laurel_webhook_deliveries_total",
    "Webhook delivery attempts: succeeded, retried (will be tried again), failed (given up), "
    "skipped (already delivered or being delivered)",
    ("result",),
)
JOBS = Counter(
    "laurel_jobs_total",
    "Jobs run, by job (queue function or scheduled job) and result",
    ("job", "result"),
)

EVENT_OUTCOMES = ("rewarded", "not_rewarded", "replayed", "rejected")


class Series:
    """A labelled metric's children, kept by their label values: `labels()` checks, locks and
    looks up each time, and the request path asks for three series per request. A child
    stays the one prometheus-client holds for those values (it keeps its children until a
    `remove` or `clear`, which Laurel never calls), so counting into it is counting into
    the metric."""

    def __init__(self, metric: MetricWrapperBase) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


HTTP_REQUEST_SERIES = Series(HTTP_REQUESTS)
HTTP_DURATION_SERIES = Series(HTTP_DURATION)
EVENT_SERIES = Series(EVENTS)


def multiprocess_dir() -> str | None:
    """The folder of the per-process value files, when this process counts into one."""
    return os.environ.get(MULTIPROCESS_ENV) or None


def count_event(outcome: str, points: int = 0) -> None:
    EVENT_SERIES(outcome).inc()
    if points > 0:
        POINTS_AWARDED.inc(points)


@contextmanager
def counting_job(name: str) -> Iterator[None]:
    """Count one run of job `name`: succeeded when the block returns, failed when it raises."""
    try:
        yield
    except BaseException:
        JOBS.labels(name, "failed").inc()
        raise
    JOBS.labels(name, "succeeded").inc()


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition of this process's metrics (every process's, in multiprocess mode),
    followed by `extra` collectors (gauges computed at scrape time)."""
    directory = multiprocess_dir()
    if directory is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]  # unannotated
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    scrape = CollectorRegistry(auto_describe=False)
    for collector in extra:
        scrape.register(collector)
    return text + generate_latest(scrape)


def mark_process_dead(pid: int) -> None:
    """gunicorn's child_exit hook: drop a dead worker's live gauges (its counters stay)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
