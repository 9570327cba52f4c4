"""One batch of a report run (reports.analytics.runner, step 2): the whole days it read become day
partials (reports.analytics.partials), insight days (reports.insights.days) and users' first times
(reports.insights.store), each day on its own.

A day that cannot be aggregated or stored (a bug, or an input no bound foresaw) must not stop
the run: it is logged, recorded in the run's `failures` (visible in the run status), and left
as it was stored; the other days of the batch and the rest of the run go on, and the watermark
moves. The same day is recomputed whenever a later event touches it, or by a full run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from reports.analytics.partials import day_partials
from reports.analytics.store import Pair, ReportStore
from reports.insights.days import insight_days
from reports.insights.hashes import user_hash
from reports.insights.store import ANY_EVENT, InsightStore
from reports.insights.timelines import epoch_ms
from reports.windows import day_key

log = logging.getLogger(__name__)

MAX_LISTED_FAILURES = 20


@dataclass
class Failures:
    """What failed in a run, by (eventId, day): all counted, the first MAX_LISTED_FAILURES
    listed (BSON-clean, for the run summary)."""

    count: int = 0
    listed: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, project: str, event_id: str, day: str | None, stage: str, error: Exception
    ) -> None:
        self.count += 1
        message = f"{type(error).__name__}: {error}"[:300]
        log.error(
            "report run of %r: %s of %s/%s failed; the run goes on",
            project,
            stage,
            event_id,
            day or "-",
            exc_info=error,
        )
        if len(self.listed) < MAX_LISTED_FAILURES:
            self.listed.append({"eventId": event_id, "day": day, "stage": stage, "error": message})


@dataclass
class BatchResult:
    partials_written: int = 0
    pairs: set[Pair] = field(default_factory=set)  # the days that hold events (kept)


def aggregate_batch(
    project: str,
    records: list[dict[str, Any]],
    reports: ReportStore,
    insights: InsightStore,
    run_id: str,
    now: datetime,
    failures: Failures,
    storing: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> BatchResult:
    """Compute and store every day of `records` (whole days), day by day on failure; the
    writes run inside `storing()` (the run times them apart from the computing)."""
    result = BatchResult(pairs={(str(r["eventId"]), day_key(r["timestamp"])) for r in records})
    for name, build, save in (
        ("partial", day_partials, lambda doc: reports.save_partials([doc], run_id, now)),
        ("insight day", insight_days, lambda doc: insights.save_day(doc, run_id, now)),
    ):
        for doc in _isolated(project, records, build, name, failures):
            try:
                with storing():
                    save(doc)
            except Exception as error:  # noqa: BLE001 — recorded; the batch goes on
                failures.add(project, doc["eventId"], doc["day"], f"saving the {name}", error)
                continue
            if name == "partial":
                result.partials_written += 1
    _merge_firsts(project, records, insights, failures, storing)
    return result


def _isolated(
    project: str,
    records: list[dict[str, Any]],
    build: Callable[[Iterable[Mapping[str, Any]]], list[dict[str, Any]]],
    name: str,
    failures: Failures,
) -> list[dict[str, Any]]:
    """build(records), or, when that fails, build() of each day apart, skipping those that
    fail again."""
    try:
        return build(records)
    except Exception:  # noqa: BLE001 — retried day by day below, failures recorded there
        log.warning("computing the %ss of a batch failed; retrying day by day", name)
    by_pair: dict[Pair, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_pair[(str(record["eventId"]), day_key(record["timestamp"]))].append(record)
    docs = []
    for (event_id, day), day_records in sorted(by_pair.items()):
        try:
            docs.extend(build(day_records))
        except Exception as error:  # noqa: BLE001 — recorded; the other days go on
            failures.add(project, event_id, day, f"computing the {name}", error)
    return docs


def _merge_firsts(
    project: str,
    records: list[dict[str, Any]],
    insights: InsightStore,
    failures: Failures,
    storing: Callable[[], AbstractContextManager[None]],
) -> None:
    if not records:
        return
    hashes: dict[str, int] = {}
    for record in records:
        user = str(record["userId"])
        if user not in hashes:
            hashes[user] = user_hash(user)
    frame = pd.DataFrame(
        {
            "eventId": pd.Series([str(r["eventId"]) for r in records], dtype=object),
            "hash": pd.Series([hashes[str(r["userId"])] for r in records], dtype=np.uint64),
            "ms": pd.Series([epoch_ms(r["timestamp"]) for r in records], dtype=np.int64),
        }
    )
    firsts = {ANY_EVENT: frame.groupby("hash")["ms"].min()}
    for event_id, group in frame.groupby("eventId"):
        firsts[str(event_id)] = group.groupby("hash")["ms"].min()
    for event_id, series in sorted(firsts.items()):
        try:
            with storing():
                insights.merge_firsts(
                    project,
                    event_id,
                    series.index.to_numpy(dtype=np.uint64),
                    series.to_numpy(dtype=np.int64),
                )
        except Exception as error:  # noqa: BLE001 — recorded; the batch goes on
            failures.add(project, event_id, None, "merging first times", error)
