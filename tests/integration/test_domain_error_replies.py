"""Each domain error's answer, pinned through the API: status, envelope code, message,
details and Retry-After, whatever raises it (rules/, reports/, jobs/ or Redis under the
leaderboards). web.errors.DOMAIN_ERRORS is the one table; every error of the family has a row.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

import jobs
import reports
import rules
from core.clients import Clients
from core.errors import LaurelError
from jobs.queue import QueueUnavailable, use_queue
from reports.analytics.exports import export_name
from rules.errors import RulesError
from tests.conftest import PROJECT
from web.errors import DOMAIN_ERRORS

Auth = Callable[..., dict[str, str]]


class RefusingQueue:
    """A job queue whose Redis is down."""

    def enqueue(self, *_args: Any, **_kwargs: Any) -> None:
        raise QueueUnavailable("Redis failed a moment ago; left for the sweep")


def _family(base: type[LaurelError]) -> Iterator[type[LaurelError]]:
    for kind in base.__subclasses__():
        yield kind
        yield from _family(kind)


def test_every_domain_error_has_its_row_in_the_table() -> None:
    for package in (rules, reports, jobs):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)

    assert set(_family(LaurelError)) - {RulesError} == set(DOMAIN_ERRORS)


@pytest.mark.parametrize(
    "path",
    ["/analytics/events/never_seen/metadata", "/analytics/events/never_seen/breakdown?by=plan"],
)
def test_an_event_no_report_run_has_seen_is_404_naming_it(
    client: Any, auth: Auth, path: str
) -> None:
    response = client.get(path, headers=auth("reports:read"))

    assert response.status_code == 404
    assert response.json == {
        "success": False,
        "error": {
            "code": "not_found",
            "message": "No analytics for eventId 'never_seen' (yet)",
            "details": {},
        },
    }


def test_a_missing_export_is_404_naming_it(client: Any, auth: Auth) -> None:
    name = export_name(PROJECT, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "csv")

    response = client.get(f"/analytics/exports/{name}", headers=auth("reports:read"))

    assert response.status_code == 404
    assert response.json["error"] == {
        "code": "not_found",
        "message": f"No export named {name!r}",
        "details": {},
    }


def test_a_name_no_export_could_have_is_400_about_the_name(client: Any, auth: Auth) -> None:
    response = client.get("/analytics/exports/notes.txt", headers=auth("reports:read"))

    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "validation_error"
    (problem,) = error["details"]["name"]
    assert problem.startswith("must be an export name such as ")
    assert error == {
        "code": "validation_error",
        "message": f"name: {problem}",
        "details": {"name": [problem]},
    }


@pytest.mark.parametrize("path", ["/analytics/reports/run", "/analytics/exports/run"])
def test_a_run_the_queue_cannot_take_is_503_retry_soon(
    client: Any, auth: Auth, clients: Clients, path: str
) -> None:
    use_queue(clients, RefusingQueue())  # type: ignore[arg-type]  # enqueue is all it needs

    response = client.post(path, headers=auth("admin"))

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json["error"] == {
        "code": "unavailable",
        "message": "The job queue is unavailable; retry later",
        "details": {},
    }


def test_leaderboards_without_redis_are_503_retry_soon(
    client: Any, auth: Auth, clients: Clients
) -> None:
    # Nothing listens on port 1: every command is refused.
    clients.__dict__["redis"] = redis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.2
    )

    response = client.get("/leaderboards", headers=auth("users:read"))

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json["error"] == {
        "code": "unavailable",
        "message": "Leaderboards are unavailable right now; retry later",
        "details": {},
    }
