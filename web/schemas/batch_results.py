"""The results of POST /events/batch (and POST /event's outcome, `outcome_body`), dumped
without marshmallow's per-field machinery.

marshmallow dumps an item's outcome through about 80 field objects (value lookup, formatting,
nested schemas), which made up an eighth of a batch's time. `BatchResults` is the list field of
the batch's response schema: the OpenAPI document still describes its items through
`BatchItemResultSchema` (the field's `inner`), while `_serialize` builds the same JSON with the
same conversions field by field (tests/unit/web/test_batch_results.py compares both on random
outcomes and errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import fields

from rules.engine.challenges import ChallengeReport
from rules.engine.evaluation import Outcome, StreakReport
from rules.engine.levels import LevelChange
from web.schemas.fields import epoch_ms, iso_ms

# marshmallow's Boolean: these values dump as true/false, anything else as bool(value).
_TRUTHY = fields.Boolean.truthy
_FALSY = fields.Boolean.falsy


class BatchResults(fields.List[Any]):
    """`List(Nested(BatchItemResultSchema))` whose items (as the batch view builds them: index,
    status, then data or error, maybe replayed) dump as marshmallow would dump them."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return [_item(item) for item in value]


def _item(item: Mapping[str, Any]) -> dict[str, Any]:
    dumped: dict[str, Any] = {"index": _int(item["index"]), "status": _int(item["status"])}
    if "data" in item:
        data = item["data"]
        dumped["data"] = None if data is None else outcome_body(data)
    if "error" in item:
        error = item["error"]
        dumped["error"] = None if error is None else _error(error)
    if "replayed" in item:
        dumped["replayed"] = _bool(item["replayed"])
    return dumped


def outcome_body(outcome: Outcome) -> dict[str, Any]:
    """EventResultSchema's dump of `outcome` (POST /event's answer, and each batch item's
    `data`)."""
    level = outcome.level
    return {
        "eventId": _str(outcome.event_id),
        "userId": _str(outcome.user_id),
        "pointsAwarded": _int(outcome.points_awarded),
        "totalPointsAwarded": _int(outcome.total_points_awarded),
        "balance": _int(outcome.balance),
        "timestamp": None if outcome.timestamp is None else epoch_ms(outcome.timestamp),
        "rewarded": _bool(outcome.rewarded),
        "reason": _str(outcome.reason),
        "streaks": None if outcome.streaks is None else [_streak(s) for s in outcome.streaks],
        "challenges": (
            None if outcome.challenges is None else [_challenge(c) for c in outcome.challenges]
        ),
        "level": None if level is None else _level(level),
        "badges": None if outcome.badges is None else [_str(badge) for badge in outcome.badges],
    }


def _streak(streak: StreakReport) -> dict[str, Any]:
    return {
        "streakId": _str(streak.streak_id),
        "currentCount": _int(streak.current_count),
        "longestCount": _int(streak.longest_count),
        "lastUpdate": None if streak.last_update is None else iso_ms(streak.last_update),
        "milestoneReached": _bool(streak.milestone_reached),
        "pointsAwarded": _int(streak.points_awarded),
        "freezesUsed": _int(streak.freezes_used),
    }


def _challenge(challenge: ChallengeReport) -> dict[str, Any]:
    return {
        "challengeId": _str(challenge.challenge_id),
        "progress": challenge.progress,
        "target": challenge.target,
        "completed": _bool(challenge.completed),
        "pointsAwarded": _int(challenge.points_awarded),
        "badge": _str(challenge.badge),
    }


def _level(level: LevelChange) -> dict[str, Any]:
    return {"level": _int(level.level), "name": _str(level.name), "levelUp": _bool(level.level_up)}


def _error(error: Mapping[str, Any]) -> dict[str, Any]:
    """ErrorSchema's fields, each present only when given (as marshmallow dumps a mapping)."""
    dumped: dict[str, Any] = {}
    if "code" in error:
        dumped["code"] = _str(error["code"])
    if "message" in error:
        dumped["message"] = _str(error["message"])
    if "details" in error:
        details = error["details"]
        dumped["details"] = None if details is None else _details(details)
    return dumped


def _details(details: Mapping[str, Any]) -> dict[str | None, Any]:
    return {
        _str(key): None if messages is None else [_str(message) for message in messages]
        for key, messages in details.items()
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _str(value: Any) -> str | None:
    """marshmallow's String: bytes decoded as UTF-8, anything else through str()."""
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _bool(value: Any) -> bool | None:
    if value is None:
        return None
    try:
        if value in _TRUTHY:
            return True
        if value in _FALSY:
            return False
    except TypeError:
        pass
    return bool(value)
