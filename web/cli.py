"""Commands for people at a terminal: `flask --app wsgi <group> <command> --help`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from werkzeug.serving import run_simple

from rules.indexes import ensure_indexes
from web.auth import SCOPES, mint_token
from web.context import app_state
from web.demo import banner, seed_demo

token_cli = AppGroup("token", help="Mint API tokens (JWT, HS256).")
db_cli = AppGroup("db", help="Manage the MongoDB database.")


@token_cli.command("create")
@click.option("--project", required=True, help="Tenant id the token acts for, e.g. demo.")
@click.option(
    "--scope",
    required=True,
    help=f'Space-separated scopes, e.g. "events:write". Known: {" ".join(SCOPES)}.',
)
@click.option(
    "--sub",
    default=None,
    help="Who uses it (an app or a staff member); recorded on manual actions.",
)
@click.option(
    "--ttl",
    type=click.IntRange(min=1),
    default=3600,
    show_default=True,
    help="Lifetime in seconds.",
)
def create_token(project: str, scope: str, sub: str | None, ttl: int) -> None:
    """Print a signed token, alone on stdout."""
    try:
        token = mint_token(
            app_state().settings.signing_keys(), project, scope.split(), subject=sub, ttl=ttl
        )
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    click.echo(token)


@db_cli.command("init")
def init_db() -> None:
    """Create every collection's indexes (safe to run again)."""
    collections = ensure_indexes(app_state().clients.mongo)
    click.echo(f"indexes ensured on: {', '.join(collections)}")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Defaults to PORT (8000).")
def serve_demo(host: str, port: int | None) -> None:
    """Seed the demo project, print tokens and a curl, and serve (the `make run` target)."""
    state = app_state()
    port = port or state.settings.port
    seed_demo(state.clients.mongo)
    click.echo(banner(state.settings, f"http://{host}:{port}"))
    # One process on purpose: in the embedded default the data lives in this process.
    # (Flask's app.run refuses to run under the flask CLI, so call werkzeug directly.)
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)


def register_cli(app: Flask) -> None:
    app.cli.add_command(token_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(serve_demo)
