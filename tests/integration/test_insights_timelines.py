"""Funnels over days whose insight document had to shed its timeline's columns, or the whole
timeline, to fit its size budget (reports.insights.days._fit): the answer is the raw events'
one, exact, and a funnel that the remaining timeline can still answer keeps using it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from core import clock
from reports.analytics.runner import run_project
from reports.bounds import encoded_size
from reports.insights import days as insight_days
from reports.insights.service import TimelinesCannotAnswer, funnel_report
from reports.insights.timelines import without_columns
from rules.engine.funnels import FunnelRule
from tests.conftest import PROJECT

NOW = datetime(2027, 5, 10, 12, 0, tzinfo=UTC)
DAY = datetime(2027, 5, 3, tzinfo=UTC)
PLAIN = FunnelRule.from_document({"steps": [{"eventId": "view"}, {"eventId": "buy"}]})
CONDITIONAL = FunnelRule.from_document(
    {
        "steps": [
            {"eventId": "view"},
            {"eventId": "buy", "conditions": {"field": "value", "op": "gte", "value": 10}},
        ]
    }
)


def records() -> list[dict[str, Any]]:
    out = []
    for n in range(40):
        for event_id, minute, metadata in (
            ("view", n, {"platform": ["ios", "web"][n % 2]}),
            ("buy", n + 30, {"value": n % 20, "note": "x" * 50}),
        ):
            moment = DAY + timedelta(minutes=minute)
            out.append(
                {
                    "_id": ObjectId(f"{len(out):024x}"),
                    "project": PROJECT,
                    "userId": f"u{n % 25}",
                    "eventId": event_id,
                    "timestamp": moment,
                    "receivedAt": moment,
                    "metadata": metadata,
                    "outcome": {"pointsAwarded": 0, "totalPointsAwarded": 0},
                }
            )
    return out


def answers(db: Any, funnel: FunnelRule, by: str | None = None) -> dict[str, Any]:
    return {
        read: funnel_report(db, PROJECT, funnel, "2027-05-03", "2027-05-03", by, read=read)
        for read in ("auto", "events")
    }


def budget_between_columns_and_none() -> int:
    """A budget that the buy day's document passes with its timeline's columns, and fits
    without them."""
    (doc,) = [d for d in insight_days.insight_days(records()) if d["eventId"] == "buy"]
    lean = {**doc, "timeline": without_columns(doc["timeline"])}
    return encoded_size(lean) + 16


@pytest.mark.parametrize("shed", ["columns", "timeline"])
def test_a_day_without_its_columns_or_timeline_is_answered_from_the_raw_events(
    db: Any, monkeypatch: pytest.MonkeyPatch, shed: str
) -> None:
    budget = budget_between_columns_and_none() if shed == "columns" else 1
    monkeypatch.setattr(insight_days, "DOCUMENT_BUDGET", budget)
    db.events.insert_many(records())
    with clock.using(clock.frozen(NOW)):
        run_project(db, PROJECT, now=NOW)
    buy = db.insight_days.find_one({"eventId": "buy"})
    if shed == "columns":
        assert buy["timeline"]["complete"] is False and buy["timeline"]["columns"] is None
    else:
        assert buy["timeline"] is None

    conditional = answers(db, CONDITIONAL, by="platform")
    assert conditional["auto"] == conditional["events"]
    assert [s["users"] for s in conditional["auto"]["steps"]] == [25, 15]
    with pytest.raises(TimelinesCannotAnswer):
        funnel_report(db, PROJECT, CONDITIONAL, "2027-05-03", "2027-05-03", read="timelines")

    plain = answers(db, PLAIN)
    assert plain["auto"] == plain["events"]
    if shed == "columns":  # user, time and record id are all a plain funnel needs
        timelines = funnel_report(db, PROJECT, PLAIN, "2027-05-03", "2027-05-03", read="timelines")
        assert timelines == plain["events"]


def test_a_segment_field_lost_with_the_entering_days_columns_is_read_from_the_raw_events(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (view,) = [d for d in insight_days.insight_days(records()) if d["eventId"] == "view"]
    lean = {**view, "timeline": without_columns(view["timeline"])}
    monkeypatch.setattr(insight_days, "DOCUMENT_BUDGET", encoded_size(lean) + 16)
    db.events.insert_many(records())
    with clock.using(clock.frozen(NOW)):
        run_project(db, PROJECT, now=NOW)
    assert db.insight_days.find_one({"eventId": "view"})["timeline"]["columns"] is None

    segmented = answers(db, PLAIN, by="platform")
    assert segmented["auto"] == segmented["events"]
    assert sorted(s["value"] for s in segmented["auto"]["segments"]) == ["ios", "web"]
    with pytest.raises(TimelinesCannotAnswer):
        funnel_report(db, PROJECT, PLAIN, "2027-05-03", "2027-05-03", "platform", read="timelines")


def test_a_step_reached_after_to_is_read_from_the_next_days_timeline(db: Any) -> None:
    late = [
        ("view", DAY + timedelta(hours=23, minutes=50)),  # enters on `to`
        ("buy", DAY + timedelta(days=1, minutes=10)),  # converts the next day
    ]
    db.events.insert_many(records())
    db.events.insert_many(
        [
            {
                "_id": ObjectId(f"{1000 + n:024x}"),
                "project": PROJECT,
                "userId": "late",
                "eventId": event_id,
                "timestamp": moment,
                "receivedAt": moment,
                "metadata": {},
                "outcome": {"pointsAwarded": 0, "totalPointsAwarded": 0},
            }
            for n, (event_id, moment) in enumerate(late)
        ]
    )
    with clock.using(clock.frozen(NOW)):
        run_project(db, PROJECT, now=NOW)

    timelines = funnel_report(db, PROJECT, PLAIN, "2027-05-03", "2027-05-03", read="timelines")
    assert timelines == answers(db, PLAIN)["events"]
    assert [s["users"] for s in timelines["steps"]] == [26, 26]
