"""The report run on the store (reports.analytics.runner): incremental runs equal a full
recomputation, late events re-aggregate their day only, the overlap never counts twice, documents
are BSON-clean, and events are read with a projection, in batches."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reports.analytics.frames import EVENT_PROJECTION
from reports.analytics.partials import day_partials
from reports.analytics.runner import build_report, forget_user, plan_batches, run_project
from reports.analytics.store import ReportStore, without_store_fields
from reports.source import DayRange
from reports.windows import WINDOWS, day_key
from rules.engine.evaluation import Event
from rules.usecases.reconcile import sweep_pending
from rules.usecases.record import record_event
from tests.support.watched import Crash, CrashingDatabase
from tests.unit.reports.factories import DAY_0, PROJECT, bson_problems, day_of, record

# Day 9 after DAY_0, at noon.
NOW = DAY_0 + timedelta(days=9, hours=12)
PLATFORMS = ["ios", "android", "web"]


def event(
    day: int,
    received: datetime,
    user: int = 1,
    event_id: str = "purchase",
    seconds: int = 3600,
    **metadata: Any,
) -> dict[str, Any]:
    return {
        **record(f"u{user}", day, metadata, event_id, seconds, points=2 * user),
        "receivedAt": received,
    }


def random_events(rng: random.Random, n: int, days: range, received: datetime) -> list[Any]:
    events = []
    for _ in range(n):
        metadata: dict[str, Any] = {"platform": rng.choice(PLATFORMS)}
        if rng.random() < 0.8:
            metadata["orderValue"] = round(rng.uniform(1, 300), 2)
        if rng.random() < 0.5:
            metadata["firstOrder"] = rng.random() < 0.3
        events.append(
            event(
                rng.choice(days),
                received,
                user=rng.randrange(40),
                event_id=rng.choice(["purchase", "daily_login"]),
                seconds=rng.randrange(86_400),
                **metadata,
            )
        )
    return events


def stored_partials(db: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["eventId"], doc["day"]): doc for doc in db.report_partials.find()}


def stored_reports(db: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["eventId"], doc["window"]): doc for doc in db.reports.find()}


def recomputed_partials(db: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Every day computed again from all stored events at once."""
    records = list(db.events.find({"project": PROJECT}, EVENT_PROJECTION))
    return {(p["eventId"], p["day"]): p for p in day_partials(records)}


def test_incremental_runs_equal_a_full_recomputation(db: Any) -> None:
    rng = random.Random(6)
    db.events.insert_many(random_events(rng, 400, range(9), NOW - timedelta(hours=2)))
    first = run_project(db, PROJECT, now=NOW)
    # Later: today's events, late events for earlier days, and an eventId never seen before.
    later = NOW + timedelta(hours=1)
    db.events.insert_many(random_events(rng, 150, range(9, 10), later - timedelta(minutes=30)))
    db.events.insert_many(random_events(rng, 20, range(2, 6), later - timedelta(minutes=20)))
    db.events.insert_many([event(9, later - timedelta(minutes=1), event_id="level_completed")])
    second = run_project(db, PROJECT, now=later)

    assert first.full and not second.full
    assert second.new_events == 171
    expected = recomputed_partials(db)
    stored = stored_partials(db)
    assert stored.keys() == expected.keys()
    for key, partial in expected.items():
        assert without_store_fields(stored[key]) == partial, key
    reports = stored_reports(db)
    today = day_key(later)
    for event_id in ("purchase", "daily_login", "level_completed"):
        partials = sorted(
            (p for (e, _), p in expected.items() if e == event_id), key=lambda p: p["day"]
        )
        for window in WINDOWS:
            report = without_store_fields(reports[(event_id, window)])
            assert report == build_report(PROJECT, event_id, partials, window, today)


