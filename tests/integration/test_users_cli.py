"""The support CLI: `user show` and `user history`, readable tables for people at a terminal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PROJECT


@pytest.fixture
def user(define: Any, send: Any, client: Any, auth: Any) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    define(
        "streaks",
        "daily_use",
        {"events": ["daily_login"], "milestones": [{"count": 1, "points": 5, "badge": "hello"}]},
    )
    define(
        "challenges", "logins", {"events": ["daily_login"], "goal": {"type": "count", "target": 3}}
    )
    levels = {"levels": [{"level": 1, "name": "Bronze", "minPoints": 10}]}
    assert client.put("/admin/levels", json=levels, headers=auth("admin")).status_code == 200
    send("daily_login", "u1", metadata={"usergroup": "vip", "platform": "ios"})
    client.post(
        "/users/u1/adjustments",
        json={"delta": -3, "reason": "typo fix"},
        headers=auth("users:write", subject="ann"),
    )


def lines(output: str) -> list[str]:
    return output.rstrip("\n").split("\n")


def test_user_show_prints_the_profile_and_aligned_tables(user: None, runner: Any) -> None:
    result = runner.invoke(args=["user", "show", "u1", "--project", PROJECT])

    assert result.exit_code == 0, result.output
    out = lines(result.output)
    assert "balance          12" in out
    assert "lifetime points  15" in out
    assert "level            1 Bronze" in out
    assert "usergroup        vip" in out
    assert "badges           hello" in out
    streaks = out.index("Streaks")
    header, rule, row = out[streaks + 1 : streaks + 4]
    assert header.split() == ["STREAK", "CURRENT", "LONGEST", "FREEZES", "LAST", "COUNTED"]
    assert row.split()[:4] == ["daily_use", "1", "1", "0"]
    # Aligned: every column starts where its header does.
    assert row.index("1") + 1 == header.index("CURRENT") + len("CURRENT")
    assert set(rule.replace(" ", "")) == {"-"}
    challenges = out.index("Challenges")
    assert out[challenges + 3].split() == ["logins", "1", "3", "no", "0"]


def test_user_history_prints_newest_first_with_the_actor(user: None, runner: Any) -> None:
    result = runner.invoke(args=["user", "history", "u1", "--project", PROJECT])

    assert result.exit_code == 0, result.output
    header, _rule, *rows = lines(result.output)
    assert header.split() == ["TIME", "(UTC)", "TYPE", "WHAT", "POINTS", "DETAILS"]
    assert len(rows) == 4
    assert "adjusted: typo fix" in rows[0] and "-3" in rows[0] and "by ann" in rows[0]
    assert {row.split()[1] for row in rows} == {"event", "points"}
    event_row = next(row for row in rows if " event " in row)
    assert "daily_login" in event_row and '"platform":"ios"' in event_row


def test_user_history_limit_and_type(user: None, runner: Any) -> None:
    result = runner.invoke(
        args=["user", "history", "u1", "--project", PROJECT, "--limit", "1", "--type", "points"]
    )

    assert result.exit_code == 0, result.output
    out = lines(result.output)
    assert len(out) == 4  # header, rule, one row, the hint
    assert "adjusted: typo fix" in out[2]
    assert out[3] == "(newest 1 shown; --limit up to 100 for more)"


@pytest.mark.parametrize("command", ["show", "history"])
def test_unknown_user_is_an_error_naming_the_project(runner: Any, command: str) -> None:
    result = runner.invoke(args=["user", command, "ghost", "--project", PROJECT])

    assert result.exit_code == 1
    assert "no user 'ghost' in this project (project 'acme')" in result.output


@pytest.mark.parametrize("command", ["show", "history"])
def test_user_commands_have_help(runner: Any, command: str) -> None:
    result = runner.invoke(args=["user", command, "--help"])

    assert result.exit_code == 0
    assert "USER" in result.output and "--project" in result.output


def test_project_is_required(runner: Any) -> None:
    result = runner.invoke(args=["user", "show", "u1"])

    assert result.exit_code == 2
    assert "--project" in result.output
