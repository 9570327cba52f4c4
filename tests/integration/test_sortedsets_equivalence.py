"""core.sortedsets answers as Redis does: random sequences of the commands the leaderboards use
(pipelines, WATCH/MULTI/EXEC with another client writing in between, expiries, renames and
deletes) run on the test Redis and on SortedSets give the same answers, the same errors and
the same keys, members, scores and expiries. Needs a real Redis (skipped without one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.sortedsets import SortedSets
from core.zset import ZSet

KEYS = ["eq:a", "eq:b", "eq:{p}:c"]
PATTERNS = ["*", "eq:*", "eq:?", "*{p}*", "eq:[ab]", "eq:[^a]*", "eq:\\{*"]
MEMBERS: list[Any] = ["m1", "m2", "m3", b"m4", 7, "\u00e9"]

keys = st.sampled_from(KEYS)
members = st.sampled_from(MEMBERS)
scores = st.one_of(
    st.integers(-3, 3),  # often the score a member has already
    st.integers(-20, 20),
    st.floats(allow_nan=False, width=64),
    st.sampled_from([float("inf"), float("-inf"), -0.0, 0.5]),
)
bounds = st.one_of(
    st.integers(-20, 20),
    st.sampled_from(["-inf", "+inf", "inf"]),
    st.integers(-20, 20).map(lambda n: f"({n}"),
)
# Whole thousands of seconds: a TTL is compared in thousands, so that the time a busy machine
# takes between EXPIRE and TTL cannot tell the stores apart (zero or less deletes at once).
lifetimes = st.sampled_from([-5, 0, 1000, 5000, 86_000, timedelta(seconds=0), timedelta(days=2)])

Step = tuple[Any, ...]  # (command, *arguments); ("zrange", key, start, end, withscores) …

commands: st.SearchStrategy[Step] = st.one_of(
    st.tuples(st.just("zadd"), keys, st.dictionaries(members, scores, min_size=1, max_size=4)),
    st.tuples(st.just("zmscore"), keys, st.lists(members, min_size=1, max_size=4)),
    st.tuples(st.just("zscore"), keys, members),
    st.tuples(st.just("zrank"), keys, members),
    st.tuples(st.just("zrange"), keys, st.integers(-5, 5), st.integers(-5, 5), st.booleans()),
    st.tuples(st.just("zrem"), keys, st.lists(members, min_size=1, max_size=3)),
    st.tuples(st.just("zremrangebyscore"), keys, bounds, bounds),
    st.tuples(st.just("expire"), keys, lifetimes),
    st.tuples(st.just("ttl"), keys),
    st.tuples(st.just("rename"), keys, keys),
    st.tuples(st.just("delete"), st.lists(keys, min_size=1, max_size=3)),
)
pipelines = st.tuples(st.just("pipeline"), st.booleans(), st.lists(commands, max_size=5))
# WATCH some keys, maybe run a command on the watching pipeline itself (at once, as redis-py
# does before MULTI), let another client run commands, then MULTI, queue, EXEC.
transactions = st.tuples(
    st.just("watched"),
    st.lists(keys, min_size=1, max_size=2),
    st.lists(commands, max_size=1),
    st.lists(commands, max_size=2),
    st.lists(commands, min_size=1, max_size=3),
)
scans = st.tuples(st.just("scan"), st.sampled_from(PATTERNS))
# Plain commands weigh most: a bug often needs several in a row on one key to show.
steps = st.lists(
    st.one_of(commands, commands, commands, pipelines, transactions, scans), min_size=4, max_size=30
)


def issue(target: Any, step: Step) -> Any:
    """Issue one command on a client or a pipeline (which queues it or runs it at once)."""
    name, *arguments = step
    if name == "zadd":
        return target.zadd(arguments[0], arguments[1])
    if name == "zrange":
        key, start, end, withscores = arguments
        return target.zrange(key, start, end, withscores=withscores)
    if name in ("zrem", "delete"):
        *fixed, spread = arguments
        return getattr(target, name)(*fixed, *spread)
    return getattr(target, name)(*arguments)


def answer(step: Step, result: Any) -> Any:
    """What is compared: a TTL in thousands of seconds (see `lifetimes`), the rest exactly."""
    if step[0] == "ttl" and isinstance(result, int) and result > 0:
        return ("ttl", round(result / 1000))
    return exactly(result)


def exactly(value: Any) -> Any:
    """`value` with each float as its bits (-0.0 == 0.0, but Redis answers one of them)."""
    if isinstance(value, float):
        return value.hex()
    if isinstance(value, list | tuple):
        return type(value)(exactly(item) for item in value)
    return value


def outcome(run: Callable[[], Any]) -> Any:
    try:
        return ("ok", run())
    except redis.RedisError as error:
        return ("error", type(error).__name__)


def run_step(client: Any, step: Step) -> Any:
    kind = step[0]
    if kind == "scan":
        return outcome(lambda: sorted(client.scan_iter(match=step[1], count=100)))
    if kind == "pipeline":
        _, transaction, queued = step
        return outcome(lambda: pipelined(client, transaction, queued))
    if kind == "watched":
        return outcome(lambda: watched(client, *step[1:]))
    return outcome(lambda: answer(step, issue(client, step)))


def pipelined(client: Any, transaction: bool, queued: list[Step]) -> list[Any]:
    with client.pipeline(transaction=transaction) as pipe:
        for step in queued:
            issue(pipe, step)
        results = pipe.execute()
    return [answer(step, result) for step, result in zip(queued, results, strict=True)]


def watched(
    client: Any, keys: list[str], own: list[Step], others: list[Step], queued: list[Step]
) -> list[Any]:
    with client.pipeline() as pipe:
        pipe.watch(*keys)
        at_once = [outcome(lambda step=step: answer(step, issue(pipe, step))) for step in own]
        meanwhile = [run_step(client, step) for step in others]  # another connection
        pipe.multi()
        for step in queued:
            issue(pipe, step)
        results = pipe.execute()
    return [at_once, meanwhile, [answer(s, r) for s, r in zip(queued, results, strict=True)]]


def contents(client: Any) -> dict[bytes, Any]:
    return {
        key: (
            answer(("zrange",), client.zrange(key, 0, -1, withscores=True)),
            answer(("ttl",), client.ttl(key)),
        )
        for key in client.scan_iter(match="*")
    }


@pytest.fixture
def real_redis(redis_client: redis.Redis) -> redis.Redis:
    if not isinstance(redis_client, redis.Redis) or "fakeredis" in type(redis_client).__module__:
        pytest.skip("needs a real Redis")
    return redis_client


@pytest.fixture(params=["lists as long as they are", "lists of at most 2"])
def load(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each sequence also with core.zset's lists split at 2 entries, so that a set of a few
    members already spans several of them."""
    if request.param == "lists of at most 2":
        monkeypatch.setattr(ZSet, "LOAD", 1)


@settings(max_examples=500, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_sorted_sets_answer_every_sequence_as_redis_does(
    real_redis: redis.Redis, load: None, sequence: list[Step]
) -> None:
    real_redis.flushdb()
    native = SortedSets()

    for number, step in enumerate(sequence):
        expected = run_step(real_redis, step)
        assert run_step(native, step) == expected, f"step {number}: {step!r}"

    assert contents(native) == contents(real_redis)
