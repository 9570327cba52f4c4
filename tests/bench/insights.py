"""Benchmark of the insights (DESIGN §11): `make bench` (or `python -m tests.bench.insights`).

On the in-memory store (core.inmemory: mongomock), with EVENTS events (default 1,000,000) of
USERS users (default 20,000) over DAYS days (default 90), after a full report run:

1. the time of each answer: breakdowns (30d and all), a funnel with conditions, retention by
   day and by week with a split. Each is timed end to end through reports.insights, several
   times (the median is printed), and the documents it read are counted;
2. the cost of an incremental run with NEW new events (default 10,000), split into events,
   partials and insight documents, and compute, as tests.bench.reports prints it.

A funnel reads events (docs/insights.md). mongomock has no indexes, so its query scans every
stored event: its time is printed apart from the walk's, with the number of events MongoDB
would read along project_event_timestamp.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from reports import insights
from reports.insight_store import InsightStore
from reports.runner import run_project
from rules.funnels import FunnelRule
from tests.bench.reports import NOW, PROJECT, describe, events, insert, stored_store

REPEATS = 3


def timed(answer: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    """The median seconds of `repeats` calls, and the last answer."""
    seconds, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = answer()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events stored")
    parser.add_argument("--users", type=int, default=20_000, help="distinct users")
    parser.add_argument("--days", type=int, default=90, help="days the events span")
    parser.add_argument("--new", type=int, default=10_000, help="events of an increment")
    args = parser.parse_args(argv)
    print(
        f"$ python -m tests.bench.insights --events {args.events} --users {args.users} "
        f"--days {args.days} --new {args.new}"
    )
    db, seconds = stored_store(args.events, args.days, args.users, seed=1)
    print(f"stored {args.events:,} events in {seconds:.1f} s (in-memory store, bulk inserts)")
    full = run_project(db, PROJECT, now=NOW)
    print(f"full run (partials, insight days, first times):\n  {describe(full)}")
    counts = {
        name: db[name].count_documents({}) for name in ("insight_days", "user_firsts", "events")
    }
    print(f"documents: {counts}")

    print("answers (median of 3, end to end):")
    breakdowns = [
        ("purchase_completed", "platform", "orderValue", "30d"),
        ("purchase_completed", "paymentMethod", "orderValue", "all"),
        ("level_completed", "levelId", "timeToComplete", "all"),
        ("daily_login", "appVersion", None, "30d"),
    ]
    store = InsightStore(db)
    for event_id, by, field, window in breakdowns:
        seconds, answer = timed(
            lambda e=event_id, b=by, f=field, w=window: insights.breakdown_report(
                db, PROJECT, e, b, f, w, 20, NOW
            )
        )
        read, days = timed(
            lambda e=event_id, b=by, f=field, a=answer: store.breakdown_days(
                PROJECT, e, a["from"], a["to"], b, f
            )
        )
        print(
            f"  breakdown {event_id} by {by}"
            + (f" of {field}" if field else "")
            + f", {window}: {seconds:.3f} s, of which reading {len(days)} insight days from "
            f"mongomock {read:.3f} s ({len(answer['items'])} items)"
        )

    funnel = FunnelRule.from_document(
        {
            "steps": [
                {"eventId": "daily_login"},
                {"eventId": "level_completed"},
                {
                    "eventId": "purchase_completed",
                    "conditions": {"field": "orderValue", "op": "gte", "value": 20},
                },
            ],
            "windowSeconds": 3 * 86_400,
        }
    )
    last = (NOW - timedelta(days=1)).date()
    first = last - timedelta(days=29)
    started = time.perf_counter()
    records = list(
        db.events.find(
            {
                "project": PROJECT,
                "eventId": {"$in": ["daily_login", "level_completed", "purchase_completed"]},
                "timestamp": {
                    "$gte": NOW - timedelta(days=31),
                    "$lt": NOW + timedelta(days=3),
                },
            },
            {"_id": 1},
        )
    )
    read = time.perf_counter() - started
    seconds, answer = timed(
        lambda: insights.funnel_report(
            db, PROJECT, funnel, first.isoformat(), last.isoformat(), "platform"
        ),
        repeats=1,
    )
    print(
        f"  funnel 3 steps (one with conditions), 30 days, by platform: {seconds:.3f} s, of "
        f"which reading {len(records):,} events from mongomock about {read:.3f} s "
        f"(users per step {[s['users'] for s in answer['steps']]})"
    )
    # Users arrive over the history: the cohorts of its first weeks are the large ones.
    history = (NOW - timedelta(days=args.days)).date()
    for period, days, split in (("day", 29, None), ("week", 55, "purchase_completed")):
        seconds, answer = timed(
            lambda p=period, d=days, s=split: insights.retention_report(
                db,
                PROJECT,
                period=p,
                first=history.isoformat(),
                last=(history + timedelta(days=d)).isoformat(),
                periods=8,
                split=s,
                now=NOW,
            )
        )
        users = sum(c["users"] for c in answer["cohorts"])
        print(
            f"  retention by {period}, {len(answer['cohorts'])} cohorts of {users:,} users, "
            f"8 periods" + (f", split {split}" if split else "") + f": {seconds:.3f} s"
        )

    start = NOW + timedelta(hours=1)
    insert(db, events(random.Random(7), args.new, start, 600, args.users))
    stats = run_project(db, PROJECT, now=start + timedelta(minutes=20))
    print(
        f"incremental run, {args.new:,} new events on {args.events:,} stored "
        f"({stats.days_touched} days recomputed):\n  {describe(stats)}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
