"""gunicorn's settings for production: `make serve` and the container both run
`gunicorn -c gunicorn.conf.py wsgi:app`. Environment: PORT (8000), WEB_CONCURRENCY (workers;
default 2 per core + 1), GUNICORN_TIMEOUT, LOG_FORMAT (json unless set), LOG_LEVEL,
PROMETHEUS_MULTIPROC_DIR (a fresh temporary folder unless set).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

bind = f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)

# --- worker class -------------------------------------------------------------------------
# How a worker serves connections (what slow clients can hold up) and the request limits
# gunicorn enforces itself: web/serving.py (imported at the end of this file).
# -------------------------------------------------------------------------------------------

timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)  # a silent worker is replaced after it
# SIGTERM: stop accepting, let requests in flight finish for this long, then stop the workers.
graceful_timeout = 30
keepalive = 5  # seconds an idle keep-alive connection is held (behind a load balancer)
# Restart workers now and then (jittered, so not all at once): bounds what a leak can grow to.
max_requests = 10_000
max_requests_jitter = 1_000
accesslog = None  # Laurel logs each request itself (logger laurel.access, with its request id)
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()

# JSON unless told otherwise (docs/architecture.md: json under `make serve`); the workers
# inherit the environment, so the app formats its own lines the same way.
os.environ.setdefault("LOG_FORMAT", "json")
if os.environ["LOG_FORMAT"].lower() == "json":
    # gunicorn's own lines (worker boots, timeouts) as JSON on stderr, like the app's.
    logconfig_dict: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "core.logs.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": loglevel.upper(), "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
        },
    }

# Prometheus multiprocess mode: each worker writes its metric values into files of this
# folder and /metrics adds them all up. Set before any worker imports prometheus-client.
_created_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _created_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="laurel-metrics-")
# Before `from web import serving` below: importing the app defines its metrics, which open
# their files in this folder at once.
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)


def on_starting(server: Any) -> None:
    """Start from an empty metrics folder: a previous run's counts are not this one's; and
    answer gunicorn's own refusals (414, 431) in the error envelope (web.serving)."""
    serving.on_starting(server)
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended: its live gauges go, its counters stay in the sums."""
    from core.metrics import mark_process_dead

    mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    """The worker has loaded the app: settle its interpreter (core.interpreter)."""
    from core import interpreter

    interpreter.settle()


def on_exit(server: Any) -> None:
    if _created_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


# After PROMETHEUS_MULTIPROC_DIR is set: importing web.serving imports the web package.
from web import serving  # noqa: E402

worker_class = serving.worker_class
worker_connections = serving.worker_connections
limit_request_line = serving.limit_request_line
limit_request_fields = serving.limit_request_fields
limit_request_field_size = serving.limit_request_field_size
