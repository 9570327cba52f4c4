"""Log lines of every process (web, RQ worker, scheduler): text or one JSON object per line,
each carrying the request id of the work it belongs to (docs/architecture.md, operations).

- `request_id` is a context variable: the web layer sets it per request, the job runners
  (jobs.queue, jobs.worker) per job from what the request that queued it recorded, and the
  scheduler per run. A record factory copies it onto every log record as `requestId`, so
  handlers installed by others (pytest's, gunicorn's) see it too.
- Lines are dated by Laurel's clock (core.clock), like everything else it dates.
- `redact` removes what must never reach a log: bearer tokens, JWTs and webhook signatures,
  whichever logger and whatever message carries them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from core import clock

LOG_FORMATS = ("text", "json")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(requestIdText)s]: %(message)s"
# Fields a request's access line adds to its JSON object (web.observability).
REQUEST_FIELDS = ("method", "path", "status", "durationMs", "project")

request_id: ContextVar[str | None] = ContextVar("laurel_request_id", default=None)

_SECRETS = (
    re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),  # a JWT anywhere
    re.compile(r"(v1=)[0-9a-fA-F]{16,}"),  # X-Laurel-Signature's HMAC
)


def new_request_id() -> str:
    """`uuid.uuid4().hex`, made without the UUID object (one per request that brings none):
    16 random bytes with the version (4) and variant (RFC 4122) bits uuid4 sets."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    return raw.hex()


def accepted_request_id(candidate: str | None) -> str:
    """The caller's id when it is 1-128 characters of [A-Za-z0-9._-], else a new one."""
    if candidate is not None and REQUEST_ID.fullmatch(candidate):
        return candidate
    return new_request_id()


@contextmanager
def bound_request_id(value: str | None) -> Iterator[str]:
    """Run the block as part of request `value` (a new id when None)."""
    current = value or new_request_id()
    token = request_id.set(current)
    try:
        yield current
    finally:
        request_id.reset(token)


# Every secret above holds one of these (whatever the case): a text without any is left as it
# is, with one search instead of a substitution per pattern (every log line is redacted).
_SECRET_MARKS = re.compile(r"(?i)bearer|eyJ|v1=")


def redact(text: str) -> str:
    if _SECRET_MARKS.search(text) is None:
        return text
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
    return text


class RedactingFilter(logging.Filter):
    """Replaces the message with its redacted rendering (arguments merged in first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", "requestId", ...}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _moment(record).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "requestId": getattr(record, "requestId", None),
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _moment(record).isoformat(sep=" ", timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        record.requestIdText = getattr(record, "requestId", None) or "-"
        return redact(super().format(record))


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


_HANDLER_MARK = "_laurel_handler"


def configure_logging(level: str, log_format: str = "text") -> None:
    """Send the root logger's records to stderr in `log_format` (once per process; calling it
    again changes the format and level). Leaves alone a root logger someone else set up."""
    install_record_factory()
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]
    if not root.handlers or ours:
        handler = ours[0] if ours else logging.StreamHandler(sys.stderr)
        setattr(handler, _HANDLER_MARK, True)
        handler.setFormatter(formatter_for(log_format))
        if not ours:
            handler.addFilter(RedactingFilter())
            root.addHandler(handler)
    root.setLevel(level)


_factory_installed = False


def install_record_factory() -> None:
    """Give every log record of this process a `requestId` attribute (None outside requests)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.requestId = request_id.get()
        record.moment = clock.now()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def _moment(record: logging.LogRecord) -> datetime:
    """When the record was made, by Laurel's clock (by the system's for records made before
    the factory was installed)."""
    moment = getattr(record, "moment", None)
    if isinstance(moment, datetime):
        return moment
    return datetime.fromtimestamp(record.created, UTC)
