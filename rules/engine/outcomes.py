"""An event's outcome as a stored document, and back: the event log keeps it, and an idempotent
replay answers with it, so a repeat returns exactly what the first request returned."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rules.engine.challenges import ChallengeReport
from rules.engine.evaluation import Outcome, StreakReport
from rules.engine.levels import LevelChange


def outcome_to_document(outcome: Outcome) -> dict[str, Any]:
    return {
        "eventId": outcome.event_id,
        "userId": outcome.user_id,
        "timestamp": outcome.timestamp,
        "pointsAwarded": outcome.points_awarded,
        "totalPointsAwarded": outcome.total_points_awarded,
        "balance": outcome.balance,
        "rewarded": outcome.rewarded,
        "reason": outcome.reason,
        "streaks": [
            {
                "streakId": s.streak_id,
                "currentCount": s.current_count,
                "longestCount": s.longest_count,
                "lastUpdate": s.last_update,
                "milestoneReached": s.milestone_reached,
                "pointsAwarded": s.points_awarded,
                "freezesUsed": s.freezes_used,
            }
            for s in outcome.streaks
        ],
        "challenges": [
            {
                "challengeId": c.challenge_id,
                "progress": c.progress,
                "target": c.target,
                "completed": c.completed,
                "pointsAwarded": c.points_awarded,
                "badge": c.badge,
            }
            for c in outcome.challenges
        ],
        "level": None
        if outcome.level is None
        else {
            "level": outcome.level.level,
            "name": outcome.level.name,
            "levelUp": outcome.level.level_up,
        },
        "badges": list(outcome.badges),
    }


def outcome_from_document(document: Mapping[str, Any]) -> Outcome:
    level = document.get("level")
    return Outcome(
        event_id=document["eventId"],
        user_id=document["userId"],
        timestamp=_utc(document["timestamp"]),
        points_awarded=document["pointsAwarded"],
        total_points_awarded=document["totalPointsAwarded"],
        balance=document["balance"],
        rewarded=document["rewarded"],
        reason=document["reason"],
        streaks=tuple(
            StreakReport(
                streak_id=s["streakId"],
                current_count=s["currentCount"],
                longest_count=s["longestCount"],
                last_update=None if s["lastUpdate"] is None else _utc(s["lastUpdate"]),
                milestone_reached=s["milestoneReached"],
                points_awarded=s["pointsAwarded"],
                freezes_used=s["freezesUsed"],
            )
            for s in document.get("streaks", [])
        ),
        challenges=tuple(
            ChallengeReport(
                challenge_id=c["challengeId"],
                progress=c["progress"],
                target=c["target"],
                completed=c["completed"],
                points_awarded=c["pointsAwarded"],
                badge=c["badge"],
            )
            for c in document.get("challenges", [])
        ),
        level=None
        if level is None
        else LevelChange(level=level["level"], name=level["name"], level_up=level["levelUp"]),
        badges=tuple(document.get("badges", [])),
    )


def _utc(moment: datetime) -> datetime:
    # A client that is not tz_aware hands back naive UTC datetimes.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
