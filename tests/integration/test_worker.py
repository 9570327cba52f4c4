"""`make worker` runs every job of a worker process on one set of connections (issue 14,
item 6): RQ's default worker forks per job, and each fork built its own MongoClient."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rq import Queue, get_current_job
from rq.worker import SimpleWorker

from jobs import runtime
from jobs.worker import Worker

NOTES = "laurel:test:worker-notes"


def note_clients() -> None:
    """A job: record which process ran it and which connections it was given."""
    job = get_current_job()
    assert job is not None
    clients = runtime.clients()
    job.connection.rpush(NOTES, f"{os.getpid()} {id(clients)} {id(clients.mongo)}")


@pytest.fixture
def signal_handlers() -> Iterator[None]:
    """A worker installs its own SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def test_jobs_of_one_worker_share_its_process_and_connections(
    redis_client: Any, signal_handlers: None
) -> None:
    queue = Queue("laurel", connection=redis_client)
    for _ in range(3):
        queue.enqueue(note_clients)

    Worker([queue], connection=redis_client).work(burst=True)

    notes = [note.decode() for note in redis_client.lrange(NOTES, 0, -1)]
    assert len(notes) == 3
    assert len(set(notes)) == 1  # one process, one Clients, one MongoClient
    assert notes[0].split()[0] == str(os.getpid())  # no work horse forked


def test_make_worker_runs_the_non_forking_worker() -> None:
    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    worker_target = re.search(r"^worker:.*?(?=^\S)", makefile, re.DOTALL | re.MULTILINE)

    assert worker_target is not None
    assert "python -m jobs.worker" in worker_target.group(0)
    assert issubclass(Worker, SimpleWorker)
