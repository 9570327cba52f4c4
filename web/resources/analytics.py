"""Analytics (docs/api.md#analytics): event totals, metadata reports, report runs and exports.

Reads need `reports:read` (or `admin`); starting a run needs `admin`. Everything is the token's
project's. Reports come from the last report run (every REPORT_INTERVAL seconds, or on
demand): an eventId no run has seen is 404 `not_found`, one without events in the window gets
a report of zeros. Export names are checked against the project's own export names and never
joined into a path otherwise.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, send_file
from flask.views import MethodView
from flask_smorest import abort

from core import clock
from jobs.locks import LOCK_TTL
from jobs.queue import queue_for
from jobs.reports import EXPORT_JOB, REPORT_JOB, run_exports, run_reports
from reports.analytics.exports import ExportNotFound, find_export, list_exports
from reports.analytics.service import event_totals, metadata_report
from reports.windows import day_key
from rules.usecases.population import population
from web.auth import current_principal, require_scope
from web.blueprint import Blueprint
from web.context import app_state, database
from web.schemas.analytics import (
    EventTotalsQuerySchema,
    EventTotalsSchema,
    ExportListSchema,
    MetadataReportSchema,
    PopulationSchema,
    RunAcceptedSchema,
    WindowQuerySchema,
)

DEFAULT_DAYS = 30
MEDIA_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}

blp = Blueprint(
    "analytics",
    __name__,
    url_prefix="/analytics",
    description="Event metadata analytics: totals, reports, runs and exports",
)


@blp.route("/events", endpoint="events")
class EventTotals(MethodView):
    @require_scope("reports:read")
    @blp.arguments(EventTotalsQuerySchema, location="query")
    @blp.response(200, EventTotalsSchema)
    @blp.errors(400, 401, 403, 429)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Count events, distinct users and points per eventId over a range of days

        Days are UTC and both ends are included; without `from` and `to`, the last 30 days.
        """
        last = query["last"] or day_key(clock.now())
        first = (
            query["first"]
            or (date.fromisoformat(last) - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        )
        if first > last:
            abort(400, errors={"from": ["must not be after `to` (default: today)"]})
        items = event_totals(database(), current_principal().project, first, last)
        return {"from": first, "to": last, "items": items}


@blp.route("/events/<eventId>/metadata", endpoint="metadata")
class EventMetadata(MethodView):
    @require_scope("reports:read")
    @blp.arguments(WindowQuerySchema, location="query")
    @blp.response(200, MetadataReportSchema)
    @blp.errors(400, 401, 403, 404, 429)
    def get(self, query: dict[str, Any], eventId: str) -> dict[str, Any]:  # noqa: N803
        """Analyse an event's metadata over 7d, 30d or all

        Per field: its type, and for numbers min, max, mean, std, percentiles and a histogram;
        for strings the most frequent values; for booleans true/false counts. Plus a daily
        trend and the numeric fields segmented by the busiest categorical field.
        """
        project = current_principal().project
        return metadata_report(database(), project, eventId, query["window"], clock.now())


@blp.route("/users", endpoint="users")
class Population(MethodView):
    @require_scope("reports:read")
    @blp.response(200, PopulationSchema)
    @blp.errors(401, 403, 429)
    def get(self) -> dict[str, Any]:
        """Count the project's users: all, active over 7 and 30 days, and per level

        Active: the user's latest event lies in the window. Levels follow lifetime points;
        level 0 holds the users below the first level. Read live, not from a report run.
        """
        return population(database(), current_principal().project, clock.now())


def _enqueue(job_name: str, job: Any) -> dict[str, Any]:
    project = current_principal().project
    # A run may take minutes: let it last as long as the lock it takes holds.
    queue_for(app_state().clients).enqueue(job, project, timeout=int(LOCK_TTL.total_seconds()))
    return {"job": job_name, "project": project, "status": "queued"}


@blp.route("/reports/run", endpoint="reports_run")
class ReportRun(MethodView):
    @require_scope("admin")
    @blp.response(202, RunAcceptedSchema)
    @blp.errors(401, 403, 429, 503)
    def post(self) -> dict[str, Any]:
        """Refresh the project's reports now

        The run is queued and reads only the events received since the previous one; reports
        also refresh every REPORT_INTERVAL seconds.
        """
        return _enqueue(REPORT_JOB, run_reports)


@blp.route("/exports/run", endpoint="exports_run")
class ExportRun(MethodView):
    @require_scope("admin")
    @blp.response(202, RunAcceptedSchema)
    @blp.errors(401, 403, 429, 503)
    def post(self) -> dict[str, Any]:
        """Export the project's analytics now (CSV, JSON, Parquet when available)

        Exports also run on EXPORT_CRON; they reflect the last report run.
        """
        return _enqueue(EXPORT_JOB, run_exports)


@blp.route("/exports", endpoint="exports")
class Exports(MethodView):
    @require_scope("reports:read")
    @blp.response(200, ExportListSchema)
    @blp.errors(401, 403, 429)
    def get(self) -> dict[str, Any]:
        """List the project's exports, newest first"""
        settings = app_state().settings
        return {"items": list_exports(settings.export_dir, current_principal().project)}


@blp.route("/exports/<name>", endpoint="export")
class ExportFile(MethodView):
    @require_scope("reports:read")
    @blp.response(
        200,
        description="The file: CSV, JSON or Parquet",
        content_type="application/octet-stream",
    )
    @blp.errors(400, 401, 403, 404, 429)
    def get(self, name: str) -> Response:
        """Download one of the project's exports"""
        settings = app_state().settings
        export = find_export(settings.export_dir, current_principal().project, name)
        try:
            content = export.path.open("rb")  # opened now: a prune may delete it meanwhile
        except FileNotFoundError:
            raise ExportNotFound(f"no export named {name!r}") from None
        extension = export.name.rsplit(".", 1)[1]
        return send_file(
            content,
            mimetype=MEDIA_TYPES[extension],
            as_attachment=True,
            download_name=export.name,
            max_age=0,
        )
