"""Exports written before a user's erasure: removed when they hold the user's days.

An export's rows are per-day aggregates (reports.analytics.exports), but a day's aggregate counted
the user (uniqueUsers) and may name their metadata values (topValue, and the JSON export's top
lists). Once the user is erased and their days recomputed (reports.analytics.runner.forget_user), an
export set (the CSV, JSON and Parquet files of one moment) that has a row for one of the
erased (eventId, day) pairs is deleted whole; the caller queues a new export, written from
the recomputed days. Export sets without those days are kept as they are.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from reports.analytics.exports import FORMULA_STARTS, ExportFile, list_exports

Pair = tuple[str, str]  # (eventId, UTC day "YYYY-MM-DD")


def remove_exports_holding(
    export_dir: str | os.PathLike[str],
    project: str,
    pairs: Iterable[Pair],
    since: datetime | None = None,
) -> list[str]:
    """Delete the project's export sets with a row for any of `pairs`, written after `since`
    (when the user's first event was received; None: whenever); return the names."""
    wanted = set(pairs)
    if not wanted:
        return []
    sets: dict[datetime, list[ExportFile]] = {}
    for export in list_exports(export_dir, project):
        # An export's name holds whole seconds: it may have read events of its last second.
        if since is not None and export.created_at + timedelta(seconds=1) <= since:
            continue
        sets.setdefault(export.created_at, []).append(export)
    removed = []
    for files in sets.values():
        if not _holds_any(files, wanted):
            continue
        for export in files:
            with contextlib.suppress(FileNotFoundError):
                export.path.unlink()
            removed.append(export.name)
    return sorted(removed)


def _holds_any(files: list[ExportFile], wanted: set[Pair]) -> bool:
    """Whether the set's rows hold one of `wanted`, read from its JSON or CSV file; a set
    neither can be read from (Parquet alone, or unreadable) is judged to hold them."""
    by_extension = {export.name.rsplit(".", 1)[1]: export for export in files}
    try:
        if "json" in by_extension:
            rows = _json_rows(by_extension["json"])
        elif "csv" in by_extension:
            rows = _csv_rows(by_extension["csv"])
        else:
            return True
        return any((row["eventId"], row["day"]) in wanted for row in rows)
    except (OSError, ValueError, KeyError, TypeError):
        return True  # when in doubt about personal data, remove it


def _json_rows(export: ExportFile) -> list[dict[str, Any]]:
    document = json.loads(export.path.read_bytes())
    rows: list[dict[str, Any]] = document["daily"]
    return rows


def _csv_rows(export: ExportFile) -> list[dict[str, Any]]:
    text = export.path.read_text(encoding="utf-8")
    return [
        {key: _uninert(value) for key, value in row.items()}
        for row in csv.DictReader(io.StringIO(text, newline=""))
    ]


def _uninert(value: str) -> str:
    """The text before reports.analytics.exports put `'` before a formula-like start."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
