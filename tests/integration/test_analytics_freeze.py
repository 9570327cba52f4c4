"""No input can freeze analytics (issue 13, item 5). Each case used to stop every report run of
its project for good on a real MongoDB (the in-memory store now refuses what mongod refuses:
documents over 16 MiB, integers beyond int64); each now completes, stays under the limit, and
events sent later still reach the reports."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import pytest

from reports.analytics import batch
from reports.analytics.merge import REPORT_FIELD_LIMIT, TREND_MEAN_FIELDS
from reports.analytics.partials import day_partials
from reports.analytics.runner import build_report, run_project
from reports.analytics.store import ReportStore
from reports.bounds import DOCUMENT_BUDGET
from reports.insights.service import breakdown_report
from tests.conftest import PROJECT

DAY_0 = datetime(2026, 3, 2, tzinfo=UTC)


def event(
    user: str, event_id: str, moment: datetime, metadata: dict[str, Any], received: datetime
) -> dict[str, Any]:
    return {
        "project": PROJECT,
        "userId": user,
        "eventId": event_id,
        "timestamp": moment,
        "receivedAt": received,
        "metadata": metadata,
        "outcome": {"pointsAwarded": 0, "totalPointsAwarded": 0},
    }


def largest_document(db: Any, collections: Iterable[str]) -> int:
    return max(len(bson.encode(doc)) for name in collections for doc in db[name].find())


def later_events_reach_the_reports(db: Any, event_id: str, now: datetime) -> None:
    """One more event, received after the run, on a new day: the next run counts it."""
    before = db.reports.find_one({"_id": f"{PROJECT}/{event_id}/all"})["count"]
    moment = now + timedelta(days=1)
    db.events.insert_one(event("late-user", event_id, moment, {"n": 1}, moment))
    stats = run_project(db, PROJECT, now=moment + timedelta(minutes=1))
    assert stats.failures.count == 0
    assert db.reports.find_one({"_id": f"{PROJECT}/{event_id}/all"})["count"] == before + 1


def test_a_day_of_multibyte_values_and_long_ids_is_stored_within_the_limit(db: Any) -> None:
    # The measurement: 1,001 distinct 256-character CJK values in each of 20 fields and
    # 10,000 user ids of 128 characters made a day partial of 17.6 MB.
    values = [[f"{'値' * 250}{f:02d}{v:04d}" for v in range(1001)] for f in range(20)]
    received = DAY_0 + timedelta(hours=23)
    records = []
    for n in range(10_000):
        fields = range(10) if n % 2 == 0 else range(10, 20)
        metadata = {f"field{f}": values[f][(n // 2) % 1001] for f in fields}
        user = f"{'用' * 120}{n:08d}"
        records.append(event(user, "big", DAY_0 + timedelta(seconds=n), metadata, received))
    db.events.insert_many(records)

    stats = run_project(db, PROJECT, now=received + timedelta(minutes=1))

    assert stats.failures.count == 0
    assert largest_document(db, ["report_partials", "insight_days", "reports"]) <= DOCUMENT_BUDGET
    partial = db.report_partials.find_one({"eventId": "big"})
    assert partial["count"] == 10_000 and partial["users"]["count"] == 10_000
    categorical = partial["fields"]["field0"]["categorical"]
    assert categorical["truncated"] and categorical["count"] == 5_000
    assert sum(v["count"] for v in categorical["values"]) + categorical["otherCount"] == 5_000
    later_events_reach_the_reports(db, "big", received)


def test_an_integer_at_the_int64_limit_stays_exact(db: Any) -> None:
    moment = DAY_0 + timedelta(hours=1)
    db.events.insert_many(
        [
            event("u1", "score", moment, {"big": 2**63 - 1, "low": -(2**63)}, moment),
            event("u2", "score", moment, {"big": 2**63 - 1, "low": 5}, moment),
        ]
    )

    stats = run_project(db, PROJECT, now=moment + timedelta(minutes=1))

    assert stats.failures.count == 0
    partial = db.report_partials.find_one({"eventId": "score"})
    assert partial["fields"]["big"]["numeric"]["max"] == 2**63 - 1
    assert partial["fields"]["low"]["numeric"]["min"] == -(2**63)
    report = db.reports.find_one({"_id": f"{PROJECT}/score/all"})
    assert report["fields"]["big"]["max"] == 2**63 - 1
    answer = breakdown_report(db, PROJECT, "score", "low", "big", "all", 20, moment)
    assert [(i["value"], i["stats"]["max"]) for i in answer["items"]] == [
        (-(2**63), 2**63 - 1),
        (5, 2**63 - 1),
    ]
    later_events_reach_the_reports(db, "score", moment)


def test_the_all_report_stays_storable_with_new_field_names_every_day(db: Any) -> None:
    # 20 new numeric field names a day for 250 days: the "all" report kept a field report per
    # name and a mean per name (null or not) on every day of its trend, over 16 MiB with
    # names of 40 characters, and the run failed to save it at every run from then on.
    records = []
    for day in range(250):
        moment = DAY_0 + timedelta(days=day, hours=1)
        for half in range(2):
            metadata = {f"d{day}_f{half * 10 + f}_{'x' * 30}": day + f for f in range(10)}
            records.append(event(f"u{half}", "dyn", moment, metadata, moment))
    today = (DAY_0 + timedelta(days=249)).date().isoformat()

    report = build_report(PROJECT, "dyn", day_partials(records), "all", today)
    ReportStore(db).save_report(report, "all", "run", DAY_0)

    assert len(bson.encode(report)) <= DOCUMENT_BUDGET
    assert report["count"] == 500 and report["fieldsTruncated"] is True
    assert len(report["fields"]) == REPORT_FIELD_LIMIT
    # The busiest fields are kept; here all hold one value, so the first names win.
    assert sorted(report["fields"])[0].startswith("d0_f0_")
    assert len(report["trend"]) == 250
    assert max(len(day["means"]) for day in report["trend"]) == TREND_MEAN_FIELDS


def test_a_failing_day_is_isolated_logged_and_listed_while_the_run_goes_on(
    db: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = batch.day_partials

    def poisoned(records: Iterable[Any]) -> list[dict[str, Any]]:
        records = list(records)
        if any(r["eventId"] == "poison" for r in records):
            raise ValueError("an input nobody foresaw")
        return real(records)

    monkeypatch.setattr(batch, "day_partials", poisoned)
    moment = DAY_0 + timedelta(hours=1)
    db.events.insert_many(
        [
            event("u1", "poison", moment, {}, moment),
            event("u1", "healthy", moment, {"platform": "ios"}, moment),
            event("u2", "healthy", moment + timedelta(days=1), {"platform": "web"}, moment),
        ]
    )
    now = moment + timedelta(days=1, hours=1)

    with caplog.at_level(logging.ERROR, logger="reports.analytics.batch"):
        stats = run_project(db, PROJECT, now=now)

    assert stats.failures.count == 1
    assert stats.failures.listed == [
        {
            "eventId": "poison",
            "day": "2026-03-02",
            "stage": "computing the partial",
            "error": "ValueError: an input nobody foresaw",
        }
    ]
    assert "poison/2026-03-02 failed" in caplog.text
    store = ReportStore(db)
    assert store.watermark(PROJECT) is not None  # moved, so later runs do not redo the day
    assert store.last_run(PROJECT)["lastRun"]["failures"] == stats.failures.listed
    assert db.reports.find_one({"_id": f"{PROJECT}/healthy/all"})["count"] == 2
    assert db.report_partials.find_one({"eventId": "poison"}) is None
    later_events_reach_the_reports(db, "healthy", now)
