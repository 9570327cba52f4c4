"""Benchmark of the reward engine: `make bench` (or `python -m tests.bench.engine`).

Measures, in one run and interleaved round by round so that a noisy machine slows every side
alike:

1. evaluate(): one event against 20 active definitions that all apply to it (an event rule
   with conditions, per-unit points, a cap and group multipliers; 10 streaks; 9 challenges),
   by this engine and by the engine as it was before its speed work (the frozen copy in
   tests/bench/reference), and against its event rule alone. The definitions share one
   condition, as in the figures of issue 17; since the engine evaluates a shared condition
   once per event, the same definitions each with a condition of its own are measured too.
   Both engines are first checked to decide the same on the benchmark's events;
2. record_event() on the in-memory store: definitions compiled once per change (the catalog
   cache) versus read and compiled on every event.

Prints evaluations per second (median of the rounds) and the ratios; with --cpu, per second
of this process's CPU time, steadier on a machine that other work shares.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import rules.engine.challenges
import rules.engine.definitions
import rules.engine.evaluation
import rules.engine.state
import tests.bench.reference.challenges
import tests.bench.reference.definitions
import tests.bench.reference.engine
import tests.bench.reference.state
from core.inmemory import in_memory_database
from rules.stores.definitions import DefinitionStore
from rules.stores.indexes import ensure_indexes
from rules.usecases.catalog import CatalogCache, load_catalog
from rules.usecases.record import record_event

# What a round's seconds are read from: wall time, or with --cpu this process's CPU time, which
# other processes on a shared machine do not add to (they still share its caches).
CLOCK = [time.perf_counter]
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


def own_condition(doc: dict[str, Any], n: int) -> dict[str, Any]:
    """`doc` with a condition no other definition has, true for the same events."""
    value = {"field": "orderValue", "op": "gte", "value": 20 + n}
    return {**doc, "conditions": {"all": [value, *CONDITION["all"][1:]]}}


OWN_STREAKS = [own_condition(doc, n) for n, doc in enumerate(STREAKS)]
OWN_CHALLENGES = [own_condition(doc, 10 + n) for n, doc in enumerate(CHALLENGES)]
METADATA = {"orderValue": 129.99, "platform": "ios", "usergroup": "subscriber"}


class Engine:
    """One engine's evaluate() with its own compiled definitions and user state."""

    def __init__(
        self,
        engine: ModuleType,
        definitions: ModuleType,
        challenges: ModuleType,
        state: ModuleType,
        with_all: bool,
        own_conditions: bool = False,
    ) -> None:
        self.evaluate = engine.evaluate
        self.event = engine.Event
        self.user = state.UserState
        self.rule = definitions.EventRule.from_document(EVENT_RULE)
        streak_docs = OWN_STREAKS if own_conditions else STREAKS
        challenge_docs = OWN_CHALLENGES if own_conditions else CHALLENGES
        self.streaks = (
            [definitions.StreakRule.from_document(d) for d in streak_docs] if with_all else []
        )
        self.challenges = (
            [challenges.ChallengeRule.from_document(d) for d in challenge_docs] if with_all else []
        )

    def events(self, count: int) -> list[Any]:
        return [
            self.event("purchase", "u1", START + timedelta(hours=7 * i), METADATA)
            for i in range(count)
        ]

    def evaluations(self, count: int) -> list[Any]:
        """Every evaluation of `count` events, each starting from the state the one before left."""
        state, results = self.user(user_id="u1"), []
        for event in self.events(count):
            result = self.evaluate(
                event, self.rule, self.streaks, state, challenges=self.challenges
            )
            results.append(result)
            state = result.state
        return results

    def seconds(self, count: int) -> float:
        """Seconds for `count` evaluations, each feeding the next (a user's history grows)."""
        rule, streaks, challenges, evaluate = (
            self.rule,
            self.streaks,
            self.challenges,
            self.evaluate,
        )
        state = self.user(user_id="u1")
        sequence = self.events(count)
        started = CLOCK[0]()
        for event in sequence:
            state = evaluate(event, rule, streaks, state, challenges=challenges).state
        return CLOCK[0]() - started


