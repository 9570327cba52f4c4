"""Running queued jobs in the test's own process."""

from __future__ import annotations

from rq import SimpleWorker

from jobs.queue import RedisQueue


def work(queue: RedisQueue) -> None:
    """Run every job `queue` holds (and the retries they queue), then return."""
    SimpleWorker([queue.rq], connection=queue.rq.connection).work(burst=True)
