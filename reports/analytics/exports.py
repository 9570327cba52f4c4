"""Scheduled exports of a project's analytics (docs/architecture.md#analytics-and-insights): files
under EXPORT_DIR, written atomically, listed and served by name, pruned after EXPORT_RETENTION days.

Files: `EXPORT_DIR/{slug}/{slug}-{YYYYMMDDTHHMMSSZ}.{csv,json,parquet}`, the time being the
export's (UTC). `slug` is the project id with '.' and ':' written as '~2E' and '~3A' ('~' is
never part of an id, so two projects never share a slug, and a slug never holds a dot: no
'..', no hidden file). Every export writes:
- `.csv`: one row per (day, eventId, metadata field) with the day's totals and the field's
  statistics (DAILY_COLUMNS; a day without metadata has one row with an empty field); text
  starting with = + - @, a tab or a CR is written behind a `'`, so no spreadsheet runs it;
- `.parquet`: the same table, typed, when pyarrow is installed (`pip install laurel[parquet]`);
- `.json`: `{project, generatedAt, from, to, reports: [{eventId, windows: {7d, 30d, all}}],
  daily: [rows]}` with the metadata reports (reports.analytics.merge) ending on the export's day.

Writes go to a temporary file in the same directory (`.tmp-…`, never listed), flushed to disk,
then renamed over the final name (`os.replace`), so a reader sees a whole file or none. Names
from requests are matched against NAME and the project's own slug, never joined into a path
otherwise; a token only ever sees its own project's directory.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pandas as pd
from pymongo.database import Database

from core import clock
from core.errors import LaurelError
from reports.analytics.fields import field_report
from reports.analytics.runner import build_report
from reports.analytics.store import ReportStore
from reports.windows import WINDOWS, day_key

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
NAME = re.compile(r"(?P<slug>[A-Za-z0-9_~-]+)-(?P<stamp>\d{8}T\d{6}Z)\.(?P<ext>csv|json|parquet)")
TEMP_PREFIX = ".tmp-"
TEMP_MAX_AGE = timedelta(days=1)  # a temporary file this old was left by a crash
_ESCAPES = {".": "~2E", ":": "~3A"}
_ESCAPED = re.compile(r"[.:]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a CSV cell a spreadsheet would evaluate

DAILY_COLUMNS: dict[str, str] = {  # name: parquet type
    "day": "str",
    "eventId": "str",
    "events": "Int64",
    "uniqueUsers": "Int64",
    "pointsAwarded": "Int64",
    "totalPointsAwarded": "Int64",
    "field": "str",
    "type": "str",
    "count": "Int64",
    "missing": "Int64",
    "min": "float64",
    "max": "float64",
    "mean": "float64",
    "std": "float64",
    "p50": "float64",
    "p90": "float64",
    "p99": "float64",
    "distinct": "Int64",
    "topValue": "str",
    "topCount": "Int64",
    "trueCount": "Int64",
    "falseCount": "Int64",
}


class InvalidExportName(LaurelError):
    """Not the name of an export file."""


class ExportNotFound(LaurelError):
    """No such export of this project."""


@dataclass(frozen=True)
class ExportFile:
    name: str
    size: int
    created_at: datetime
    path: Path


def parquet_available() -> bool:
    return importlib.util.find_spec("pyarrow") is not None


def project_slug(project: str) -> str:
    return _ESCAPED.sub(lambda match: _ESCAPES[match.group()], project)


def export_name(project: str, moment: datetime, extension: str) -> str:
    return f"{project_slug(project)}-{moment.astimezone(UTC).strftime(STAMP_FORMAT)}.{extension}"


def project_dir(export_dir: str | os.PathLike[str], project: str) -> Path:
    return Path(export_dir).resolve() / project_slug(project)


def parse_name(project: str, name: str) -> datetime:
    """The creation time an export name of `project` carries; InvalidExportName otherwise
    (another project's name included)."""
    match = NAME.fullmatch(name)
    if match is None or match["slug"] != project_slug(project):
        raise InvalidExportName(
            "must be an export name such as "
            f"{export_name(project, datetime(2026, 1, 1, tzinfo=UTC), 'csv')}"
        )
    try:
        return datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidExportName("the time in the name is not a valid date") from None


def list_exports(export_dir: str | os.PathLike[str], project: str) -> list[ExportFile]:
    """The project's exports, newest first (temporary files and strangers are not listed)."""
    folder = project_dir(export_dir, project)
    files = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            try:
                created = parse_name(project, entry.name)
                size = entry.stat(follow_symlinks=False).st_size
            except (InvalidExportName, FileNotFoundError):
                continue
            if entry.is_file(follow_symlinks=False):
                files.append(ExportFile(entry.name, size, created, Path(entry.path)))
    return sorted(files, key=lambda f: (f.created_at, f.name), reverse=True)


def find_export(export_dir: str | os.PathLike[str], project: str, name: str) -> ExportFile:
    """The export `name` of `project`: InvalidExportName for a name no export has,
    ExportNotFound when there is no such file."""
    parse_name(project, name)
    for export in list_exports(export_dir, project):
        if export.name == name:
            return export
    raise ExportNotFound(f"no export named {name!r}")


def export_project(
    db: Database[Any],
    project: str,
    export_dir: str | os.PathLike[str],
    *,
    now: datetime | None = None,
    retention_days: int = 30,
    formats: Sequence[str] | None = None,
) -> list[ExportFile]:
    """Write the project's exports (CSV, JSON, and Parquet when pyarrow is installed), then
    delete its exports older than `retention_days` (0 keeps them all); return the new files."""
    moment = (now or clock.now()).astimezone(UTC).replace(microsecond=0)
    chosen = list(formats or ["csv", "json", *(["parquet"] if parquet_available() else [])])
    store = ReportStore(db)
    rows = daily_rows(store.export_partials(project))
    folder = project_dir(export_dir, project)
    folder.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Callable[[IO[bytes]], None]] = {
        # CRLF (RFC 4180): a value holding a CR is then quoted, so it cannot start a row.
        "csv": lambda out: _csv_frame(rows).to_csv(out, index=False, lineterminator="\r\n"),
        "parquet": lambda out: _typed_frame(rows).to_parquet(out, index=False),
        "json": lambda out: _write_json(out, _json_export(store, project, rows, moment)),
    }
    written = []
    for extension in chosen:
        path = folder / export_name(project, moment, extension)
        size = _write_atomically(path, writers[extension])
        written.append(ExportFile(path.name, size, moment, path))
    prune(export_dir, project, moment, retention_days)
    return written


