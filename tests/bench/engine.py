"""Benchmark of the reward engine: `make bench` (or `python -m tests.bench.engine`).

Measures, in one run and interleaved round by round so that a noisy machine slows both sides
alike:

1. evaluate(): one event against 20 active definitions that all apply to it (an event rule
   with conditions, per-unit points, a cap and group multipliers; 10 streaks; 9 challenges),
   versus against its event rule alone;
2. record_event() on the in-memory store: definitions compiled once per change (the catalog
   cache) versus read and compiled on every event.

Prints evaluations per second (median of the rounds) and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from core.inmemory import in_memory_database
from rules.catalog import CatalogCache, load_catalog
from rules.challenges import ChallengeRule
from rules.definition_store import DefinitionStore
from rules.definitions import EventRule, StreakRule
from rules.engine import Event, evaluate
from rules.indexes import ensure_indexes
from rules.service import record_event
from rules.state import UserState

PROJECT = "bench"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CONDITION = {
    "all": [
        {"field": "orderValue", "op": "gte", "value": 20},
        {"any": [{"field": "platform", "op": "in", "value": ["ios", "web"]}]},
    ]
}
EVENT_RULE = {
    "eventId": "purchase",
    "points": {"fixed": 5, "perUnit": {"field": "orderValue", "rate": 2, "max": 1000}},
    "conditions": CONDITION,
    "maxCompletions": {"count": 100, "period": "day"},
    "groupRewards": {"subscriber": {"multiplier": 2}},
}


def streak(n: int) -> dict[str, Any]:
    return {
        "streakId": f"streak{n}",
        "events": ["purchase"],
        "period": ("day", "week", "month")[n % 3],
        "conditions": CONDITION,
        "milestones": [{"count": 3, "points": 20, "badge": f"b{n}"}, {"count": 7, "points": 50}],
        "freezes": {"initial": 1, "max": 2, "earnEvery": 7},
    }


def challenge(n: int) -> dict[str, Any]:
    goal = (
        {"type": "count", "target": 50}
        if n % 2
        else {"type": "sum", "field": "orderValue", "target": 100000}
    )
    return {
        "challengeId": f"challenge{n}",
        "events": ["purchase"],
        "conditions": CONDITION,
        "goal": goal,
        "reset": ("none", "day", "week", "month")[n % 4],
        "reward": {"points": 100},
        "repeatable": True,
    }


STREAKS = [streak(n) for n in range(10)]
CHALLENGES = [challenge(n) for n in range(9)]
METADATA = {"orderValue": 129.99, "platform": "ios", "usergroup": "subscriber"}


def events(count: int) -> list[Event]:
    return [Event("purchase", "u1", START + timedelta(hours=7 * i), METADATA) for i in range(count)]


def bench_evaluate(n: int, with_all: bool) -> float:
    """Seconds for `n` evaluations, each feeding the next (a user's history grows)."""
    rule = EventRule.from_document(EVENT_RULE)
    streaks = [StreakRule.from_document(d) for d in STREAKS] if with_all else []
    challenges = [ChallengeRule.from_document(d) for d in CHALLENGES] if with_all else []
    state = UserState(user_id="u1")
    sequence = events(n)
    started = time.perf_counter()
    for event in sequence:
        state = evaluate(event, rule, streaks, state, challenges=challenges).state
    return time.perf_counter() - started


def seeded_store() -> Any:
    db = in_memory_database("bench")
    ensure_indexes(db)
    store = DefinitionStore(db)
    store.events.save(PROJECT, "purchase", EVENT_RULE, START)
    for body in STREAKS:
        store.streaks.save(PROJECT, body["streakId"], body, START)
    for body in CHALLENGES:
        store.challenges.save(PROJECT, body["challengeId"], body, START)
    return db


def bench_record(n: int, cached: bool) -> float:
    db = seeded_store()
    catalogs = CatalogCache() if cached else None
    sequence = events(n)
    started = time.perf_counter()
    for event in sequence:
        record_event(db, PROJECT, event, received_at=event.timestamp, catalogs=catalogs)
    return time.perf_counter() - started


def compare(
    name: str, a: Callable[[], float], b: Callable[[], float], n: int, rounds: int
) -> tuple[float, float]:
    """Median evaluations/s of `a` and `b`, measured alternately round by round."""
    rates_a, rates_b = [], []
    for round_number in range(rounds):
        first, second = (a, b) if round_number % 2 == 0 else (b, a)
        t_first, t_second = first(), second()
        t_a, t_b = (t_first, t_second) if first is a else (t_second, t_first)
        rates_a.append(n / t_a)
        rates_b.append(n / t_b)
        print(f"  {name}: round {round_number + 1}/{rounds}", file=sys.stderr)
    return statistics.median(rates_a), statistics.median(rates_b)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500, help="events per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    n, rounds = args.events, args.rounds
    assert len(load_catalog(seeded_store(), PROJECT).events) == 1  # the store path is seeded

    print(f"$ python -m tests.bench.engine --events {n} --rounds {rounds}")
    full, alone = compare(
        "evaluate", lambda: bench_evaluate(n, True), lambda: bench_evaluate(n, False), n, rounds
    )
    print(f"evaluate(), 20 active definitions: {full:12,.0f} evaluations/s")
    print(f"evaluate(), event rule alone:      {alone:12,.0f} evaluations/s")
    print(f"  cost of 20 definitions vs 1:     {alone / full:12.1f}x")
    cached, uncached = compare(
        "record_event", lambda: bench_record(n, True), lambda: bench_record(n, False), n, rounds
    )
    print(f"record_event(), in-memory store, catalog cached:   {cached:10,.0f} events/s")
    print(f"record_event(), in-memory store, compiled per event: {uncached:8,.0f} events/s")
    print(f"  speed-up of the catalog cache:                   {cached / uncached:10.1f}x")


if __name__ == "__main__":
    main()
