"""Benchmark of the report runs: `make bench` (or `python -m tests.bench.reports`).

Measures, in one run, on the in-memory store (core.inmemory: mongomock):

1. a full run over STORED events (default 1,000,000 over 100 days, 4 eventIds, the brief's
   metadata): events aggregated per second;
2. an incremental run with NEW events (default 10,000, received after the full run, today's)
   on top of STORED stored events, and the same run on top of NEW stored events. The goal is
   a ratio near 1: a run's cost follows the new events, not the stored ones.

Each run's time is split into the time spent waiting for events from the store and the run's
own work (planning, pandas, merging, writing partials and reports). The runs' queries are
ranges of the events indexes (project_received, project_event_timestamp), which on MongoDB
read the events they return and no others; the in-memory store serves them along
core.rangeindex (mongomock alone would test every stored event per query). "events read"
counts those: what MongoDB would read for the run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from core.inmemory import in_memory_database
from reports.analytics.runner import RunStats, run_project
from reports.indexes import ensure_indexes as ensure_report_indexes
from rules.stores.indexes import ensure_indexes

PROJECT = "bench"
NOW = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)  # the full run; stored events end the day before
EVENT_IDS = ("purchase_completed", "daily_login", "level_completed", "complete_profile")
PLATFORMS = ("ios", "android", "web")
INSERT_CHUNK = 20_000


def metadata(rng: random.Random, event_id: str) -> dict[str, Any]:
    if event_id == "purchase_completed":
        return {
            "platform": rng.choice(PLATFORMS),
            "orderValue": round(rng.lognormvariate(3.5, 1), 2),
            "currency": rng.choice(("USD", "EUR")),
            "itemCount": rng.randint(1, 6),
            "paymentMethod": rng.choice(("credit_card", "paypal", "apple_pay")),
        }
    if event_id == "level_completed":
        return {
            "levelId": f"world_{rng.randint(1, 5)}_level_{rng.randint(1, 10)}",
            "difficulty": rng.choice(("easy", "normal", "hard")),
            "timeToComplete": rng.randint(30, 900),
            "attempts": rng.randint(1, 5),
            "platform": rng.choice(PLATFORMS),
        }
    if event_id == "daily_login":
        return {
            "platform": rng.choice(PLATFORMS),
            "appVersion": rng.choice(("2.1.4", "2.2.0", "3.0.1")),
            "sessionLength": rng.randint(5, 3600),
        }
    return {"platform": rng.choice(PLATFORMS), "newsletter": rng.random() < 0.4}


def events(
    rng: random.Random, count: int, first: datetime, seconds: float, users: int
) -> Iterator[dict[str, Any]]:
    """`count` events spread evenly over `seconds` from `first`, received a second later."""
    step = seconds / max(count, 1)
    for n in range(count):
        moment = first + timedelta(seconds=n * step)
        event_id = rng.choice(EVENT_IDS)
        points = rng.choice((0, 2, 10))
        yield {
            "project": PROJECT,
            "userId": f"user{rng.randrange(users)}",
            "eventId": event_id,
            "timestamp": moment,
            "receivedAt": moment + timedelta(seconds=1),
            "metadata": metadata(rng, event_id),
            "outcome": {"pointsAwarded": points, "totalPointsAwarded": points},
        }


def insert(db: Any, documents: Iterator[dict[str, Any]]) -> int:
    inserted, chunk = 0, []
    for document in documents:
        chunk.append(document)
        if len(chunk) == INSERT_CHUNK:
            db.events.insert_many(chunk)
            inserted += len(chunk)
            chunk = []
            print(f"  inserted {inserted:,}", file=sys.stderr, end="\r")
    if chunk:
        db.events.insert_many(chunk)
        inserted += len(chunk)
    print(file=sys.stderr)
    return inserted


def stored_store(count: int, days: int, users: int, seed: int) -> tuple[Any, float]:
    db = in_memory_database("bench")
    ensure_indexes(db)
    ensure_report_indexes(db)
    first = NOW.replace(hour=0, minute=0) - timedelta(days=days)
    started = time.perf_counter()
    insert(db, events(random.Random(seed), count, first, days * 86_400 - 60, users))
    return db, time.perf_counter() - started


def incremental(db: Any, new: int, users: int, round_number: int) -> RunStats:
    """Insert `new` events of a new day, received after the previous run, then run."""
    start = NOW + timedelta(days=round_number)
    insert(db, events(random.Random(round_number), new, start, 600, users))
    return run_project(db, PROJECT, now=start + timedelta(hours=1))


def compute(stats: RunStats) -> float:
    return stats.elapsed - stats.read_seconds - stats.store_seconds


def describe(stats: RunStats) -> str:
    return (
        f"{stats.elapsed:7.2f} s = events {stats.read_seconds:6.2f} s ({stats.queries} queries, "
        f"{stats.new_events + stats.events:,} events read) + partials and reports "
        f"{stats.store_seconds:5.2f} s ({stats.partials_read:,} partials read) + "
        f"compute {compute(stats):5.2f} s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=1_000_000, help="events stored")
    parser.add_argument("--new", type=int, default=10_000, help="events of an increment")
    parser.add_argument("--days", type=int, default=100, help="days the stored events span")
    parser.add_argument("--users", type=int, default=20_000, help="distinct users")
    parser.add_argument("--rounds", type=int, default=3, help="increments measured per store")
    args = parser.parse_args(argv)

    print(
        f"$ python -m tests.bench.reports --stored {args.stored} --new {args.new} "
        f"--days {args.days} --users {args.users} --rounds {args.rounds}"
    )
    big, seconds = stored_store(args.stored, args.days, args.users, seed=1)
    print(f"stored {args.stored:,} events in {seconds:.1f} s (in-memory store, bulk inserts)")
    full = run_project(big, PROJECT, now=NOW)
    print(
        f"full run over {full.events:,} events: {full.events / full.elapsed:,.0f} events/s, "
        f"{full.events / compute(full):,.0f} events/s of compute\n  {describe(full)}"
    )
    small, _ = stored_store(args.new, args.days, args.users, seed=2)
    run_project(small, PROJECT, now=NOW)

    runs: dict[str, list[RunStats]] = {"big": [], "small": []}
    for round_number in range(1, args.rounds + 1):
        for name, db, stored in (("big", big, args.stored), ("small", small, args.new)):
            stats = incremental(db, args.new, args.users, round_number)
            runs[name].append(stats)
            print(f"incremental {round_number}, {args.new:,} new on {stored:,} stored:")
            print(f"  {describe(stats)}")
    print(
        f"incremental run, {args.new:,} new events, on {args.stored:,} stored vs on "
        f"{args.new:,} stored (medians of {args.rounds}):"
    )
    for label, measure in (
        ("compute", compute),
        ("partials and reports", lambda s: s.store_seconds),
        ("events (mongomock)", lambda s: s.read_seconds),
        ("total (mongomock)", lambda s: s.elapsed),
    ):
        big_s = statistics.median(measure(s) for s in runs["big"])
        small_s = statistics.median(measure(s) for s in runs["small"])
        print(f"  {label:22} {big_s:7.2f} s vs {small_s:7.2f} s, ratio {big_s / small_s:6.2f}")
    big_read = statistics.median(s.new_events + s.events for s in runs["big"])
    small_read = statistics.median(s.new_events + s.events for s in runs["small"])
    print(
        f"  {'events read':22} {big_read:7,.0f}   vs {small_read:7,.0f}  , ratio "
        f"{big_read / small_read:6.2f} (what MongoDB reads along its indexes; the in-memory "
        "store reads them along core.rangeindex)"
    )


if __name__ == "__main__":
    main()
