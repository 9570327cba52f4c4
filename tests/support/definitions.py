"""Definitions that tests across the suite build on, so that each reads the same everywhere."""

from __future__ import annotations

from typing import Any

# An event paying 10 points, nothing else: the simplest reward.
TEN_POINTS: dict[str, Any] = {"points": {"fixed": 10}}
# A streak on `login` paying 5 on its first day.
FIRST_DAY_STREAK: dict[str, Any] = {
    "events": ["login"],
    "milestones": [{"count": 1, "points": 5}],
}
