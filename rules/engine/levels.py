"""Levels (docs/api.md#rules-admin-api): a user's level follows their lifetime points.

A level table lists levels (positive, distinct) with the lifetime points that reach them;
minPoints rise strictly with the level, so the highest level whose minPoints the user has
reached is their level. Below the lowest level's minPoints a user is at level 0, which has no
name (None). A project without levels (no table, or an empty one) reports no level at all.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, TypeGuard

from rules.engine.conditions import INT64_MAX
from rules.engine.frozen import fast_init
from rules.errors import InvalidDefinition

MAX_LEVELS = 100
MAX_LEVEL = 1_000_000
MAX_NAME = 64
LEVEL_KEYS = frozenset({"level", "name", "minPoints"})
NO_LEVEL = 0


@dataclass(frozen=True)
class LevelDefinition:
    level: int
    name: str
    min_points: int


@dataclass(frozen=True)
class LevelTable:
    levels: tuple[LevelDefinition, ...] = ()  # ascending by level, so by min_points too

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> LevelTable:
        """Compile `{"levels": [...]}`; raise InvalidDefinition with every bad field's path."""
        errors = level_table_errors(doc)
        if errors:
            raise InvalidDefinition("invalid level table", errors)
        return cls(
            levels=tuple(
                sorted(
                    (
                        LevelDefinition(
                            level=item["level"], name=item["name"], min_points=item["minPoints"]
                        )
                        for item in doc["levels"]
                    ),
                    key=lambda definition: definition.level,
                )
            )
        )


@fast_init
@dataclass(frozen=True)
class LevelChange:
    """The response's `level` (docs/api.md#post-event)."""

    level: int
    name: str | None  # None at level 0
    level_up: bool  # this event raised the level


def level_for(table: LevelTable, lifetime_points: int) -> tuple[int, str | None]:
    """The level `lifetime_points` reach, and its name; (0, None) below every level."""
    reached = bisect_right([d.min_points for d in table.levels], lifetime_points)
    if reached == 0:
        return NO_LEVEL, None
    definition = table.levels[reached - 1]
    return definition.level, definition.name


def level_change(
    table: LevelTable | None, lifetime_before: int, lifetime_after: int
) -> LevelChange | None:
    """The level after an event and whether it went up; None when the project has no levels."""
    if table is None or not table.levels:
        return None
    before, _ = level_for(table, lifetime_before)
    after, name = level_for(table, lifetime_after)
    return LevelChange(level=after, name=name, level_up=after > before)


def level_table_errors(doc: Any) -> dict[str, list[str]]:
    """Every problem of a level table document, by field path (`levels[2].minPoints`); empty
    when it is valid. Unknown top-level keys are ignored (a stored table carries `project`)."""
    if not isinstance(doc, Mapping):
        return {"body": ["must be an object"]}
    errors: dict[str, list[str]] = {}

    def fail(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    levels = doc.get("levels")
    if not isinstance(levels, list) or len(levels) > MAX_LEVELS:
        fail("levels", f"must be a list of at most {MAX_LEVELS} levels")
        return errors

    valid: list[tuple[int, int, int]] = []  # (level, minPoints, index) of well-formed items
    first_index: dict[int, int] = {}
    for index, item in enumerate(levels):
        path = f"levels[{index}]"
        if not isinstance(item, Mapping):
            fail(path, 'must be an object {"level", "name", "minPoints"}')
            continue
        if _check_item(item, path, fail):
            level, min_points = item["level"], item["minPoints"]
            if level in first_index:
                fail(f"{path}.level", f"level {level} is already levels[{first_index[level]}]")
                continue
            first_index[level] = index
            valid.append((level, min_points, index))

    valid.sort()
    for (lower, lower_points, lower_index), (_, points, index) in pairwise(valid):
        if points <= lower_points:
            fail(
                f"levels[{index}].minPoints",
                f"must be greater than level {lower}'s minPoints "
                f"({lower_points}, levels[{lower_index}])",
            )
    return errors


def _check_item(item: Mapping[str, Any], path: str, fail: Callable[[str, str], None]) -> bool:
    """Report the item's own problems; True when its level and minPoints are usable."""
    for key in sorted(set(item) - LEVEL_KEYS, key=str):
        fail(f"{path}.{key}", "unknown key (a level has level, name and minPoints)")
    name = item.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME or not name.isprintable():
        fail(f"{path}.name", f"must be 1-{MAX_NAME} printable characters")
    level, min_points = item.get("level"), item.get("minPoints")
    usable = True
    if not _whole(level) or not 1 <= level <= MAX_LEVEL:
        fail(f"{path}.level", f"must be a whole number, 1-{MAX_LEVEL}")
        usable = False
    if not _whole(min_points) or not 0 <= min_points <= INT64_MAX:
        fail(f"{path}.minPoints", "must be a whole number of points, at least 0")
        usable = False
    return usable


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
