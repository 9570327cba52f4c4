"""The flask CLI: token create, db init, and the demo command's help."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import jwt
import pytest

from core import clock
from core.clients import Clients
from core.inmemory import in_memory_database
from core.settings import Settings
from tests.conftest import TEST_SECRET
from web import create_app
from web.requestlimits import EnvelopeRequestHandler


def test_token_create_prints_only_a_valid_jwt(runner: Any) -> None:
    result = runner.invoke(
        args=[
            "token",
            "create",
            "--project",
            "demo",
            "--scope",
            "events:write users:read",
            "--sub",
            "support-bot",
            "--ttl",
            "120",
        ]
    )

    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert result.output == token + "\n"
    # Only the signature here: the times are Laurel's clock's, which a test may have moved.
    claims = jwt.decode(
        token, TEST_SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False}
    )
    assert abs(claims["iat"] - clock.timestamp()) < 60
    assert claims["project"] == "demo"
    assert claims["scope"] == "events:write users:read"
    assert claims["sub"] == "support-bot"
    assert claims["exp"] - claims["iat"] == 120


def test_token_create_token_works_against_the_api(runner: Any, client: Any, define: Any) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    token = runner.invoke(
        args=["token", "create", "--project", "acme", "--scope", "events:write"]
    ).output.strip()

    response = client.post(
        "/event",
        json={"eventId": "daily_login", "userId": "u"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200


def test_token_create_rejects_unknown_scope(runner: Any) -> None:
    result = runner.invoke(
        args=["token", "create", "--project", "demo", "--scope", "events:write everything"]
    )

    assert result.exit_code != 0
    assert "everything" in result.output


def test_token_create_rejects_bad_project(runner: Any) -> None:
    result = runner.invoke(args=["token", "create", "--project", "no spaces", "--scope", "admin"])

    assert result.exit_code != 0
    assert "project" in result.output


def test_token_create_help_lists_scopes(runner: Any) -> None:
    result = runner.invoke(args=["token", "create", "--help"])

    assert result.exit_code == 0
    assert "events:import" in result.output and "--ttl" in result.output


def test_db_init_creates_indexes(settings: Settings, redis_client: Any) -> None:
    production = replace(settings, mongo_uri="mongodb://mongo.invalid:27017")
    clients = Clients(production)
    db = clients.__dict__["mongo"] = in_memory_database("laurel")
    clients.__dict__["redis"] = redis_client
    runner = create_app(production, clients).test_cli_runner()
    assert "project_user" not in db.users.index_information()  # nothing created at start-up

    result = runner.invoke(args=["db", "init"])

    assert result.exit_code == 0, result.output
    assert "users" in result.output
    assert "project_user" in db.users.index_information()
    assert "project_user_timestamp" in db.events.index_information()
    assert db.users.index_information()["project_user"]["unique"] is True


def test_demo_command_has_help(runner: Any) -> None:
    result = runner.invoke(args=["demo", "--help"])

    assert result.exit_code == 0
    assert "--port" in result.output


def test_demo_command_settles_the_interpreter_before_serving(
    app: Any, runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run` serves with Laurel's request handler, threaded, once the app is loaded,
    seeded and its interpreter settled (core.interpreter)."""
    steps: list[str] = []
    served: dict[str, Any] = {}

    class Scheduler:
        def start(self) -> None:
            steps.append("scheduler")

    monkeypatch.setattr("web.cli.build_scheduler", lambda clients: Scheduler())
    monkeypatch.setattr("web.cli.interpreter.settle", lambda: steps.append("settle"))

    def run_simple(host: str, port: int, app: Any, **options: Any) -> None:
        steps.append("serve")
        served.update(options)

    monkeypatch.setattr("web.cli.run_simple", run_simple)

    with app.app_context():  # (the flask command's group pushes it; the test runner does not)
        result = runner.invoke(args=["demo", "--port", "8123"])

    assert result.exit_code == 0, result.output
    assert steps == ["scheduler", "settle", "serve"]
    assert served["threaded"] is True
    assert served["request_handler"] is EnvelopeRequestHandler
