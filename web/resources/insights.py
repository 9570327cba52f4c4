"""Insights (docs/api.md#insights): breakdowns, funnel results and retention, scope `reports:read`,
and the status of the project's last report run. Funnel definitions live under /admin/funnels
(web.resources.definitions).

Days are UTC dates; `from`/`to` include both ends and default to the last 30 days.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask.views import MethodView
from flask_smorest import abort

from core import clock
from reports.analytics.store import ReportStore
from reports.insights.service import breakdown_report, funnel_report, retention_report
from reports.windows import day_key
from rules.stores.definitions import DefinitionStore
from web.auth import current_principal, require_scope
from web.blueprint import Blueprint
from web.context import database
from web.schemas.insights import (
    BreakdownQuerySchema,
    BreakdownSchema,
    FunnelQuerySchema,
    FunnelResultSchema,
    RetentionQuerySchema,
    RetentionSchema,
    RunStatusSchema,
)

DEFAULT_DAYS = 30

blp = Blueprint(
    "insights",
    __name__,
    url_prefix="/analytics",
    description="Insights: breakdowns, funnels, retention, and the report runs' status",
)


def day_range(query: dict[str, Any]) -> tuple[str, str]:
    """(from, to) of the query, by default the 30 days ending today (UTC)."""
    last = query["last"] or day_key(clock.now())
    first = query["first"] or (date.fromisoformat(last) - timedelta(days=DEFAULT_DAYS - 1))
    if isinstance(first, date):
        first = first.isoformat()
    if first > last:
        abort(400, errors={"from": ["must not be after `to` (default: today)"]})
    return first, last


@blp.route("/events/<eventId>/breakdown", endpoint="breakdown")
class Breakdown(MethodView):
    @require_scope("reports:read")
    @blp.arguments(BreakdownQuerySchema, location="query")
    @blp.response(200, BreakdownSchema)
    @blp.errors(400, 401, 403, 404, 429)
    def get(self, query: dict[str, Any], eventId: str) -> dict[str, Any]:  # noqa: N803
        """Break an event down by the values of one metadata field

        Per value of `by`: events, distinct users and, with `field`, the count, mean, min,
        max, p50 and p90 of that numeric field. From the stored daily aggregates of the last
        report run.
        """
        return breakdown_report(
            database(),
            current_principal().project,
            eventId,
            query["by"],
            query["field"],
            query["window"],
            query["limit"],
            clock.now(),
        )


@blp.route("/funnels/<funnelId>", endpoint="funnel")
class Funnel(MethodView):
    @require_scope("reports:read")
    @blp.arguments(FunnelQuerySchema, location="query")
    @blp.response(200, FunnelResultSchema)
    @blp.errors(400, 401, 403, 404, 429)
    def get(self, query: dict[str, Any], funnelId: str) -> dict[str, Any]:  # noqa: N803
        """Follow users through a funnel's steps

        Users enter at their first step-1 event from `from` to `to`; each later step counts
        when reached in order within the funnel's window of entering. With `by`, the same
        figures per value of that field of the entering event.
        """
        first, last = day_range(query)
        project = current_principal().project
        store = DefinitionStore(database()).funnels
        funnel = store.compile(store.get(project, funnelId))
        return funnel_report(database(), project, funnel, first, last, query["by"])


@blp.route("/retention", endpoint="retention")
class Retention(MethodView):
    @require_scope("reports:read")
    @blp.arguments(RetentionQuerySchema, location="query")
    @blp.response(200, RetentionSchema)
    @blp.errors(400, 401, 403, 429)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Retention of users by the day or ISO week of their first event

        retained[k]: the cohort's users with an event in the k-th period after their first
        (null until that period begins). With `split`, the same for the users who did / did
        not do that event in their first period.
        """
        first, last = day_range(query)
        return retention_report(
            database(),
            current_principal().project,
            period=query["period"],
            first=first,
            last=last,
            periods=query["periods"],
            cohort_event=query["cohortEvent"],
            return_event=query["returnEvent"],
            split=query["split"],
            now=clock.now(),
        )


@blp.route("/reports/status", endpoint="reports_status")
class RunStatus(MethodView):
    @require_scope("reports:read")
    @blp.response(200, RunStatusSchema)
    @blp.errors(401, 403, 429)
    def get(self) -> dict[str, Any]:
        """The project's report watermark and last run, with the days it could not aggregate"""
        status = ReportStore(database()).last_run(current_principal().project) or {}
        return {"watermark": status.get("watermark"), "lastRun": status.get("lastRun")}
