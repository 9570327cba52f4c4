"""The RQ worker class of `make worker`: one process runs its jobs itself, without a fork.

RQ's default `Worker` forks a work horse per job. A PyMongo client must not cross a fork, so
each work horse built its own `MongoClient` (jobs.runtime): a new connection pool, TLS and
authentication handshakes and server monitors for every webhook delivery, only to throw them
away when the job ended. `SimpleWorker` runs each job in the worker process, so the process's
`Clients` (and their pools) serve every job it takes.

What the fork bought, and why Laurel does without it: job timeouts are still enforced (RQ's
SIGALRM death penalty works in the worker's main thread); a job that raises is a failed job,
not a dead worker; Laurel's jobs are short I/O (a webhook POST, a sweep, a report day) and
keep no state between runs. Scale by running more worker processes (docs/scaling.md).
"""

from __future__ import annotations

from typing import Any

from rq.worker import SimpleWorker

from jobs import runtime


class Worker(SimpleWorker):
    """`rq worker --worker-class jobs.worker.Worker`: reads the settings once, at start, so a
    bad environment stops the worker rather than failing every job; the MongoDB and Redis
    connections open on the first job and serve all the later ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        runtime.clients()
