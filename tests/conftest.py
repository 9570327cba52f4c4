"""Fixtures shared by every test: settings, an app on a fresh in-memory MongoDB, a clean Redis.

Clock: LAUREL_TEST_CLOCK=<ISO-8601 moment> starts Laurel's clock (core.clock) at that moment for
the whole run, running on from there, so the suite can be proved on any date: a year ahead, or
the last minute of a month, an ISO week and a year (`make test-shifted`).

Hypothesis: one profile for the suite, registered here. No example has a deadline and no
health check times data generation (both are wall-clock limits a busy machine breaks); under CI
(LAUREL_CI=1, which .ci/run exports, or CI set) examples are derandomized and no example
database is kept, so a run is the same on every machine. A test may set its own max_examples.

Redis: the tests use LAUREL_TEST_REDIS_URL (default redis://127.0.0.1:6379/12), flushed before
and after each test that touches it. When none answers, they fall back to fakeredis and say so
in the report header, unless LAUREL_TEST_REQUIRE_REDIS=1 (CI), which fails the run instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import fakeredis
import pytest
import redis
from hypothesis import HealthCheck, settings

from core import clock, query_audit
from core.clients import Clients
from core.settings import Settings
from jobs.queue import InProcessQueue
from reports.indexes import ensure_indexes as ensure_report_indexes
from rules.stores.indexes import ensure_indexes
from tests.query_audit import audit as audit_shapes
from tests.support.webhooks import Receiver, serving
from web import create_app
from web.auth import mint_token

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
IN_CI = bool(os.environ.get("LAUREL_CI") or os.environ.get("CI"))

settings.register_profile("laurel", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "laurel-ci", settings.get_profile("laurel"), derandomize=True, database=None, print_blob=True
)
settings.load_profile("laurel-ci" if IN_CI else "laurel")
PROJECT = "acme"
REDIS_URL = os.environ.get("LAUREL_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


_REAL_REDIS = _redis_answers(REDIS_URL)


def pytest_report_header() -> list[str]:
    lines = [f"clock: {clock.now().isoformat()} at session start"]
    if _REAL_REDIS:
        return [*lines, f"redis: {REDIS_URL} (flushed around each test)"]
    return [
        *lines,
        f"NOTICE: no Redis answered at {REDIS_URL}; Redis-backed tests use fakeredis and "
        "in-memory rate limits instead",
    ]


def _shift_clock() -> None:
    start = os.environ.get("LAUREL_TEST_CLOCK")
    if start:
        moment = datetime.fromisoformat(start.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise pytest.UsageError("LAUREL_TEST_CLOCK needs a timezone, e.g. 2028-12-31T23:59Z")
        clock.set_source(clock.shifted(moment - datetime.now(UTC)))


_shift_clock()  # before collection: modules that read the clock at import see the shifted one


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _REAL_REDIS and os.environ.get("LAUREL_TEST_REQUIRE_REDIS") == "1":
        raise pytest.UsageError(f"LAUREL_TEST_REQUIRE_REDIS=1 but no Redis at {REDIS_URL}")


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    if not _REAL_REDIS:
        yield fakeredis.FakeRedis(server=fakeredis.FakeServer())
        return
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def settings() -> Settings:
    return Settings(
        redis_url=REDIS_URL if _REAL_REDIS else None,
        jwt_secret=TEST_SECRET,
        rate_limit="100000/minute",
        webhook_allow_private=True,  # the tests' webhook receivers listen on 127.0.0.1
    )


@pytest.fixture
def clients(settings: Settings, redis_client: redis.Redis) -> Iterator[Clients]:
    clients = Clients(settings)
    clients.__dict__["redis"] = redis_client  # the flushed client, not a new connection
    yield clients
    # No delivery or retry of this test may run (and count in the process-wide metrics)
    # during a later one.
    queue = clients.__dict__.get("_job_queue")
    if isinstance(queue, InProcessQueue) and not queue.close():
        pytest.fail("a job of this test was still running 30 s after it ended")


@pytest.fixture
def app(settings: Settings, clients: Clients) -> Any:
    app = create_app(settings, clients)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def db(clients: Clients) -> Any:
    """The in-memory store with the indexes `db init` declares: it refuses a hint naming an
    index that production would not have (core.server_rules)."""
    ensure_indexes(clients.mongo)
    ensure_report_indexes(clients.mongo)
    return clients.mongo


@pytest.fixture
def make_token(settings: Settings) -> Callable[..., str]:
    def make(scope: str = "events:write", project: str = PROJECT, **kwargs: Any) -> str:
        return mint_token(settings.signing_keys(), project, scope.split(), **kwargs)

    return make


@pytest.fixture
def auth(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """Headers for a request: auth("admin") or auth() for events:write."""

    def headers(scope: str = "events:write", **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(scope, **kwargs)}"}

    return headers


@pytest.fixture
def define(client: Any, auth: Callable[..., dict[str, str]]) -> Callable[..., dict[str, Any]]:
    """Create a definition through the admin API: define("events", "daily_login", {...})."""

    def put(
        kind: str, definition_id: str, body: dict[str, Any], project: str = PROJECT
    ) -> dict[str, Any]:
        response = client.put(
            f"/admin/{kind}/{definition_id}", json=body, headers=auth("admin", project=project)
        )
        assert response.status_code == 200, response.json
        data: dict[str, Any] = response.json["data"]
        return data

    return put


@pytest.fixture
def send(client: Any, auth: Callable[..., dict[str, str]]) -> Callable[..., Any]:
    """POST /event as an events:write token of PROJECT; returns the response."""

    def post(
        event_id: str, user_id: str = "user123", scope: str = "events:write", **body: Any
    ) -> Any:
        return client.post(
            "/event", json={"eventId": event_id, "userId": user_id, **body}, headers=auth(scope)
        )

    return post


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver listening on 127.0.0.1 for the test (tests.support.webhooks)."""
    with serving(Receiver()) as running:
        yield running


# The query-shape audit (tests/query_audit.py): record every query the code issues, then fail
# the run when one has no declared index serving it or breaks the sharding rules.
_audit: dict[str, Any] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--query-shapes",
        action="store_true",
        help="print every query shape the code issued, with the index that serves it",
    )


def pytest_configure(config: pytest.Config) -> None:
    _audit["recorder"] = query_audit.start_recording()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    recorder = _audit.get("recorder")
    if recorder is None or not recorder.shapes:
        return
    result = _audit["result"] = audit_shapes(recorder)
    if result.failures and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    result = _audit.get("result")
    if result is None:
        return
    if config.getoption("--query-shapes"):
        terminalreporter.section("query shapes (shape → index)")
        terminalreporter.write_line(result.table())
    if result.failures:
        terminalreporter.section("query-shape audit FAILED", red=True)
        for failure in result.failures:
            terminalreporter.write_line(failure)
