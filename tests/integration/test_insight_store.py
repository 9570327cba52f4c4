"""The insight documents (reports.insights.days, reports.insights.store): users' first times merge
to the earliest and survive re-reading, an erasure removes the user from retention, days with
more values than kept say their breakdown counts are approximate, and documents stay
BSON-clean and within their encoded budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import numpy as np

from reports.analytics.runner import forget_user, run_project
from reports.bounds import DOCUMENT_BUDGET
from reports.insights.breakdown import breakdown
from reports.insights.days import VALUE_LIMIT, insight_days
from reports.insights.hashes import user_hash
from reports.insights.service import retention_report
from reports.insights.store import ANY_EVENT, InsightStore
from tests.conftest import PROJECT

DAY_0 = datetime(2026, 4, 6, tzinfo=UTC)  # a Monday


def event(user: str, event_id: str, moment: datetime, **metadata: Any) -> dict[str, Any]:
    return {
        "project": PROJECT,
        "userId": user,
        "eventId": event_id,
        "timestamp": moment,
        "receivedAt": moment,
        "metadata": metadata,
        "outcome": {"pointsAwarded": 0, "totalPointsAwarded": 0},
    }


def test_first_times_keep_the_earliest_and_a_second_merge_changes_nothing(db: Any) -> None:
    store = InsightStore(db)
    hashes = np.array([user_hash(u) for u in ("a", "b")], dtype=np.uint64)
    store.merge_firsts(PROJECT, "login", hashes, np.array([500, 900], dtype=np.int64))
    store.merge_firsts(PROJECT, "login", hashes, np.array([700, 100], dtype=np.int64))
    store.merge_firsts(PROJECT, "login", hashes, np.array([700, 100], dtype=np.int64))
    stored, times = store.firsts(PROJECT, "login")
    assert dict(zip(stored.tolist(), times.tolist(), strict=True)) == {
        int(hashes[0]): 500,
        int(hashes[1]): 100,
    }
    assert all(doc["version"] >= 1 for doc in db.user_firsts.find())


def test_an_erased_user_leaves_the_retention_cohorts(db: Any) -> None:
    db.events.insert_many(
        [
            event("ann", "login", DAY_0 + timedelta(hours=1)),
            event("bob", "login", DAY_0 + timedelta(hours=2)),
            event("bob", "login", DAY_0 + timedelta(days=1, hours=2)),
        ]
    )
    now = DAY_0 + timedelta(days=2)
    run_project(db, PROJECT, now=now)

    def cohorts() -> list[dict[str, Any]]:
        answer = retention_report(
            db,
            PROJECT,
            period="day",
            first=DAY_0.date().isoformat(),
            last=DAY_0.date().isoformat(),
            periods=2,
            now=now,
        )
        return list(answer["cohorts"])

    assert cohorts() == [{"start": "2026-04-06", "users": 2, "retained": [2, 1, 0]}]
    db.events.delete_many({"userId": "bob"})
    forget_user(db, PROJECT, "bob", now=now)
    assert cohorts() == [{"start": "2026-04-06", "users": 1, "retained": [1, 0, 0]}]
    hashes, _ = InsightStore(db).firsts(PROJECT, ANY_EVENT)
    assert user_hash("bob") not in hashes.tolist()


def test_a_day_with_more_values_than_kept_makes_its_counts_approximate() -> None:
    records = [
        event(f"u{n}", "level", DAY_0 + timedelta(seconds=n), levelId=n % (VALUE_LIMIT + 50))
        for n in range(3 * (VALUE_LIMIT + 50))
    ]
    records += [event("u0", "level", DAY_0 + timedelta(days=1), levelId=1)]
    days = insight_days(records)
    assert [d["fields"]["levelId"]["truncated"] for d in days] == [True, False]
    answer = breakdown(days, "levelId", None, 5)
    assert answer["approximate"] == ["count", "otherCount", "uniqueUsers"]
    assert answer["items"][0] == {"value": 1, "count": 4, "uniqueUsers": 4, "stats": None}
    assert answer["otherCount"] == len(records) - sum(i["count"] for i in answer["items"])


def test_insight_days_are_bson_clean_and_within_budget_with_many_fields_and_values() -> None:
    records = [
        event(
            f"{'用' * 100}{n}",
            "level",
            DAY_0 + timedelta(seconds=n),
            **{f"f{k}": f"{'値' * 200}{n % 400}" for k in range(10)},
            **{f"n{k}": n * k + 0.5 for k in range(10)},
        )
        for n in range(4_000)
    ]
    (day,) = insight_days(records)
    encoded = bson.encode(day)
    assert len(encoded) <= DOCUMENT_BUDGET
    assert bson.decode(encoded)["count"] == 4_000
    assert day["userCount"] == 4_000
    listing = day["fields"]["f0"]
    assert listing["distinct"] == 400 and listing["truncated"]
    assert sum(v["count"] for v in listing["values"]) + listing["otherCount"] == 4_000