def new_engine(with_all: bool, own_conditions: bool = False) -> Engine:
    modules = (
        rules.engine.evaluation,
        rules.engine.definitions,
        rules.engine.challenges,
        rules.engine.state,
    )
    return Engine(*modules, with_all, own_conditions)


def reference_engine(with_all: bool, own_conditions: bool = False) -> Engine:
    reference = tests.bench.reference
    modules = (reference.engine, reference.definitions, reference.challenges, reference.state)
    return Engine(*modules, with_all, own_conditions)


def decisions(data: Any) -> Any:
    """The plain data (asdict) of this engine's values without the streaks' `walked_with`,
    which the reference has not: it says which freeze policy a state's counts were walked
    under, and decides nothing itself."""
    if isinstance(data, dict):
        return {key: decisions(value) for key, value in data.items() if key != "walked_with"}
    if isinstance(data, list | tuple):
        return type(data)(decisions(item) for item in data)
    return data


def check_same_decisions(count: int) -> None:
    """The two engines must agree on every evaluation of the benchmark's events."""
    for own_conditions in (False, True):
        new = new_engine(True, own_conditions).evaluations(count)
        old = reference_engine(True, own_conditions).evaluations(count)
        if [decisions(asdict(result)) for result in new] != [asdict(result) for result in old]:
            raise SystemExit("the engine decides differently from the reference engine")


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
    sequence = new_engine(False).events(n)
    started = CLOCK[0]()
    for event in sequence:
        record_event(db, PROJECT, event, received_at=event.timestamp, catalogs=catalogs)
    return CLOCK[0]() - started


def compare(name: str, sides: Sequence[Callable[[], float]], n: int, rounds: int) -> list[float]:
    """Median rate (n / seconds) of each side, measured in turn, the order rotated each round."""
    rates: list[list[float]] = [[] for _ in sides]
    for round_number in range(rounds):
        for offset in range(len(sides)):
            index = (round_number + offset) % len(sides)
            rates[index].append(n / sides[index]())
        print(f"  {name}: round {round_number + 1}/{rounds}", file=sys.stderr)
    return [statistics.median(side) for side in rates]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500, help="events per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu", action="store_true", help="time CPU time, not wall time")
    args = parser.parse_args(argv)
    if args.cpu:
        CLOCK[0] = time.process_time
    n, rounds = args.events, args.rounds
    assert len(load_catalog(seeded_store(), PROJECT).events) == 1  # the store path is seeded
    check_same_decisions(n)

    cpu = " --cpu" if args.cpu else ""
    print(f"$ python -m tests.bench.engine --events {n} --rounds {rounds}{cpu}")
    engines = [
        new_engine(True),
        reference_engine(True),
        new_engine(False),
        reference_engine(False),
        new_engine(True, own_conditions=True),
        reference_engine(True, own_conditions=True),
    ]
    rates = compare("evaluate", [lambda e=e: e.seconds(n) for e in engines], n, rounds)
    full, old_full, alone, old_alone, own, old_own = rates
    print(f"evaluate(), 20 active definitions:           {full:10,.0f} evaluations/s")
    print(f"  reference engine (before), same run:       {old_full:10,.0f} evaluations/s")
    print(f"  speed-up with 20 definitions:              {full / old_full:10.1f}x  (goal: 5x)")
    print(f"evaluate(), event rule alone:                {alone:10,.0f} evaluations/s")
    print(f"  reference engine (before), same run:       {old_alone:10,.0f} evaluations/s")
    print(f"  speed-up with the event rule alone:        {alone / old_alone:10.1f}x")
    print(f"  cost of 20 definitions vs 1:               {alone / full:10.1f}x")
    print(f"evaluate(), 20 definitions, own conditions:  {own:10,.0f} evaluations/s")
    print(f"  reference engine (before), same run:       {old_own:10,.0f} evaluations/s")
    print(f"  speed-up, each its own condition:          {own / old_own:10.1f}x")
    cached, uncached = compare(
        "record_event", [lambda: bench_record(n, True), lambda: bench_record(n, False)], n, rounds
    )
    print(f"record_event(), in-memory store, catalog cached:   {cached:10,.0f} events/s")
    print(f"record_event(), in-memory store, compiled per event: {uncached:8,.0f} events/s")
    print(f"  speed-up of the catalog cache:                   {cached / uncached:10.1f}x")


if __name__ == "__main__":
    main()
