"""Benchmark of the insights (docs/api.md#insights): `make bench` (or `python -m
tests.bench.insights`).

On the in-memory store (core.inmemory: mongomock), with EVENTS events (default 1,000,000) of
USERS users (default 20,000) over DAYS days (default 90), after a full report run:

1. the full report run (the initial aggregation), with a progress line;
2. the time of each answer: breakdowns (30d and all), funnels (from the insight days'
   timelines, with and without a condition, and once from the raw events, to show both the
   cost and that the answers agree), retention by day and by week with a split. Each is timed
   end to end through reports.insights.service, several times (the median is printed);
3. the cost of an incremental run with NEW new events (default 10,000) on this store and, side
   by side, on a store of COMPARE events (default 100,000), in 3 rounds (medians), split into
   events, partials and insight documents, and compute, as tests.bench.reports prints it: the
   run's cost should follow the new events, not the stored ones.

The events are stored with bulk inserts of the records the write path produces
(tests.bench.reports); everything after that goes through the production code. The in-memory
store reads ranges of the events' indexes through core.rangeindex (mongomock alone tests every
stored document per query); the time spent reading events is printed apart, with the number of
events MongoDB would read along its indexes. A smaller scale is one variable
away: `make bench INSIGHTS_BENCH="--events 100000 --users 5000 --compare 20000"`.
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

from reports.analytics.runner import RunStats, run_project
from reports.insights import service as insights
from reports.insights.store import InsightStore
from reports.source import EventSource, day_start
from rules.engine.funnels import FunnelRule
from tests.bench.reports import NOW, PROJECT, compute, describe, events, insert, stored_store

REPEATS = 3
ROUNDS = 3  # increments measured per store


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
    parser.add_argument(
        "--compare",
        type=int,
        default=100_000,
        help="events of the smaller store the increment is also run on",
    )
    args = parser.parse_args(argv)
    print(
        f"$ python -m tests.bench.insights --events {args.events} --users {args.users} "
        f"--days {args.days} --new {args.new} --compare {args.compare}"
    )
    db, seconds = stored_store(args.events, args.days, args.users, seed=1)
    print(f"stored {args.events:,} events in {seconds:.1f} s (in-memory store, bulk inserts)")
    full = run_project(
        db, PROJECT, now=NOW, progress=lambda s: print(f"  {s.line()}", file=sys.stderr)
    )
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

    last = (NOW - timedelta(days=1)).date()
    first = last - timedelta(days=29)
    read_funnels(db, first.isoformat(), last.isoformat())
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

    small, _ = stored_store(args.compare, args.days, args.users, seed=2)
    run_project(small, PROJECT, now=NOW)
    print(
        f"incremental runs of the same {args.new:,} new events on two stored sizes "
        f"({ROUNDS} rounds, each on a new day):"
    )
    runs: dict[str, list[RunStats]] = {"big": [], "small": []}
    warm(db)
    warm(small)
    for round_number in range(1, ROUNDS + 1):
        for name, store_db, stored in (("big", db, args.events), ("small", small, args.compare)):
            start = NOW + timedelta(days=round_number - 1, hours=1)
            rng = random.Random(round_number)
            insert(store_db, events(rng, args.new, start, 600, args.users))
            stats = run_project(store_db, PROJECT, now=start + timedelta(minutes=20))
            runs[name].append(stats)
            print(f"  round {round_number} on {stored:,} stored: {describe(stats)}")
    print(f"  medians of {ROUNDS}, on {args.events:,} stored vs on {args.compare:,}:")
    for label, measure in (
        ("compute", compute),
        ("partials, reports, insight days", lambda s: s.store_seconds),
        ("events (in-memory store)", lambda s: s.read_seconds),
        ("total", lambda s: s.elapsed),
    ):
        b = statistics.median(measure(s) for s in runs["big"])
        m = statistics.median(measure(s) for s in runs["small"])
        print(f"  {label:32} {b:7.2f} s vs {m:7.2f} s: ratio {b / m:5.2f}")
    big, small_run = runs["big"][-1], runs["small"][-1]
    print(
        f"  {'events read (last round)':32} {big.new_events + big.events:,} vs "
        f"{small_run.new_events + small_run.events:,} (what MongoDB reads along its indexes; "
        "the in-memory store reads them along core.rangeindex)"
    )
    sys.stdout.flush()


def warm(db: Any) -> None:
    """Have the in-memory store build its range index of `project_received` (core.rangeindex)
    before a run is timed: it is built once per process, on the first query it can serve,
    and exists beforehand on MongoDB."""
    list(EventSource(db).received_since(PROJECT, NOW))


def read_funnels(db: Any, first: str, last: str) -> None:
    """The funnels of the bench: from the insight days' timelines, and the one with a
    condition from the raw events too (the path a funnel takes when a timeline cannot answer),
    checking that both give the same answer."""
    plain = [{"eventId": "daily_login"}, {"eventId": "level_completed"}]
    funnels = {
        "3 steps": plain + [{"eventId": "purchase_completed"}],
        "3 steps, one with a condition": plain
        + [
            {
                "eventId": "purchase_completed",
                "conditions": {"field": "orderValue", "op": "gte", "value": 20},
            }
        ],
    }
    for name, steps in funnels.items():
        funnel = FunnelRule.from_document({"steps": steps, "windowSeconds": 3 * 86_400})
        seconds, answer = timed(
            lambda f=funnel: insights.funnel_report(
                db, PROJECT, f, first, last, "platform", read="timelines"
            )
        )
        print(
            f"  funnel {name}, 30 days, by platform, from timelines: {seconds:.3f} s "
            f"(users per step {[s['users'] for s in answer['steps']]})"
        )
    started = time.perf_counter()
    records = len(
        list(
            EventSource(db).events_between(
                PROJECT,
                [step["eventId"] for step in steps],
                day_start(first),
                day_start(last) + timedelta(days=4),
                True,
            )
        )
    )
    read = time.perf_counter() - started
    seconds, raw = timed(
        lambda: insights.funnel_report(db, PROJECT, funnel, first, last, "platform", read="events"),
        repeats=1,
    )
    assert raw == answer, "the walk over timelines and the walk over events disagree"
    print(
        f"  the same funnel from the raw events: {seconds:.3f} s, of which reading {records:,} "
        f"events from mongomock about {read:.3f} s (same answer)"
    )


if __name__ == "__main__":
    main()
