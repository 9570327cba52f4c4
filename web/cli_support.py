"""Support commands for people at a terminal: `flask --app wsgi user …` and `leaderboard …`.

`user show` and `user history` only read; `leaderboard rebuild` recomputes the current boards
from the ledger (also scheduled hourly).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from core import clock
from jobs.effects import effects_for
from rules.errors import UserNotFound
from rules.stores.eventlog import EventLog
from rules.stores.ledger import Ledger
from rules.usecases.history import KINDS, MAX_LIMIT, user_history
from rules.usecases.leaderboards import rebuild
from rules.usecases.profiles import require_user, user_profile
from web.context import app_state
from web.schemas.fields import iso_ms

user_cli = AppGroup("user", help="Look a user up for support (read only).")
leaderboard_cli = AppGroup("leaderboard", help="Leaderboards: rebuild them from the ledger.")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows under their headers, columns aligned; numbers right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return iso_ms(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def _not_found(error: UserNotFound, project: str) -> click.ClickException:
    return click.ClickException(f"{error.message} (project {project!r})")


@user_cli.command("show")
@click.argument("user_id", metavar="USER")
@click.option("--project", required=True, help="The tenant the user belongs to, e.g. demo.")
def show_user(user_id: str, project: str) -> None:
    """Print a user's profile: points, level, streaks, challenges, badges."""
    try:
        profile = user_profile(app_state().clients.mongo, project, user_id)
    except UserNotFound as error:
        raise _not_found(error, project) from None
    level = profile["level"]
    facts = [
        ("user", profile["userId"]),
        ("project", project),
        ("balance", profile["points"]["balance"]),
        ("lifetime points", profile["points"]["lifetime"]),
        ("level", None if level is None else f"{level['level']} {level['name'] or ''}".strip()),
        ("usergroup", profile["usergroup"]),
        ("timezone", profile["timezone"]),
        ("events", profile["eventCount"]),
        ("first seen", profile["firstSeen"]),
        ("last seen", profile["lastSeen"]),
        ("badges", ", ".join(profile["badges"]) or None),
    ]
    width = max(len(name) for name, _ in facts)
    click.echo("\n".join(f"{name.ljust(width)}  {_cell(value)}" for name, value in facts))
    if profile["streaks"]:
        click.echo("\nStreaks")
        rows = [
            [s["streakId"], s["currentCount"], s["longestCount"], s["freezes"], s["lastUpdate"]]
            for s in profile["streaks"]
        ]
        click.echo(table(["STREAK", "CURRENT", "LONGEST", "FREEZES", "LAST COUNTED"], rows))
    if profile["challenges"]:
        click.echo("\nChallenges")
        rows = [
            [
                c["challengeId"],
                c["progress"],
                c["target"],
                "yes" if c["completed"] else "no",
                c["completions"],
            ]
            for c in profile["challenges"]
        ]
        click.echo(table(["CHALLENGE", "PROGRESS", "TARGET", "COMPLETED", "TIMES"], rows))


@user_cli.command("history")
@click.argument("user_id", metavar="USER")
@click.option("--project", required=True, help="The tenant the user belongs to, e.g. demo.")
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=20,
    show_default=True,
    help="How many of the newest items to show.",
)
@click.option(
    "--type", "kind", type=click.Choice(KINDS), default=None, help="Only events or only points."
)
def show_history(user_id: str, project: str, limit: int, kind: str | None) -> None:
    """Print a user's newest events and points entries (times in UTC)."""
    db = app_state().clients.mongo
    try:
        require_user(db, project, user_id)
    except UserNotFound as error:
        raise _not_found(error, project) from None
    page = user_history(
        EventLog(db), Ledger(db), project, user_id, kinds=[kind] if kind else KINDS, limit=limit
    )
    rows = []
    for item in page.items:
        if item["type"] == "event":
            outcome = item["outcome"]
            what = item["eventId"]
            points = outcome.total_points_awarded
            details = item["metadata"] or None
        else:
            what = (
                item["reason"] if item["source"] != "adjustment" else f"adjusted: {item['reason']}"
            )
            points = item["delta"]
            details = f"by {item['actor']}" if item.get("actor") else None
        rows.append([item["timestamp"], item["type"], what, points, details])
    if not rows:
        click.echo("no events or points entries")
        return
    click.echo(table(["TIME (UTC)", "TYPE", "WHAT", "POINTS", "DETAILS"], rows))
    if page.next is not None:
        click.echo(f"(newest {limit} shown; --limit up to {MAX_LIMIT} for more)")


@leaderboard_cli.command("rebuild")
@click.option("--project", default=None, help="Only this project (default: every project).")
def rebuild_leaderboards(project: str | None) -> None:
    """Recompute the current day, week, month and all-time boards from the ledger.

    Finishes half-done events first, then swaps the new boards in. Safe while the API serves
    traffic; also scheduled hourly. Catches the boards up after Redis was unavailable.
    """
    clients = app_state().clients
    db = clients.mongo
    projects = [project] if project is not None else Ledger(db).projects()
    started = time.monotonic()
    for number, name in enumerate(projects, start=1):
        members = rebuild(db, clients.boards, name, clock.now(), effects_for(clients))
        counts = ", ".join(f"{period} {count}" for period, count in members.items())
        click.echo(
            f"[{number}/{len(projects)}] {name}: users ranked by period: {counts} "
            f"({time.monotonic() - started:.1f}s)"
        )
    click.echo(f"rebuilt the leaderboards of {len(projects)} project(s)")


def register_support_cli(app: Flask) -> None:
    app.cli.add_command(user_cli)
    app.cli.add_command(leaderboard_cli)
