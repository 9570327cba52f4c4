"""The one way work leaves a request: `enqueue`, onto RQ or, in the embedded default, onto a
queue of this process.

Both give a job the same treatment: it runs in the background (never inside the request), at
most JOB_TIMEOUT seconds (or its own `timeout`) on RQ, and is retried after each of
RETRY_INTERVALS (the first within a minute) before it is given up (kept FAILURE_TTL in RQ's
failed registry). Jobs may run twice (a retry after a lost acknowledgement, a crashed worker):
every job function is idempotent.

Job functions are module-level in jobs/ and take ids and plain values. They reach the stores
through `jobs.runtime.clients()`: the web app's own in the embedded default, connections
opened from the environment in an RQ worker.

A job carries the request id of the request that queued it (core.logs; in RQ's job meta as
`requestId`): its log lines, and the webhook deliveries it makes, carry that id. Each run is
counted in `laurel_jobs_total{job, result}` (succeeded, retried, failed) by whoever runs it:
this module's in-process queue, or jobs.worker in an RQ worker.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from redis import Redis, RedisError
from rq import Queue, Retry, get_current_job

from core import metrics
from core.clients import Clients
from core.errors import LaurelError
from core.logs import bound_request_id, request_id
from jobs.runtime import running_with

log = logging.getLogger(__name__)

QUEUE_NAME = "laurel"
META_REQUEST_ID = "requestId"
RETRY_INTERVALS = (10, 60, 300, 1800, 7200)  # seconds before each retry
JOB_TIMEOUT = 60  # seconds
FAILURE_TTL = 7 * 24 * 3600  # seconds a given-up job stays in RQ's failed registry
BREAK_FOR = 10.0  # seconds without trying Redis after it failed
WORKERS = 4  # threads of the in-process queue

Job = Callable[..., Any]


class JobQueue(Protocol):
    def enqueue(
        self,
        job: Job,
        *args: Any,
        job_id: str | None = None,
        timeout: int | None = None,
        lane: str | None = None,
    ) -> None: ...


_current = threading.local()


def retries_left() -> int | None:
    """How many retries the running job still has (0: this is its last attempt); None when
    not called from a job."""
    job = get_current_job()
    if job is not None:
        return int(job.retries_left or 0)
    left: int | None = getattr(_current, "retries_left", None)
    return left


class QueueUnavailable(LaurelError):
    """Redis did not take the job (down, or down a moment ago): the caller keeps it pending."""


class RedisQueue:
    """RQ on the configured Redis; `make worker` runs the jobs (and schedules the retries).

    Enqueueing happens while a request is answered, so it must never be slow: give it a
    connection with short timeouts (`Clients.redis_in_request`). After a failure the queue
    refuses at once for BREAK_FOR seconds (a circuit breaker) rather than making every request
    wait on a hung Redis; what it refused waits in the outbox for the sweep.
    """

    def __init__(
        self,
        connection: Redis,
        intervals: tuple[int, ...] = RETRY_INTERVALS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._queue = Queue(QUEUE_NAME, connection=connection)
        self._intervals = intervals
        self._clock = clock
        self._closed_until = 0.0

    @property
    def rq(self) -> Queue:
        return self._queue

    def enqueue(
        self,
        job: Job,
        *args: Any,
        job_id: str | None = None,
        timeout: int | None = None,
        lane: str | None = None,
    ) -> None:
        # `lane` is the in-process queue's; RQ's workers each take the next job.
        if self._clock() < self._closed_until:
            raise QueueUnavailable("Redis failed a moment ago; left for the sweep")
        try:
            self._queue.enqueue(
                job,
                *args,
                job_id=job_id,
                retry=Retry(max=len(self._intervals), interval=list(self._intervals)),
                job_timeout=JOB_TIMEOUT if timeout is None else timeout,
                failure_ttl=FAILURE_TTL,
                meta={META_REQUEST_ID: request_id.get()},
            )
        except RedisError as error:
            self._closed_until = self._clock() + BREAK_FOR
            log.warning("cannot queue jobs for %ss: %s", BREAK_FOR, error)
            raise QueueUnavailable(str(error)) from error

    def enqueue_later(self, delay: timedelta, job: Job, *args: Any) -> None:
        """Queue `job` to run after `delay` (RQ's scheduler: `rq worker --with-scheduler`)."""
        self._queue.enqueue_in(
            delay,
            job,
            *args,
            retry=Retry(max=len(self._intervals), interval=list(self._intervals)),
            job_timeout=JOB_TIMEOUT,
            failure_ttl=FAILURE_TTL,
        )


@dataclass(order=True)
class _Scheduled:
    run_at: float
    sequence: int
    job: Job = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    attempt: int = field(compare=False, default=0)
    request_id: str | None = field(compare=False, default=None)
    lane: str | None = field(compare=False, default=None)


class InProcessQueue:
    """The embedded default's queue: WORKERS daemon threads run jobs as they fall due,
    retrying on the same schedule as RQ. Its jobs live in memory, like everything else in that
    mode.

    Jobs enqueued with a `lane` (webhook deliveries: their project) run one at a time per
    lane, so one tenant's slow receivers hold at most one thread and never make another
    tenant's deliveries wait behind theirs."""

    def __init__(
        self,
        clients: Clients | None = None,
        intervals: tuple[float, ...] = RETRY_INTERVALS,
        clock: Callable[[], float] = time.monotonic,
        start: bool = True,
        workers: int = WORKERS,
    ) -> None:
        self._clients = clients
        self._intervals = intervals
        self._clock = clock
        self._heap: list[_Scheduled] = []
        self._sequence = itertools.count()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._busy: set[str] = set()  # lanes with a job running
        self._start = start
        self._workers = workers
        self._closed = False

    def enqueue(
        self,
        job: Job,
        *args: Any,
        job_id: str | None = None,
        timeout: int | None = None,
        lane: str | None = None,
    ) -> None:
        # `timeout` is RQ's: a thread cannot be stopped safely, so in-process jobs run to the end.
        self._push(
            _Scheduled(
                self._clock(), next(self._sequence), job, args, 0, request_id.get(), lane=lane
            )
        )

    def run_due(self) -> int:
        """Run every job due now (retries included when they fall due); return how many ran."""
        ran = 0
        while (item := self._pop_due()) is not None:
            self._run(item)
            ran += 1
        return ran

    def pending(self) -> int:
        with self._wake:
            return len(self._heap)

    def close(self, wait: float = 30.0) -> bool:
        """Drop the jobs not started yet, and stop the threads once their current job ends,
        waiting up to `wait` seconds in all: what the embedded mode's memory held is gone with
        it anyway. Jobs enqueued afterwards are dropped. False when a thread is still running
        a job at the end of the wait."""
        with self._wake:
            self._closed = True
            self._heap.clear()
            self._wake.notify_all()
            others = [t for t in self._threads if t is not threading.current_thread()]
        deadline = time.monotonic() + wait
        for thread in others:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in others)

    def _push(self, item: _Scheduled) -> None:
        with self._wake:
            if self._closed:
                return
            heapq.heappush(self._heap, item)
            self._wake.notify_all()
            if self._start and not self._threads:
                for number in range(self._workers):
                    thread = threading.Thread(
                        target=self._loop, name=f"laurel-jobs-{number}", daemon=True
                    )
                    self._threads.append(thread)
                    thread.start()

    def _pop_due(self) -> _Scheduled | None:
        with self._wake:
            if self._heap and self._heap[0].run_at <= self._clock():
                return heapq.heappop(self._heap)
            return None

    def _run(self, item: _Scheduled) -> None:
        with bound_request_id(item.request_id):
            self._run_bound(item)

    def _run_bound(self, item: _Scheduled) -> None:
        _current.retries_left = len(self._intervals) - item.attempt
        name = item.job.__name__
        try:
            if self._clients is not None:
                with running_with(self._clients):
                    item.job(*item.args)
            else:
                item.job(*item.args)
        except Exception:
            if item.attempt >= len(self._intervals):
                metrics.JOBS.labels(name, "failed").inc()
                log.exception(
                    "job %s failed for good after %d attempts", item.job.__name__, item.attempt + 1
                )
                return
            metrics.JOBS.labels(name, "retried").inc()
            delay = self._intervals[item.attempt]
            log.warning("job %s failed; retry in %ss", item.job.__name__, delay, exc_info=True)
            self._push(
                _Scheduled(
                    self._clock() + delay,
                    next(self._sequence),
                    item.job,
                    item.args,
                    item.attempt + 1,
                    item.request_id,
                    item.lane,
                )
            )
        else:
            metrics.JOBS.labels(name, "succeeded").inc()

    def _loop(self) -> None:
        while True:
            with self._wake:
                item = self._take_runnable()
                while item is None:
                    if self._closed:
                        return
                    self._wake.wait(self._next_due_in())
                    item = self._take_runnable()
                if item.lane is not None:
                    self._busy.add(item.lane)
            try:
                self._run(item)
            finally:
                with self._wake:
                    self._busy.discard(item.lane or "")
                    self._wake.notify_all()

    def _take_runnable(self) -> _Scheduled | None:
        """The earliest due job whose lane is free, taken off the heap (lock held)."""
        now = self._clock()
        runnable = [
            (item, index)
            for index, item in enumerate(self._heap)
            if item.run_at <= now and item.lane not in self._busy
        ]
        if not runnable:
            return None
        item, index = min(runnable, key=lambda pair: pair[0])
        self._heap.pop(index)
        heapq.heapify(self._heap)
        return item

    def _next_due_in(self) -> float | None:
        """Seconds until the next job falls due (lock held); None: wait for a change."""
        waiting = [item.run_at for item in self._heap if item.lane not in self._busy]
        if not waiting:
            return None
        return max(0.0, min(waiting) - self._clock())


def queue_for(clients: Clients) -> JobQueue:
    """This process's queue for `clients`: RQ when REDIS_URL is set, else in-process."""
    queue: JobQueue | None = clients.__dict__.get("_job_queue")
    if queue is None:
        created: JobQueue = (
            RedisQueue(clients.redis_in_request)
            if clients.settings.redis_url is not None
            else InProcessQueue(clients)
        )
        queue = clients.__dict__.setdefault("_job_queue", created)
    return queue


def use_queue(clients: Clients, queue: JobQueue) -> None:
    """Make `queue` the one `queue_for(clients)` returns (tests: retries without waiting)."""
    clients.__dict__["_job_queue"] = queue
