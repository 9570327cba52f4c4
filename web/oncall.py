"""Gauges for the person on call, computed when /metrics is scraped.

Each is one indexed query (or one Redis LLEN): the job queue's depth, the outbox backlog and
the age of its oldest notification, the age of the oldest pending event record (a request died
half-way and the sweep has not finished it yet), and how long report runs take and how far
behind they lag. A gauge whose store does not answer is left out of that scrape (and logged);
`laurel_oncall_up` says which source failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from rq import Queue

from core import clock
from core.clients import Clients
from jobs.queue import QUEUE_NAME
from reports.analytics.store import ReportStore
from rules.stores.outbox import Outbox
from rules.stores.users import UserStore

log = logging.getLogger(__name__)


class OnCallCollector:
    def __init__(self, clients: Clients) -> None:
        self._clients = clients

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "laurel_oncall_up", "1 when the source of these gauges answered", labels=["source"]
        )
        for source, read in (
            ("queue", self._queue),
            ("outbox", self._outbox),
            ("pending", self._pending),
            ("reports", self._reports),
        ):
            metrics = _guarded(source, read)
            up.add_metric([source], 0.0 if metrics is None else 1.0)
            yield from metrics or []
        yield up

    def _queue(self) -> list[Metric]:
        depth = Queue(QUEUE_NAME, connection=self._clients.redis).count
        return [_gauge("laurel_queue_jobs", "Jobs waiting in the RQ queue", depth)]

    def _outbox(self) -> list[Metric]:
        count, oldest = Outbox(self._clients.mongo).backlog()
        return [
            _gauge("laurel_outbox_backlog", "Webhook notifications not yet dispatched", count),
            _gauge(
                "laurel_outbox_oldest_age_seconds",
                "Age of the oldest undispatched webhook notification (0 when none)",
                _age(oldest),
            ),
        ]

    def _pending(self) -> list[Metric]:
        oldest = UserStore(self._clients.mongo).oldest_pending()
        return [
            _gauge(
                "laurel_pending_record_oldest_age_seconds",
                "Age of the oldest half-written event record the sweep must finish (0 when none)",
                _age(oldest),
            )
        ]

    def _reports(self) -> list[Metric]:
        watermark, seconds = ReportStore(self._clients.mongo).run_status()
        metrics: list[Metric] = []
        if watermark is not None:  # no report has run yet
            metrics.append(
                _gauge(
                    "laurel_report_lag_seconds",
                    "How far the most behind project's reports lag behind received events",
                    _age(watermark),
                )
            )
        if seconds is not None:
            metrics.append(
                _gauge(
                    "laurel_report_run_duration_seconds",
                    "Duration of the longest last report run over all projects",
                    seconds,
                )
            )
        return metrics


def _guarded(source: str, read: Callable[[], list[Metric]]) -> list[Metric] | None:
    try:
        return read()
    except Exception:  # a scrape must answer even when a store does not
        log.warning("on-call gauges: %s did not answer", source, exc_info=True)
        return None


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _age(moment: Any) -> float:
    if not isinstance(moment, datetime):
        return 0.0
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return max(0.0, (clock.now() - aware).total_seconds())
