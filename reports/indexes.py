"""Every collection reports/ owns declares its indexes; this creates them (`db init`, and at
start-up in the embedded default). The `events` indexes the runs read along are rules/'."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from reports.analytics.store import ReportStore
from reports.insights.store import InsightStore


def ensure_indexes(db: Database[Any]) -> None:
    ReportStore(db).ensure_indexes()
    InsightStore(db).ensure_indexes()