def prune(
    export_dir: str | os.PathLike[str], project: str, now: datetime, retention_days: int
) -> list[str]:
    """Delete the project's exports older than `retention_days` (none when 0) and temporary
    files left by crashed writers; return the names deleted."""
    deleted = []
    if retention_days > 0:
        oldest = now - timedelta(days=retention_days)
        for export in list_exports(export_dir, project):
            if export.created_at < oldest:
                with contextlib.suppress(FileNotFoundError):
                    export.path.unlink()
                deleted.append(export.name)
    folder = project_dir(export_dir, project)
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if not entry.name.startswith(TEMP_PREFIX):
                continue
            with contextlib.suppress(FileNotFoundError):
                age = time.time() - entry.stat().st_mtime  # os clock: it stamped the file
                if age > TEMP_MAX_AGE.total_seconds():
                    os.unlink(entry.path)
                    deleted.append(entry.name)
    return deleted


def daily_rows(partials: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row (DAILY_COLUMNS) per (day, eventId, field) of the partials."""
    rows = []
    for partial in partials:
        totals = {
            "day": partial["day"],
            "eventId": partial["eventId"],
            "events": partial["count"],
            "uniqueUsers": partial["users"]["count"],
            "pointsAwarded": partial["pointsAwarded"],
            "totalPointsAwarded": partial["totalPointsAwarded"],
        }
        fields = partial["fields"]
        if not fields:
            rows.append({**dict.fromkeys(DAILY_COLUMNS), **totals})
        for name, doc in fields.items():
            report = field_report([doc], partial["count"])
            rows.append({**dict.fromkeys(DAILY_COLUMNS), **totals, **_field_columns(name, report)})
    return rows


def _field_columns(name: str, report: Mapping[str, Any]) -> dict[str, Any]:
    numeric, categorical, boolean = (_part(report, kind) for kind in _KINDS)
    columns: dict[str, Any] = {
        "field": name,
        "type": report["type"],
        "count": report["count"],
        "missing": report["missing"],
    }
    if numeric is not None:
        columns.update({k: numeric[k] for k in ("min", "max", "mean", "std", "p50", "p90", "p99")})
    if categorical is not None:
        top = categorical["top"][0] if categorical["top"] else None
        columns.update(
            {
                "distinct": categorical["distinct"],
                "topValue": top and top["value"],
                "topCount": top and top["count"],
            }
        )
    if boolean is not None:
        columns.update({"trueCount": boolean["trueCount"], "falseCount": boolean["falseCount"]})
    return columns


_KINDS = ("numeric", "categorical", "boolean")


def _part(report: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    if report["type"] == kind:
        return report
    if report["type"] == "mixed":
        part: Mapping[str, Any] | None = report.get(kind)
        return part
    return None


def _csv_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Values as they are (integers stay integers), empty cells for None, and text that a
    spreadsheet would run as a formula behind a quote."""
    cells = [{column: _inert(value) for column, value in row.items()} for row in rows]
    return pd.DataFrame(cells, columns=list(DAILY_COLUMNS), dtype=object)


def _inert(value: Any) -> Any:
    """`value`, with `'` before text starting like a formula (OWASP, CSV injection): a top
    value is whatever users sent."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def _typed_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(DAILY_COLUMNS), dtype=object)
    for column, kind in DAILY_COLUMNS.items():
        if kind == "str":
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        else:
            frame[column] = pd.to_numeric(frame[column]).astype(kind)
    return frame


def _json_export(
    store: ReportStore, project: str, rows: list[dict[str, Any]], moment: datetime
) -> dict[str, Any]:
    today = day_key(moment)
    reports = []
    for event_id in store.event_ids(project):
        partials = store.event_partials(project, event_id)
        windows = {w: build_report(project, event_id, partials, w, today) for w in WINDOWS}
        reports.append({"eventId": event_id, "windows": windows})
    days = [row["day"] for row in rows]
    return {
        "project": project,
        "generatedAt": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "from": min(days, default=None),
        "to": max(days, default=None),
        "reports": reports,
        "daily": rows,
    }


def _write_json(out: IO[bytes], document: Mapping[str, Any]) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8")
    json.dump(document, text, allow_nan=False, separators=(",", ":"))
    text.flush()
    text.detach()


def _write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> int:
    """Write `path` through a temporary file in its directory; return its size."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(descriptor, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path.stat().st_size