def test_the_all_window_report_matches_the_raw_events(db: Any) -> None:
    rng = random.Random(7)
    db.events.insert_many(random_events(rng, 300, range(10), NOW - timedelta(hours=1)))
    run_project(db, PROJECT, now=NOW)
    db.events.insert_many(random_events(rng, 50, range(10), NOW + timedelta(minutes=5)))
    run_project(db, PROJECT, now=NOW + timedelta(minutes=10))

    raw = list(db.events.find({"project": PROJECT, "eventId": "purchase"}))
    report = ReportStore(db).report(PROJECT, "purchase", "all")
    assert report is not None
    values = [e["metadata"]["orderValue"] for e in raw if "orderValue" in e["metadata"]]
    order_value = report["fields"]["orderValue"]
    assert report["count"] == len(raw)
    assert report["uniqueUsers"] == len({e["userId"] for e in raw})
    assert report["pointsAwarded"] == sum(e["outcome"]["pointsAwarded"] for e in raw)
    assert order_value["count"] == len(values)
    assert order_value["missing"] == len(raw) - len(values)
    assert order_value["min"] == min(values) and order_value["max"] == max(values)
    assert order_value["mean"] == pytest.approx(statistics.fmean(values), rel=1e-12)
    assert order_value["std"] == pytest.approx(statistics.stdev(values), rel=1e-9)
    platforms = {item["value"]: item["count"] for item in report["fields"]["platform"]["top"]}
    assert platforms == {p: sum(e["metadata"]["platform"] == p for e in raw) for p in PLATFORMS}
    assert [day["day"] for day in report["trend"]] == [day_of(n) for n in range(10)]
    assert [day["count"] for day in report["trend"]] == [
        sum(day_key(e["timestamp"]) == day_of(n) for e in raw) for n in range(10)
    ]


def test_a_late_event_re_aggregates_its_day_only(db: Any) -> None:
    db.events.insert_many(
        [event(day, NOW - timedelta(hours=3), user=day, orderValue=day) for day in range(10)]
    )
    first = run_project(db, PROJECT, now=NOW)
    before = stored_partials(db)
    assert {doc["runId"] for doc in before.values()} == {first.run_id}

    late_received = NOW + timedelta(minutes=30)
    db.events.insert_many([event(3, late_received, user=99, orderValue=1000)])
    second = run_project(db, PROJECT, now=late_received + timedelta(minutes=5))

    after = stored_partials(db)
    changed = {key for key, doc in after.items() if doc["runId"] == second.run_id}
    assert changed == {("purchase", day_of(3))}
    assert (second.new_events, second.days_touched, second.events) == (1, 1, 2)
    for key, doc in before.items():
        if key not in changed:
            assert after[key] == doc  # untouched: same runId, same updatedAt, same content
    late_day = after[("purchase", day_of(3))]
    assert late_day["count"] == 2
    assert late_day["fields"]["orderValue"]["numeric"]["max"] == 1000
    assert late_day["updatedAt"] > before[("purchase", day_of(3))]["updatedAt"]
    assert ReportStore(db).report(PROJECT, "purchase", "all")["count"] == 11  # type: ignore[index]


def test_events_inside_the_overlap_are_read_again_but_never_counted_twice(db: Any) -> None:
    # Received 5 minutes before the first run: inside the next run's 15-minute overlap.
    db.events.insert_many([event(9, NOW - timedelta(minutes=5), user=n) for n in range(30)])
    run_project(db, PROJECT, now=NOW)
    first_report = ReportStore(db).report(PROJECT, "purchase", "7d")

    again = run_project(db, PROJECT, now=NOW + timedelta(minutes=1))

    assert again.new_events == 30  # re-read through the overlap ...
    report = ReportStore(db).report(PROJECT, "purchase", "7d")
    assert report is not None and first_report is not None
    assert report["count"] == first_report["count"] == 30  # ... and counted once
    assert report["uniqueUsers"] == 30
    assert stored_partials(db)[("purchase", day_of(9))]["count"] == 30


def test_a_run_past_the_overlap_reads_nothing(db: Any) -> None:
    db.events.insert_many([event(9, NOW - timedelta(hours=1))])
    run_project(db, PROJECT, now=NOW)

    later = run_project(db, PROJECT, now=NOW + timedelta(hours=1))

    assert (later.new_events, later.events, later.days_touched, later.partials_written) == (
        0,
        0,
        0,
        0,
    )


def test_stored_partials_reports_and_watermarks_are_bson_clean(db: Any) -> None:
    rng = random.Random(8)
    db.events.insert_many(random_events(rng, 200, range(10), NOW - timedelta(hours=1)))
    db.events.insert_many(
        [event(9, NOW - timedelta(hours=1), big=2**62, tiny=1e-300, note="ünïcode", none=None)]
    )
    run_project(db, PROJECT, now=NOW)

    for name in ("report_partials", "reports", "report_watermarks"):
        documents = list(db[name].find())
        assert documents, name
        for document in documents:
            assert bson_problems(document) == [], (name, document["_id"])


