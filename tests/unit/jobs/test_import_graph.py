"""jobs/ imports its own modules at the top of each module, and never in a cycle: the
scheduler imports the jobs it schedules, and the jobs take their locks from jobs.locks."""

from __future__ import annotations

import ast
from pathlib import Path

JOBS = Path(__file__).resolve().parents[3] / "jobs"


def _imports_of_jobs(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jobs."):
            names.add(node.module or "")
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("jobs."))
    return names


def _graph() -> dict[str, set[str]]:
    return {
        f"jobs.{path.stem}": _imports_of_jobs(ast.parse(path.read_text()))
        for path in sorted(JOBS.glob("*.py"))
        if path.stem != "__init__"
    }


def test_jobs_modules_import_each_other_only_at_module_level() -> None:
    for path in sorted(JOBS.glob("*.py")):
        nested = {
            name
            for node in ast.parse(path.read_text()).body
            if not isinstance(node, ast.Import | ast.ImportFrom)
            for name in _imports_of_jobs(node)
        }
        assert nested == set(), f"{path.name} imports {sorted(nested)} inside a function"


def test_jobs_modules_import_no_cycle() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for imported in sorted(graph.get(module, set())):
            visit(imported, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())
    assert "jobs.locks" in graph["jobs.reports"]  # the lock the report jobs take
