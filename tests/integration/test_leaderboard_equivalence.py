"""The awards (rules.stores.boards) build the same boards on Redis (WATCH/MULTI) and on the
embedded default's sorted sets (rules.stores.boards_in_process: reads and writes on the sets
themselves, under their lock): random sequences of awards, replays and batches included, over
days, weeks and months, give the same counts and leave the same keys, members, scores and
expiries (to the second). Needs a real Redis (skipped without one)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.sortedsets import SortedSets
from rules.stores import boards
from tests.integration.test_sortedsets_equivalence import contents
from tests.support.dates import Seconds

NOW = datetime(2026, 11, 29, 23, 59, 59, 500_000, tzinfo=UTC)  # a Sunday, end of ISO week 48
MOMENTS = [
    NOW,
    NOW + timedelta(milliseconds=1),  # Monday, 1 December: a new day, week and month
    NOW - timedelta(days=3),
    NOW + timedelta(days=9),
    datetime(2026, 11, 29, 12, 0),  # naive: UTC
    datetime(2019, 12, 31, tzinfo=UTC),  # before the all-time board's epoch
]
USERS = ["amy", "bob", "cat", "d:{x}"]
IDS = [f"r{number}:0" for number in range(8)]

# What each entry id stands for (an entry is the same whenever it is finished again).
ledgers = st.fixed_dictionaries(
    {
        entry_id: st.fixed_dictionaries(
            {
                "delta": st.integers(-3, 40),
                "source": st.sampled_from(["event", "streak", "challenge", "adjustment"]),
                "createdAt": st.sampled_from(MOMENTS),
            }
        )
        for entry_id in IDS
    }
)
awards = st.lists(
    st.tuples(
        st.dictionaries(
            st.sampled_from(USERS), st.lists(st.sampled_from(IDS), max_size=4), max_size=3
        ),
        # when it runs: the markers' stamps and the boards' expiries follow; eight days later,
        # a week's markers are gone and the same entries count again
        st.sampled_from([NOW, NOW + timedelta(hours=1), NOW + timedelta(days=8)]),
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture
def real_redis(redis_client: redis.Redis) -> redis.Redis:
    if not isinstance(redis_client, redis.Redis) or "fakeredis" in type(redis_client).__module__:
        pytest.skip("needs a real Redis")
    return redis_client


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=ledgers, sequence=awards)
def test_awards_build_the_same_boards_on_redis_and_in_process(
    real_redis: redis.Redis, ledger: dict[str, dict[str, Any]], sequence: list[Any]
) -> None:
    real_redis.flushdb()
    native = SortedSets(clock=Seconds(1000.0))  # its TTLs stay what EXPIRE set: see below

    windows = []  # when each award ran on Redis, by this machine's clock (Redis's too)
    for number, (by_user, now) in enumerate(sequence):
        entries = {
            user: [{"_id": entry_id, **ledger[entry_id]} for entry_id in ids]
            for user, ids in by_user.items()
        }
        started = time.time()  # os clock: Redis keeps its expiries by the machine's clock
        counted = boards.record_awards_of_users(real_redis, "p", entries, now)
        windows.append((started, time.time()))  # os clock: as above
        assert boards.record_awards_of_users(native, "p", entries, now) == counted, number

    assert contents(native) == contents(real_redis)
    # Expiries to the second (contents compares them in thousands): Redis's EXPIRE of the
    # native TTL must have run during one of the awards, however slow the machine.
    for key in native.scan_iter(match="*"):
        ttl, expires_at = native.ttl(key), real_redis.pexpiretime(key)
        if ttl == -1:
            assert expires_at == -1, key
            continue
        issued = (expires_at - ttl * 1000) / 1000  # Redis keeps expiries in milliseconds
        assert any(start - 0.002 <= issued <= end + 0.002 for start, end in windows), (key, ttl)
    for period in ("day", "week", "month", "all"):
        for moment in MOMENTS:
            top = boards.top(real_redis, "p", period, 10, moment)
            assert boards.top(native, "p", period, 10, moment) == top