def test_the_watermark_moves_to_the_run_start_and_never_back(db: Any) -> None:
    db.events.insert_many([event(9, NOW - timedelta(hours=1))])
    run_project(db, PROJECT, now=NOW)
    assert ReportStore(db).watermark(PROJECT) == NOW

    run_project(db, PROJECT, now=NOW - timedelta(hours=2))  # a slow run that started earlier

    assert ReportStore(db).watermark(PROJECT) == NOW
    summary = db.report_watermarks.find_one({"_id": PROJECT})["lastRun"]
    assert summary["full"] is False and summary["startedAt"] == NOW - timedelta(hours=2)


def test_an_event_record_written_late_by_the_sweep_is_still_counted(db: Any, define: Any) -> None:
    define("events", "purchase", {"points": {"fixed": 2}})
    received = NOW - timedelta(hours=1)
    with pytest.raises(Crash):  # applied to the user; its event record is left pending
        record_event(
            CrashingDatabase(db, survive=1),
            PROJECT,
            Event("purchase", "u1", received),
            received_at=received,
        )
    run_project(db, PROJECT, now=NOW)
    assert ReportStore(db).watermark(PROJECT) == received  # held back by the pending record

    assert sweep_pending(db, NOW + timedelta(minutes=1)) == 1  # the record, an hour late
    run_project(db, PROJECT, now=NOW + timedelta(hours=1))

    report = ReportStore(db).report(PROJECT, "purchase", "all")
    assert report is not None and report["count"] == 1
    assert ReportStore(db).watermark(PROJECT) == NOW + timedelta(hours=1)


def test_a_full_run_drops_days_whose_events_are_gone(db: Any) -> None:
    db.events.insert_many([event(day, NOW - timedelta(hours=1), user=day) for day in (7, 8, 9)])
    run_project(db, PROJECT, now=NOW)
    db.events.delete_many({"userId": "u8"})  # e.g. a user erased

    stats = run_project(db, PROJECT, now=NOW + timedelta(hours=1), full=True)

    assert stats.full and stats.days_touched == 2
    assert set(stored_partials(db)) == {("purchase", day_of(7)), ("purchase", day_of(9))}
    assert ReportStore(db).report(PROJECT, "purchase", "7d")["count"] == 2  # type: ignore[index]


