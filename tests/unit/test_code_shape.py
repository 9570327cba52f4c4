"""The shape of the code, checked like its behaviour: modules of at most 400 lines and functions
of at most 60 in core/ rules/ reports/ web/ jobs/ (STYLE.md: a module does one thing, functions
stay small), and no `type: ignore` without its error code and a reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "rules", "reports", "web", "jobs")
MODULE_LINES = 400
FUNCTION_LINES = 60  # from `def` to the last line of the body, docstring included

# Where a `type: ignore` must name its codes and say why (on its line, or in the comment line
# just above it).
TYPED = (*PACKAGES, "typings", "sdk/python")
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def sources(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))
        yield from sorted((ROOT / folder).rglob("*.pyi"))


def module_sizes() -> dict[str, int]:
    return {
        path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines())
        for path in sources(*PACKAGES)
    }


def function_sizes() -> dict[str, int]:
    """Every function and method (nested ones too) by `path::Qualified.name`."""
    sizes: dict[str, int] = {}
    for path in sources(*PACKAGES):
        module = path.relative_to(ROOT).as_posix()
        pending: list[tuple[ast.AST, str]] = [(ast.parse(path.read_text()), "")]
        while pending:
            node, prefix = pending.pop()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    name = prefix + child.name
                    if not isinstance(child, ast.ClassDef):
                        end = child.end_lineno or child.lineno
                        sizes[f"{module}::{name}"] = end - child.lineno + 1
                    pending.append((child, name + "."))
                else:
                    pending.append((child, prefix))
    return sizes


def over(sizes: dict[str, int], limit: int) -> list[str]:
    """What is larger than `limit`, with its size."""
    return [
        f"{name}: {size} lines (limit {limit})"
        for name, size in sorted(sizes.items())
        if size > limit
    ]


def test_no_module_is_over_400_lines() -> None:
    assert over(module_sizes(), MODULE_LINES) == []


def test_no_function_is_over_60_lines() -> None:
    assert over(function_sizes(), FUNCTION_LINES) == []


def test_a_function_or_module_over_the_limit_is_reported() -> None:
    sizes = {"a.py::small": 60, "a.py::grown": 61, "b.py::large": 401}

    assert over(sizes, 60) == [
        "a.py::grown: 61 lines (limit 60)",
        "b.py::large: 401 lines (limit 60)",
    ]


def unexplained_ignores(lines: list[str]) -> list[int]:
    """Line numbers (from 1) of `type: ignore` comments without codes or without a reason."""
    found = []
    for number, line in enumerate(lines, start=1):
        match = IGNORE.search(line)
        if match is None:
            continue
        reason_here = match["rest"].strip().startswith("#") and match["rest"].strip(" #")
        reason_above = number > 1 and lines[number - 2].strip().startswith("#")
        if not match["codes"] or not (reason_here or reason_above):
            found.append(number)
    return found


def test_every_type_ignore_names_its_error_code_and_says_why() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources(*TYPED)
        for number in unexplained_ignores(path.read_text().splitlines())
    ]

    assert offenders == []


def test_an_ignore_without_code_or_reason_is_reported() -> None:
    lines = [
        "x = f()  # type: ignore",
        "y = g()  # type: ignore[attr-defined]",
        "z = h()  # type: ignore[attr-defined]  # mongomock's hook, not declared",
        "# an untyped library",
        "w = k()  # type: ignore[no-untyped-call]",
    ]

    assert unexplained_ignores(lines) == [1, 2]
