"""core.sortedsets on its own clock: keys expire when Redis's would, WATCH sees an expiry, and
what it does not implement fails loudly. (Its answers are compared with a real Redis's in
tests/integration/test_sortedsets_equivalence.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis

from core.sortedsets import SortedSets
from tests.support.dates import Seconds


@pytest.fixture
def clock() -> Seconds:
    return Seconds(1000.0)


@pytest.fixture
def sets(clock: Seconds) -> SortedSets:
    return SortedSets(clock=clock)


def test_a_key_lives_until_its_ttl_runs_out(sets: SortedSets, clock: Seconds) -> None:
    sets.zadd("board", {"amy": 3})
    assert sets.expire("board", timedelta(seconds=10)) is True

    clock.now += 9.4
    assert sets.ttl("board") == 1  # rounded as Redis rounds
    assert sets.zscore("board", "amy") == 3.0
    clock.now += 0.7

    assert sets.zscore("board", "amy") is None
    assert sets.ttl("board") == -2
    assert list(sets.scan_iter(match="*")) == []
    assert sets.expire("board", 10) is False


def test_a_set_made_again_after_expiring_has_no_ttl(sets: SortedSets, clock: Seconds) -> None:
    sets.zadd("board", {"amy": 3})
    sets.expire("board", 5)
    clock.now += 6

    sets.zadd("board", {"bob": 1})

    assert sets.ttl("board") == -1
    assert sets.zrange("board", 0, -1, withscores=True) == [(b"bob", 1.0)]


def test_a_watched_key_that_expires_before_exec_fails_the_transaction(
    sets: SortedSets, clock: Seconds
) -> None:
    sets.zadd("marker", {"e1": 1})
    sets.expire("marker", 5)
    with sets.pipeline() as pipe:
        pipe.watch("marker")
        clock.now += 6
        pipe.multi()
        pipe.zadd("marker", {"e2": 2})
        with pytest.raises(redis.WatchError):
            pipe.execute()

    assert sets.zrange("marker", 0, -1) == []


def test_a_key_already_expired_when_watched_does_not_fail_the_transaction(
    sets: SortedSets, clock: Seconds
) -> None:
    sets.zadd("marker", {"e1": 1})
    sets.expire("marker", 5)
    clock.now += 6
    with sets.pipeline() as pipe:
        pipe.watch("marker")
        pipe.multi()
        pipe.zadd("marker", {"e2": 2})
        assert pipe.execute() == [1]

    assert sets.zrange("marker", 0, -1) == [b"e2"]


def test_leaving_the_pipeline_unwatches(sets: SortedSets) -> None:
    with sets.pipeline() as pipe:
        pipe.watch("marker")
    sets.zadd("marker", {"e1": 1})  # would fail a transaction still watching

    with sets.pipeline() as pipe:
        pipe.multi()
        pipe.zadd("marker", {"e2": 2})
        assert pipe.execute() == [1]


def test_what_is_not_implemented_fails_loudly(sets: SortedSets) -> None:
    with pytest.raises(AttributeError):
        sets.zincrby("board", 1, "amy")
    with pytest.raises(AttributeError):
        sets.pipeline().hset("h", "f", "v")
    with pytest.raises(TypeError):
        sets.zadd("board", {"amy": 1}, nx=True)


def test_pipeline_misuse_is_refused_as_redis_py_refuses_it(sets: SortedSets) -> None:
    with sets.pipeline() as pipe:
        pipe.zadd("board", {"amy": 1})
        with pytest.raises(redis.RedisError, match="without an initial WATCH"):
            pipe.multi()
    with sets.pipeline() as pipe:
        pipe.multi()
        with pytest.raises(redis.RedisError, match="after a MULTI"):
            pipe.watch("board")
        with pytest.raises(redis.RedisError, match="nested"):
            pipe.multi()


@pytest.mark.parametrize("score", [None, True, object()])
def test_a_score_redis_py_cannot_send_is_refused_before_the_transaction_runs(
    sets: SortedSets, score: object
) -> None:
    with sets.pipeline() as pipe:
        pipe.zadd("k1", {"a": 1})
        with pytest.raises(redis.DataError):
            pipe.zadd("k2", {"b": score})  # type: ignore[dict-item]  # the wrong type on purpose
        pipe.execute()

    assert sets.zscore("k1", "a") == 1.0  # what was queued before it still runs, once
    assert sets.zscore("k2", "b") is None
