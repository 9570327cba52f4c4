"""One owner per collection (STYLE.md, docs/architecture.md): each MongoDB collection is named
only by the store module that owns it (its documents, its indexes, and the scans and erasures
the others need); every other module calls that store.

A module names a collection when it reaches it from a database: `db["name"]`, `db.name`,
`db.get_collection("name")` (or create_collection / drop_collection), with the database held
in a name like `db`, `database`, `self._db` or `clients.db`. A collection's name as a plain
string elsewhere (a key in a response, a shard-key table) is not an access. A database read
with a name held in a variable cannot be checked here: the owner table says where that is.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "rules", "reports", "web", "jobs")

# Every collection and the one module that owns it.
OWNERS: dict[str, str] = {
    "users": "rules/stores/users.py",
    "events": "rules/stores/eventlog.py",
    "ledger": "rules/stores/ledger.py",
    "audit": "rules/stores/audit.py",
    "idempotency_keys": "rules/stores/idempotency.py",
    "notifications": "rules/stores/outbox.py",
    "deliveries": "rules/stores/outbox.py",
    "webhooks": "rules/stores/webhooks.py",
    "project_settings": "rules/stores/project_settings.py",
    # DefinitionStore opens these by a name it holds (`db[name]`), from literals in its module.
    "event_definitions": "rules/stores/definitions.py",
    "streak_definitions": "rules/stores/definitions.py",
    "challenge_definitions": "rules/stores/definitions.py",
    "funnel_definitions": "rules/stores/definitions.py",
    "level_tables": "rules/stores/definitions.py",
    "definition_stamps": "rules/stores/definitions.py",
    "report_partials": "reports/analytics/store.py",
    "reports": "reports/analytics/store.py",
    "report_watermarks": "reports/analytics/store.py",
    "insight_days": "reports/insights/store.py",
    "user_firsts": "reports/insights/store.py",
    "job_locks": "jobs/locks.py",
}

DATABASE = re.compile(r"^_?(db|database|mongo_db)$|_db$")
OPENERS = {"get_collection", "create_collection", "drop_collection"}


def _is_database(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return bool(DATABASE.search(node.id))
    if isinstance(node, ast.Attribute):
        return bool(DATABASE.search(node.attr))
    return False


def collections_named(source: str) -> Iterator[tuple[str, int]]:
    """(collection, line) of every collection `source` reaches from a database by its name."""
    for node in ast.walk(ast.parse(source)):
        name: object = None
        if isinstance(node, ast.Subscript) and _is_database(node.value):
            if isinstance(node.slice, ast.Constant):
                name = node.slice.value
        elif isinstance(node, ast.Attribute) and _is_database(node.value):
            name = node.attr if node.attr in OWNERS else None
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in OPENERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            name = node.args[0].value
        if isinstance(name, str):
            yield name, node.lineno


def accesses() -> Iterator[tuple[str, str, int]]:
    """(module, collection, line) over the packages."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = path.relative_to(ROOT).as_posix()
            for name, line in collections_named(path.read_text()):
                yield module, name, line


def test_every_collection_is_named_only_by_its_owner() -> None:
    strays = [
        f"{module}:{line} names `{name}`, owned by {OWNERS.get(name, 'nobody (add it to OWNERS)')}"
        for module, name, line in accesses()
        if OWNERS.get(name) != module
    ]
    assert strays == []


def test_every_owner_names_its_collection() -> None:
    """The table stays true: each owner holds its collection's name (a stale row fails)."""
    missing = [
        f"{owner} does not name `{name}`"
        for name, owner in OWNERS.items()
        if not any(
            isinstance(node, ast.Constant) and node.value == name
            for node in ast.walk(ast.parse((ROOT / owner).read_text()))
        )
    ]
    assert missing == []


def test_the_scan_finds_each_way_of_naming_a_collection() -> None:
    source = """
events = db["events"]
users = self._db.users
ledger = clients.db.get_collection("ledger", read_preference=None)
audit = database.create_collection("audit")
pending = {"ledger": []}["ledger"]
settings = config.users
"""
    assert sorted(collections_named(source)) == [
        ("audit", 5),
        ("events", 2),
        ("ledger", 4),
        ("users", 3),
    ]
