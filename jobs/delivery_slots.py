"""Fair shares of the RQ workers between tenants: at most SLOTS deliveries of one project are
attempted at once, across every worker.

Each attempt may take up to its deadline (jobs.webhooks.DEADLINE). Without a bound, a project
whose receiver is slow and whose users are busy would fill every worker with its deliveries,
and other projects' deliveries would wait behind them. A delivery that finds its project's
slots taken is queued again a few seconds later (DEFER) instead of waiting on a worker, so the
workers move on to other projects' jobs.

Slots are members of a sorted set per project scored by when they lapse (Redis' own clock):
a worker that dies holding one frees it after `hold`, with no cleanup needed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from redis import Redis

SLOTS = 2
DEFER = timedelta(seconds=5)
PREFIX = "laurel:delivering:"


def take_slot(client: Redis, project: str, token: str, hold: timedelta) -> bool:
    """Take one of the project's slots for `hold` unless SLOTS are held; True when taken."""
    key = PREFIX + project
    seconds, micros = cast("tuple[int, int]", client.time())
    now = seconds + micros / 1_000_000
    pipe = client.pipeline()
    pipe.zremrangebyscore(key, "-inf", now)
    pipe.zadd(key, {token: now + hold.total_seconds()})
    pipe.zcard(key)
    pipe.expire(key, int(hold.total_seconds()) + 1)
    _, _, held, _ = pipe.execute()
    if held <= SLOTS:
        return True
    # Two takers racing for the last slot may both step back: they try again after DEFER.
    client.zrem(key, token)
    return False


def free_slot(client: Redis, project: str, token: str) -> None:
    client.zrem(PREFIX + project, token)
