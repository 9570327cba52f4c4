"""Retention over a day that had to drop its user hashes (more distinct users of one eventId
on one UTC day than reports.insights.days.USER_HASH_LIMIT): the answer says `approximate` for the
figures that day could change, and stays exact (with `approximate` empty) where no such day is
involved. The cap is lowered for the test instead of storing half a million users."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from core import clock
from reports.analytics.runner import run_project
from reports.insights import days as insight_days
from reports.insights.service import retention_report
from tests.conftest import PROJECT

NOW = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
FIRST = date(2027, 3, 1)
CAP = 4


def record(user: str, event_id: str, day: date, minute: int = 0) -> dict[str, Any]:
    moment = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(minutes=minute)
    return {
        "project": PROJECT,
        "userId": user,
        "eventId": event_id,
        "timestamp": moment,
        "receivedAt": moment,
        "metadata": {},
        "outcome": {"pointsAwarded": 0, "totalPointsAwarded": 0},
    }


@pytest.fixture
def stored(db: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Ten users log in on March 1st (over the cap: a cohort's own day, which retention does
    not read the users of); u0-u2 come back on the 2nd (under the cap) and u0-u5 on the 3rd
    (over it: that day keeps no hashes); u9 buys on the 1st."""
    monkeypatch.setattr(insight_days, "USER_HASH_LIMIT", CAP)
    records = [record(f"u{n}", "login", FIRST, n) for n in range(10)]
    records += [record(f"u{n}", "login", FIRST + timedelta(days=1)) for n in range(3)]
    records += [record(f"u{n}", "login", FIRST + timedelta(days=2)) for n in range(6)]
    records += [record("u9", "buy", FIRST, 30)]
    db.events.insert_many(records)
    with clock.using(clock.frozen(NOW)):
        run_project(db, PROJECT, now=NOW)
    return db


def retention(db: Any, **query: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"period": "day", "first": "2027-03-01", "last": "2027-03-01"}
    return retention_report(db, PROJECT, **(arguments | query), now=NOW)


def test_the_over_cap_day_keeps_no_hashes_but_its_exact_user_count(stored: Any) -> None:
    days = {d["day"]: d for d in stored.insight_days.find({"eventId": "login"})}
    assert days["2027-03-03"]["users"] is None and days["2027-03-03"]["usersDropped"] is True
    assert days["2027-03-03"]["userCount"] == 6
    assert days["2027-03-02"]["users"] is not None and days["2027-03-02"]["userCount"] == 3


def test_retention_through_the_day_without_hashes_says_approximate(stored: Any) -> None:
    answer = retention(stored, periods=2)
    assert answer["approximate"] == ["retained"]
    (cohort,) = answer["cohorts"]
    assert cohort["users"] == 10  # cohorts come from first times, exact whatever the cap
    assert cohort["retained"][:2] == [10, 3]  # the day under the cap, exact
    # The day over the cap lost its users: its figure is a lower bound, and says so.
    assert cohort["retained"][2] <= 6


def test_retention_that_never_reads_that_day_stays_exact(stored: Any) -> None:
    answer = retention(stored, periods=1)
    assert answer["approximate"] == []
    assert answer["cohorts"] == [{"start": "2027-03-01", "users": 10, "retained": [10, 3]}]


def test_a_split_over_a_day_without_hashes_says_its_groups_are_approximate(
    stored: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The split event's day over the cap: who did it is unknown.
    monkeypatch.setattr(insight_days, "USER_HASH_LIMIT", 0)
    stored.events.insert_one(record("u1", "buy", FIRST, 40))
    with clock.using(clock.frozen(NOW)):
        run_project(stored, PROJECT, now=NOW, full=True)
    answer = retention(stored, periods=1, split="buy")
    assert set(answer["approximate"]) >= {"retained", "with", "without"}
    (cohort,) = answer["cohorts"]
    assert cohort["users"] == 10
    assert cohort["with"]["users"] + cohort["without"]["users"] == 10


def test_under_the_cap_the_same_questions_are_exact(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(insight_days, "USER_HASH_LIMIT", 10)
    records = [record(f"u{n}", "login", FIRST, n) for n in range(10)]
    records += [record(f"u{n}", "login", FIRST + timedelta(days=1)) for n in range(3)]
    records += [record(f"u{n}", "login", FIRST + timedelta(days=2)) for n in range(6)]
    db.events.insert_many(records)
    with clock.using(clock.frozen(NOW)):
        run_project(db, PROJECT, now=NOW)
    answer = retention(db, periods=2)
    assert answer["approximate"] == []
    assert answer["cohorts"] == [{"start": "2027-03-01", "users": 10, "retained": [10, 3, 6]}]
