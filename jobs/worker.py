"""The RQ worker (`make worker`): Laurel's logging, request ids and job metrics around RQ's own.

`python -m jobs.worker` runs a worker on the `laurel` queue of REDIS_URL with RQ's scheduler
(which re-queues retries when they fall due). Each job runs bound to the request id its request
recorded in the job's meta (core.logs), and is counted in `laurel_jobs_total`. With
METRICS_PORT set, the worker serves its metrics there. Jobs run in the worker's own process
(RQ's SimpleWorker), sharing its `Clients` (jobs.runtime); shutdown is RQ's warm-then-cold.
Why: docs/decisions/0012-rq-jobs-in-the-worker-process.md.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import redis
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from core import metrics
from core.logs import bound_request_id, configure_logging
from core.settings import Settings
from jobs import runtime
from jobs.queue import META_REQUEST_ID, QUEUE_NAME

log = logging.getLogger(__name__)


class LaurelWorker(SimpleWorker):
    """RQ's worker that runs jobs in its own process, each bound to its request id and
    counted by result. Reads the settings once, at start, so a bad environment stops the worker
    rather than failing every job."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        runtime.clients()

    def perform_job(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> bool:
        meta = job.meta or {}
        with bound_request_id(meta.get(META_REQUEST_ID)):
            ok: bool = super().perform_job(job, queue, *args, **kwargs)
            name = (job.func_name or "unknown").rsplit(".", 1)[-1]
            metrics.JOBS.labels(name, _result(job, ok)).inc()
            return ok


def _result(job: Job, ok: bool) -> str:
    if ok:
        return "succeeded"
    if job.get_status(refresh=False) in (JobStatus.FAILED, JobStatus.STOPPED):
        return "failed"
    return "retried"


def serve_metrics(port: int) -> None:
    """Serve this process's /metrics on `port`, from a daemon thread (worker, scheduler)."""
    registry: CollectorRegistry = REGISTRY
    directory = metrics.multiprocess_dir()
    if directory is not None:  # counted into files: add them up like the web's /metrics
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]  # unannotated
    start_http_server(port, registry=registry)
    log.info("metrics served on port %d", port)


def main() -> None:
    settings = Settings.from_env(serving=False)
    configure_logging(settings.log_level, settings.log_format)
    if settings.redis_url is None or settings.mongo_uri is None:
        sys.exit("the worker takes jobs from REDIS_URL and works on MONGO_URI; set both")
    if settings.metrics_port is not None:
        serve_metrics(settings.metrics_port)
    # RQ waits for jobs in a blocking pop: no short socket timeout on this connection.
    connection = redis.Redis.from_url(settings.redis_url)
    worker = LaurelWorker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
    worker.work(with_scheduler=True, logging_level=settings.log_level)


Worker = LaurelWorker  # `rq worker --worker-class jobs.worker.Worker` works too


if __name__ == "__main__":
    main()
