"""Insights (docs/api.md#insights) through the Flask client, each answer checked against an
independent pandas computation on the raw events (tests.integration.insight_oracle): random and
skewed data, timestamps written in several timezones, late events that arrive after a run, funnels
with repeated and out-of-order steps and users who enter twice, retention across a month boundary
and across the ISO-week year boundary of 2026/2027."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import fakeredis
import pytest

from core import clock
from core.clients import Clients
from core.settings import Settings
from reports.analytics.runner import run_project
from reports.insights.service import funnel_report
from rules.engine.funnels import FunnelRule
from tests.conftest import TEST_SECRET
from tests.integration import insight_oracle as oracle
from web import create_app
from web.auth import mint_token

Auth = Callable[..., dict[str, str]]

NOW = datetime(2027, 1, 12, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
FIRST = datetime(2026, 11, 20, tzinfo=UTC)
DAYS = (NOW - FIRST).days + 1


@pytest.fixture
def frozen() -> Iterator[None]:
    with clock.using(clock.frozen(NOW)):
        yield


@dataclass(frozen=True)
class World:
    client: Any
    db: Any
    events: list[dict[str, Any]]
    settings: Settings

    def get(self, path: str, **query: Any) -> dict[str, Any]:
        headers = self.headers("reports:read")
        response = self.client.get(path, query_string=query, headers=headers)
        assert response.status_code == 200, response.json
        assert response.json["success"] is True
        data: dict[str, Any] = response.json["data"]
        return data

    def define_funnel(self, funnel_id: str, body: dict[str, Any]) -> None:
        response = self.client.put(
            f"/admin/funnels/{funnel_id}", json=body, headers=self.headers("admin")
        )
        assert response.status_code == 200, response.json

    def headers(self, scope: str) -> dict[str, str]:
        token = mint_token(self.settings.signing_keys(), oracle.PROJECT, scope.split())
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One store for the module (a run over it takes seconds on the in-memory store): random
    skewed events, a run, late events for earlier days, another run."""
    with clock.using(clock.frozen(NOW)):
        settings = Settings(jwt_secret=TEST_SECRET, rate_limit="100000/minute")
        clients = Clients(settings)
        clients.__dict__["redis"] = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        app = create_app(settings, clients)
        db = clients.mongo
        rng = random.Random(13)
        events = oracle.random_events(rng, 1500, FIRST, DAYS - 1, 80, NOW - timedelta(hours=3))
        db.events.insert_many([dict(e) for e in events])
        run_project(db, oracle.PROJECT, now=NOW - timedelta(hours=2))
        late = oracle.random_events(rng, 200, FIRST, DAYS, 90, NOW - timedelta(minutes=30))
        late = [e for e in late if e["timestamp"] <= NOW]
        db.events.insert_many([dict(e) for e in late])
        second = run_project(db, oracle.PROJECT, now=NOW)
        assert not second.full and second.new_events == len(late)
        yield World(app.test_client(), db, events + late, settings)


def get(client: Any, auth: Auth, path: str, **query: Any) -> dict[str, Any]:
    response = client.get(path, query_string=query, headers=auth("reports:read"))
    assert response.status_code == 200, response.json
    assert response.json["success"] is True
    data: dict[str, Any] = response.json["data"]
    return data


