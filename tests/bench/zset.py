"""How the embedded default's sorted set scales: `python -m tests.bench.zset`.

Times moving members of a core.zset.ZSet (a new score for an existing member, as an
award does) and ranking them (GET /users/{id}/rank), on a set of 1,000 members and on one of
`--large` members, in one run, interleaved round by round; prints the microseconds per
operation and the ratio of large to small. `--plain` adds the former order (one plain list kept
with bisect.insort) side by side, and a dict without any order: the floor, what a larger set
costs in memory alone. Only the ratios mean anything on a shared machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from bisect import bisect_left, insort
from collections.abc import Callable
from typing import Any

from core.zset import ZSet


class PlainZSet:
    """The order as it was before: one list, kept sorted by bisect.insort."""

    def __init__(self) -> None:
        self.scores: dict[bytes, float] = {}
        self.order: list[tuple[float, bytes]] = []

    def add(self, member: bytes, score: float) -> tuple[bool, bool]:
        before = self.scores.get(member)
        if before is not None:
            if before == score:
                return False, False
            del self.order[bisect_left(self.order, (before, member))]
        self.scores[member] = score
        insort(self.order, (score, member))
        return before is None, True

    def rank(self, member: bytes) -> int | None:
        score = self.scores.get(member)
        return None if score is None else bisect_left(self.order, (score, member))


class DictOnly:
    """No order at all: only the scores by member."""

    def __init__(self) -> None:
        self.scores: dict[bytes, float] = {}

    def add(self, member: bytes, score: float) -> None:
        self.scores[member] = score

    def rank(self, member: bytes) -> float | None:
        return self.scores.get(member)


def filled(kind: Callable[[], Any], size: int, generator: random.Random) -> Any:
    zset = kind()
    for number in range(size):
        zset.add(f"u{number}".encode(), -float(generator.randrange(1 << 40)))
    return zset


def per_operation(
    zset: Any, size: int, operations: int, generator: random.Random
) -> tuple[float, float]:
    """Microseconds per award (a member's new score) and per rank."""
    members = [f"u{generator.randrange(size)}".encode() for _ in range(operations)]
    scores = [-float(generator.randrange(1 << 40)) for _ in range(operations)]
    started = time.perf_counter()
    for member, score in zip(members, scores, strict=True):
        zset.add(member, score)
    moved = time.perf_counter()
    for member in members:
        zset.rank(member)
    ranked = time.perf_counter()
    return (moved - started) / operations * 1e6, (ranked - moved) / operations * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--operations", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--plain", action="store_true", help="also the former plain list")
    args = parser.parse_args()
    generator = random.Random(17)
    kinds: dict[str, Callable[[], Any]] = {"ZSet": ZSet}
    if args.plain:
        kinds["plain list"] = PlainZSet
        kinds["dict only"] = DictOnly
    sets = {
        (name, size): filled(kind, size, generator)
        for name, kind in kinds.items()
        for size in (args.small, args.large)
    }
    timings: dict[tuple[str, int], list[tuple[float, float]]] = {key: [] for key in sets}
    for _ in range(args.rounds):
        for (name, size), zset in sets.items():
            timings[name, size].append(per_operation(zset, size, args.operations, generator))
    for name in kinds:
        for number, what in enumerate(("award", "rank")):
            small = statistics.median(times[number] for times in timings[name, args.small])
            large = statistics.median(times[number] for times in timings[name, args.large])
            print(
                f"{name:>10}: {small:6.2f} us per {what} at {args.small:,} members, "
                f"{large:6.2f} us at {args.large:,}: ratio {large / small:.2f}"
            )


if __name__ == "__main__":
    main()
