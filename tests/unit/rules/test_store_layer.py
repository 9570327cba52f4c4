"""The stores sit below the use cases: no module of rules/stores imports rules.usecases (what
both need, like rules.effects.Effect, lives below them)."""

from __future__ import annotations

import ast
from pathlib import Path

STORES = Path(__file__).resolve().parents[3] / "rules" / "stores"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
    return names


def test_no_store_imports_a_use_case() -> None:
    modules = sorted(STORES.glob("*.py"))
    assert len(modules) > 5  # the folder was found

    offenders = {
        path.name: sorted(
            name for name in imported_modules(path) if name.startswith("rules.usecases")
        )
        for path in modules
    }

    assert {name: found for name, found in offenders.items() if found} == {}
