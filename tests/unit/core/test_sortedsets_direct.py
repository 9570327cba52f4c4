"""core.sortedsets' direct methods (what rules.stores.boards_in_process awards through) do what
the commands they stand for do: random sequences run as direct calls on one SortedSets and as
the commands on another give the same answers, the same errors, the same keys, members, scores
and expiries, and mark the same watching pipelines."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from core.sortedsets import SortedSets
from tests.integration.test_sortedsets_equivalence import exactly
from tests.support.dates import Seconds

KEYS = ["d:a", "d:b", "d:{é}"]
MEMBERS = ["m1", "m2", "m3", "é"]

keys = st.sampled_from(KEYS)
members = st.sampled_from(MEMBERS)
numbers = st.one_of(
    st.integers(-3, 3).map(float),  # often the score a member has already
    st.floats(allow_infinity=False, allow_nan=False, width=64),
    st.sampled_from([-0.0, float("inf"), float("-inf"), float("nan")]),
)
lifetimes = st.sampled_from([-5, 0, 5, 50, 86_400])

Step = tuple[Any, ...]
steps: st.SearchStrategy[Step] = st.one_of(
    st.tuples(st.just("scores"), keys, st.lists(members, min_size=1, max_size=4)),
    st.tuples(st.just("rescore"), keys, st.dictionaries(members, numbers, min_size=1, max_size=4)),
    st.tuples(st.just("expire_in"), keys, lifetimes),
    st.tuples(
        st.just("stamp"),
        keys,
        st.lists(members, min_size=1, max_size=3),
        numbers.filter(lambda n: n == n),  # a stamp is a time
        numbers.filter(lambda n: n == n),
        lifetimes,
    ),
    st.tuples(st.just("zadd"), keys, st.dictionaries(members, numbers, min_size=1, max_size=3)),
    st.tuples(st.just("wait"), st.sampled_from([1.0, 10.0, 100.0])),
)


def added(change: float, before: float | None) -> float:
    """A rescore's new score: the change added to the score the member has."""
    return change if before is None else before + change


def direct(sets: SortedSets, step: Step) -> Any:
    name, key, *arguments = step
    if name == "rescore":
        return sets.rescore(key, arguments[0], added)
    return getattr(sets, name)(key, *arguments)


def commands(sets: SortedSets, step: Step) -> Any:
    """What `direct` stands for, as the commands of redis-py's client."""
    name, key, *arguments = step
    if name == "scores":
        return sets.zmscore(key, arguments[0])
    if name == "rescore":
        changes = arguments[0]
        before = sets.zmscore(key, list(changes))
        scores = {m: added(c, b) for (m, c), b in zip(changes.items(), before, strict=True)}
        return sets.zadd(key, scores)
    if name == "expire_in":
        sets.expire(key, arguments[0])
        return None
    if name == "stamp":
        stamped, score, oldest, seconds = arguments
        sets.zadd(key, dict.fromkeys(stamped, score))
        sets.zremrangebyscore(key, "-inf", oldest)
        sets.expire(key, seconds)
        return None
    return sets.zadd(key, arguments[0])


def run(sets: SortedSets, clock: Seconds, step: Step, issue: Any) -> Any:
    """The step's answer (or error) and the keys whose watching pipelines it marked."""
    if step[0] == "wait":
        clock.now += step[1]
        return None
    watching = {key: sets.pipeline() for key in KEYS}
    for key, pipeline in watching.items():
        pipeline.watch(key)
    try:
        answer: Any = ("ok", exactly(issue(sets, step)))
    except redis.RedisError as error:
        answer = ("error", type(error).__name__)
    marked = sorted(key for key, pipeline in watching.items() if pipeline.conflicted)
    for pipeline in watching.values():
        pipeline.reset()
    return answer, marked


def contents(sets: SortedSets) -> dict[bytes, Any]:
    return {
        key: (exactly(sets.zrange(key, 0, -1, withscores=True)), sets.ttl(key))
        for key in sets.scan_iter(match="*")
    }


@given(st.lists(steps, min_size=1, max_size=25))
def test_the_direct_methods_do_what_their_commands_do(sequence: list[Step]) -> None:
    by_commands, by_commands_clock = _sets()
    directly, directly_clock = _sets()

    for number, step in enumerate(sequence):
        expected = run(by_commands, by_commands_clock, step, commands)
        assert run(directly, directly_clock, step, direct) == expected, (number, step)
        assert contents(directly) == contents(by_commands), (number, step)


def _sets() -> tuple[SortedSets, Seconds]:
    clock = Seconds(1000.0)
    return SortedSets(clock=clock), clock


def test_a_rescore_to_nan_is_refused_before_any_member_is_written() -> None:
    sets = SortedSets()
    sets.zadd("board", {"amy": 1.0})

    with pytest.raises(redis.ResponseError):
        sets.rescore("board", {"amy": 1.0, "bob": float("nan")}, added)

    assert sets.zrange("board", 0, -1, withscores=True) == [(b"amy", 1.0)]


def test_a_rescore_reads_every_score_before_writing_any() -> None:
    sets = SortedSets()
    sets.zadd("board", {"amy": 1.0, "bob": 2.0})
    read: list[tuple[float | None, float | None]] = []

    def after(change: float, before: float | None) -> float:
        read.append((before, sets.zscore("board", "amy")))  # amy's score meanwhile
        return change

    assert sets.rescore("board", {"amy": 10.0, "bob": 20.0, "cat": 30.0}, after) == 1
    assert read == [(1.0, 1.0), (2.0, 1.0), (None, 1.0)]
    assert sets.zrange("board", 0, -1, withscores=True) == [
        (b"amy", 10.0),
        (b"bob", 20.0),
        (b"cat", 30.0),
    ]