def test_a_full_run_keeps_the_partials_a_concurrent_run_wrote_meanwhile(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.events.insert_many([event(day, NOW - timedelta(hours=1), user=day) for day in (7, 8)])
    save = ReportStore.save_partials
    late: list[dict[str, Any]] = []

    def save_beside_a_later_run(store: ReportStore, *args: Any) -> int:
        written = save(store, *args)
        if not late:  # meanwhile, a run started after this one writes a new day
            late.append(event(9, NOW + timedelta(minutes=1)))
            db.events.insert_one(late[0])
            save(store, day_partials(late), "later-run", NOW + timedelta(minutes=2))
        return written

    monkeypatch.setattr(ReportStore, "save_partials", save_beside_a_later_run)
    run_project(db, PROJECT, now=NOW, full=True)

    assert stored_partials(db)[("purchase", day_of(9))]["runId"] == "later-run"
    assert set(stored_partials(db)) == {("purchase", day_of(d)) for d in (7, 8, 9)}


def test_reports_are_rebuilt_after_midnight_without_new_events(db: Any) -> None:
    db.events.insert_many([event(day, NOW - timedelta(hours=1)) for day in range(10)])
    run_project(db, PROJECT, now=NOW)
    assert ReportStore(db).report(PROJECT, "purchase", "7d")["count"] == 7  # type: ignore[index]

    next_day = run_project(db, PROJECT, now=NOW + timedelta(days=1))

    assert (next_day.events, next_day.reports_built) == (0, 3)
    report = ReportStore(db).report(PROJECT, "purchase", "7d")
    assert report is not None
    assert (report["from"], report["to"], report["count"]) == (day_of(4), day_of(10), 6)


def test_small_chunks_give_the_same_partials_as_one(db: Any) -> None:
    rng = random.Random(9)
    db.events.insert_many(random_events(rng, 300, range(10), NOW - timedelta(hours=1)))

    chunked = run_project(db, PROJECT, now=NOW, chunk_events=25)

    assert chunked.queries > 5  # one per planned batch, plus the scan of days
    assert {k: without_store_fields(v) for k, v in stored_partials(db).items()} == (
        recomputed_partials(db)
    )


def test_empty_projects_and_unknown_projects_run_to_nothing(db: Any) -> None:
    stats = run_project(db, "nobody", now=NOW)

    assert (stats.events, stats.partials_written, stats.reports_built) == (0, 0, 0)
    assert ReportStore(db).watermark("nobody") == NOW


class CursorSpy:
    def __init__(self, cursor: Any, calls: dict[str, Any]) -> None:
        self._cursor, self._calls = cursor, calls

    def hint(self, index: str) -> CursorSpy:
        self._calls["hint"] = index
        self._cursor = self._cursor.hint(index)
        return self

    def batch_size(self, size: int) -> CursorSpy:
        self._calls["batch_size"] = size
        self._cursor = self._cursor.batch_size(size)
        return self

    def __iter__(self) -> Any:
        return iter(self._cursor)


def test_runs_read_events_with_a_projection_in_batches(db: Any, monkeypatch: Any) -> None:
    db.events.insert_many([event(day, NOW - timedelta(hours=1)) for day in range(10)])
    events = db["events"]
    reads: list[dict[str, Any]] = []
    find = events.find

    def spying_find(query: Any, projection: Any = None, **kwargs: Any) -> CursorSpy:
        calls = {"query": query, "projection": projection}
        reads.append(calls)
        return CursorSpy(find(query, projection, **kwargs), calls)

    monkeypatch.setattr(events, "find", spying_find)
    run_project(db, PROJECT, now=NOW, batch_size=123)
    db.events.insert_many([event(9, NOW + timedelta(minutes=1))])
    run_project(db, PROJECT, now=NOW + timedelta(minutes=2), batch_size=123)

    assert [read.get("hint") for read in reads] == [
        "project_event_timestamp",  # the full run's scan of days, covered by that index
        None,  # the days, by $or of index ranges
        "project_received",  # the increment
        None,
    ]
    for read in reads:
        assert read["batch_size"] == 123
        assert read["projection"] in (EVENT_PROJECTION, {"_id": 0, "eventId": 1, "timestamp": 1})
    assert reads[-1]["projection"] == EVENT_PROJECTION
    assert reads[-1]["query"]["eventId"] == "purchase"  # one clause: today's day range
    assert reads[-1]["query"]["timestamp"]["$gte"] == datetime(2024, 3, 10, tzinfo=UTC)


def test_plan_batches_groups_consecutive_days_and_bounds_each_query() -> None:
    days = {("a", day_of(n)): 10 for n in range(5)} | {("b", day_of(0)): 500}
    days[("a", day_of(7))] = 10

    assert plan_batches(days, chunk_events=30) == [
        [DayRange("a", day_of(0), day_of(2))],
        [DayRange("a", day_of(3), day_of(4)), DayRange("a", day_of(7), day_of(7))],
        [DayRange("b", day_of(0), day_of(0))],  # larger than a chunk: alone, whole
    ]
    assert plan_batches(days, chunk_events=10_000, max_clauses=2) == [
        [DayRange("a", day_of(0), day_of(4)), DayRange("a", day_of(7), day_of(7))],
        [DayRange("b", day_of(0), day_of(0))],
    ]
    assert plan_batches({}) == []


def test_forgetting_an_erased_user_recomputes_only_the_days_that_listed_them(db: Any) -> None:
    db.events.insert_many(
        [event(day, NOW - timedelta(hours=1), user=day % 3) for day in range(6)]
        + [event(1, NOW - timedelta(hours=1), user=2, seconds=7200)]
        + [event(2, NOW - timedelta(hours=1), user=7, event_id="daily_login")]
    )
    first = run_project(db, PROJECT, now=NOW)
    db.events.delete_many({"userId": "u1"})  # the user's erasure (rules/, DELETE /users/…)

    stats = forget_user(db, PROJECT, "u1", now=NOW + timedelta(minutes=1))

    assert (stats.days_touched, stats.partials_deleted) == (2, 1)  # day 4 held only u1
    partials = stored_partials(db)
    assert not [key for key, doc in partials.items() if "u1" in doc["users"]["ids"]]
    recomputed = {key for key, doc in partials.items() if doc["runId"] == stats.run_id}
    assert recomputed == {("purchase", day_of(1))}
    assert partials[("purchase", day_of(1))]["users"] == {"count": 1, "ids": ["u2"], "sketch": None}
    assert {doc["runId"] for k, doc in partials.items() if k not in recomputed} == {first.run_id}
    assert ReportStore(db).report(PROJECT, "purchase", "all")["count"] == 5  # type: ignore[index]
    assert ReportStore(db).watermark(PROJECT) == NOW