def close(a: float | None, b: float | None, rel: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


@pytest.mark.parametrize(
    ("event_id", "by", "field", "window", "limit"),
    [
        ("purchase", "platform", "orderValue", "30d", 20),
        ("purchase", "firstOrder", "orderValue", "all", 20),
        ("level", "levelId", "timeToComplete", "7d", 3),
        ("level", "platform", "timeToComplete", "all", 20),
        ("login", "flag", None, "all", 20),
        ("view", "platform", None, "30d", 1),
        ("view", "nosuchfield", "orderValue", "30d", 20),
    ],
)
def test_breakdown_matches_pandas_on_the_raw_events(
    world: World,
    event_id: str,
    by: str,
    field: str | None,
    window: str,
    limit: int,
) -> None:
    query = {"by": by, "window": window, "limit": limit} | ({"field": field} if field else {})
    data = world.get(f"/analytics/events/{event_id}/breakdown", **query)

    events = oracle.frame(world.events)
    first = {"7d": TODAY - timedelta(days=6), "30d": TODAY - timedelta(days=29), "all": None}
    expected = oracle.breakdown(events, event_id, first[window], TODAY, by, field, limit)
    assert (data["eventId"], data["by"], data["field"], data["window"]) == (
        event_id,
        by,
        field,
        window,
    )
    assert data["to"] == TODAY.isoformat()
    got = [
        (i["value"], type(i["value"]).__name__, i["count"], i["uniqueUsers"]) for i in data["items"]
    ]
    want = [
        (i["value"], type(i["value"]).__name__, i["count"], i["uniqueUsers"])
        for i in expected["items"]
    ]
    assert got == want
    assert data["otherCount"] == expected["otherCount"]
    assert data["approximate"] == (["p50", "p90"] if field else [])
    for item, truth in zip(data["items"], expected["items"], strict=True):
        if field is None:
            assert item["stats"] is None
            continue
        stats, exact = item["stats"], truth["stats"]
        assert stats["count"] == exact["count"]
        assert close(stats["mean"], exact["mean"])
        assert close(stats["min"], exact["min"]) and close(stats["max"], exact["max"])
        for name in ("p50", "p90"):
            if exact["count"] == 0:
                assert stats[name] is None
            else:  # the sketch's bound: within 1 % of the value at rank ceil(q n)
                assert abs(stats[name] - exact[name]) <= 0.01 * abs(exact[name]) + 1e-9


def test_breakdown_keeps_json_types_apart_and_ranks_null_like_any_value(world: World) -> None:
    data = world.get("/analytics/events/login/breakdown", by="flag", window="all")
    values = [item["value"] for item in data["items"]]
    # true and 1 (and 1.0, which is 1) are different values; "1" is a string; null included
    assert None in values and True in values and "1" in values
    assert len([v for v in values if v is True]) == 1
    assert len([v for v in values if v == 1 and v is not True]) == 1
    counts = [item["count"] for item in data["items"]]
    assert counts == sorted(counts, reverse=True)


STEPS = [
    {"eventId": "login"},
    {"eventId": "view", "conditions": {"field": "platform", "op": "in", "value": ["ios", "web"]}},
    {"eventId": "view"},
    {"eventId": "purchase", "conditions": {"field": "orderValue", "op": "gte", "value": 10}},
]
ORACLE_STEPS: list[tuple[str, oracle.Condition | None]] = [
    ("login", None),
    ("view", lambda m: m.get("platform") in ("ios", "web")),
    ("view", None),
    (
        "purchase",
        lambda m: isinstance(m.get("orderValue"), int | float) and m["orderValue"] >= 10,
    ),
]


@pytest.mark.parametrize(
    ("first", "last", "window_seconds", "by"),
    [
        (date(2026, 12, 14), TODAY, 604_800, None),
        (date(2026, 11, 20), date(2026, 12, 31), 3 * 86_400, "platform"),
        (date(2027, 1, 1), date(2027, 1, 5), 60, "platform"),
    ],
)
def test_funnel_matches_a_brute_force_walk_of_the_raw_events(
    world: World,
    first: date,
    last: date,
    window_seconds: int,
    by: str | None,
) -> None:
    world.define_funnel(
        "engage", {"name": "Engage", "steps": STEPS, "windowSeconds": window_seconds}
    )
    query = {"from": first.isoformat(), "to": last.isoformat()} | ({"by": by} if by else {})
    data = world.get("/analytics/funnels/engage", **query)

    expected = oracle.funnel(
        oracle.frame(world.events), ORACLE_STEPS, first, last, window_seconds, by
    )
    assert data["funnelId"] == "engage"
    assert (data["from"], data["to"]) == (first.isoformat(), last.isoformat())
    assert_steps(data["steps"], expected["steps"])
    assert data["steps"][0]["users"] > 0
    assert [s["value"] for s in data["segments"]] == [s["value"] for s in expected["segments"]]
    for segment, truth in zip(data["segments"], expected["segments"], strict=True):
        assert_steps(segment["steps"], truth["steps"])


def assert_steps(steps: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert [s["users"] for s in steps] == [s["users"] for s in expected]
    for step, truth in zip(steps, expected, strict=True):
        assert step["eventId"] == truth["eventId"]
        for name in ("conversion", "stepConversion", "medianSecondsFromPrevious"):
            assert close(step[name], truth[name]), (name, step, truth)


@pytest.mark.parametrize(
    ("period", "first", "last", "periods", "cohort_event", "return_event", "split"),
    [
        # Across a month boundary, by day; the last periods have not begun yet.
        ("day", date(2026, 11, 25), date(2026, 12, 6), 8, None, None, None),
        # Across the ISO-week year boundary: weeks of 2026-12-28 (W53) and 2027-01-04 (W01).
        ("week", date(2026, 12, 28), date(2027, 1, 10), 4, None, None, "purchase"),
        ("week", date(2026, 11, 20), date(2027, 1, 12), 8, "view", "purchase", None),
        ("day", date(2027, 1, 1), date(2027, 1, 12), 3, "login", "login", "view"),
    ],
)
def test_retention_matches_pandas_on_the_raw_events(
    world: World,
    period: str,
    first: date,
    last: date,
    periods: int,
    cohort_event: str | None,
    return_event: str | None,
    split: str | None,
) -> None:
    query: dict[str, Any] = {
        "period": period,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "periods": periods,
    }
    optional = {"cohortEvent": cohort_event, "returnEvent": return_event, "split": split}
    query |= {k: v for k, v in optional.items() if v is not None}
    data = world.get("/analytics/retention", **query)

    expected = oracle.retention(
        oracle.frame(world.events),
        period,
        first,
        last,
        periods,
        TODAY,
        cohort_event,
        return_event,
        split,
    )
    assert data["period"] == period and data["approximate"] == []
    assert data["cohorts"] == expected
    assert expected and all(len(c["retained"]) == periods + 1 for c in expected)


def test_week_cohorts_start_on_mondays_across_the_year_boundary(world: World) -> None:
    days = {"from": "2026-12-27", "to": "2027-01-10"}
    data = world.get("/analytics/retention", period="week", **days)
    assert [c["start"] for c in data["cohorts"]] == ["2026-12-28", "2027-01-04"]
    assert data["cohorts"][1]["retained"][2] is None  # 2027-01-18 has not begun on 2027-01-12


def test_answers_follow_events_sent_through_the_api_with_utc_offsets(
    client: Any, auth: Auth, define: Any, db: Any, frozen: None
) -> None:
    for event_id in ("login", "purchase"):
        define("events", event_id, {})
    sent = [
        ("login", "ann", "2026-12-31T23:30:00-05:00", {"platform": "ios"}),  # 2027-01-01 UTC
        ("purchase", "ann", "2027-01-01T09:00:00+09:00", {"orderValue": 30}),  # 2027-01-01 00:00
        ("login", "bob", "2027-01-02T01:00:00+05:30", {"platform": "web"}),  # 2027-01-01 19:30
        ("login", "bob", "2027-01-05T12:00:00Z", {"platform": "web"}),
    ]
    for event_id, user, moment, metadata in sent:
        response = client.post(
            "/event",
            json={"eventId": event_id, "userId": user, "timestamp": moment, "metadata": metadata},
            headers=auth("events:write events:import"),
        )
        assert response.status_code == 200, response.json
    run_project(db, oracle.PROJECT, now=NOW)

    retention = get(
        client,
        auth,
        "/analytics/retention",
        period="day",
        periods=4,
        **{"from": "2027-01-01", "to": "2027-01-02"},
    )
    assert retention["cohorts"] == [
        {"start": "2027-01-01", "users": 2, "retained": [2, 0, 0, 0, 1]}
    ]
    breakdown = get(client, auth, "/analytics/events/login/breakdown", by="platform", window="all")
    assert [(i["value"], i["count"], i["uniqueUsers"]) for i in breakdown["items"]] == [
        ("web", 2, 1),
        ("ios", 1, 1),
    ]
    define("funnels", "buy", {"steps": [{"eventId": "login"}, {"eventId": "purchase"}]})
    funnel = get(
        client, auth, "/analytics/funnels/buy", **{"from": "2027-01-01", "to": "2027-01-01"}
    )
    # ann's purchase (00:00 UTC) came before her login (04:30 UTC): not a conversion.
    assert [s["users"] for s in funnel["steps"]] == [2, 0]


@pytest.mark.parametrize(
    ("first", "last", "window_seconds", "by"),
    [
        (date(2026, 11, 20), date(2026, 12, 31), 3 * 86_400, "platform"),
        (date(2026, 12, 14), TODAY, 604_800, None),
        (date(2027, 1, 1), date(2027, 1, 5), 60, "levelId"),
    ],
)
def test_funnels_from_the_stored_timelines_equal_those_from_the_raw_events(
    world: World, first: date, last: date, window_seconds: int, by: str | None
) -> None:
    # The same funnels through both paths of reports.insights.service, conditions included.
    funnel = FunnelRule.from_document({"steps": STEPS, "windowSeconds": window_seconds})
    answers = {
        read: funnel_report(
            world.db, oracle.PROJECT, funnel, first.isoformat(), last.isoformat(), by, read=read
        )
        for read in ("timelines", "events", "auto")
    }
    assert answers["timelines"] == answers["events"] == answers["auto"]
    assert answers["timelines"]["steps"][0]["users"] > 0
