"""The response `data` of Laurel's API as typed, frozen dataclasses.

Written after the schemas of `/openapi.json` (the names in comments); the SDK's tests check
that each class has exactly the properties of its schema, and that a field is optional here
only when the schema does not list it as `required`. Fields the server adds later (the API
changes only additively) are ignored, so an older SDK keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _instant(value: Any) -> datetime | None:
    """`2023-04-07T12:34:56.789Z` → an aware UTC datetime (Python 3.10 does not read `Z`)."""
    if value is None:
        return None
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).astimezone(UTC)


def _required_instant(value: Any) -> datetime:
    moment = _instant(value)
    if moment is None:
        raise ValueError("expected an ISO-8601 instant, got null")
    return moment


def _number(value: Any) -> float:
    return float(value)


@dataclass(frozen=True)
class StreakResult:
    """`StreakResult`: a streak the event counted for."""

    streak_id: str
    current_count: int
    longest_count: int
    last_update: datetime
    milestone_reached: bool
    points_awarded: int
    freezes_used: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StreakResult:
        return cls(
            streak_id=data["streakId"],
            current_count=data["currentCount"],
            longest_count=data["longestCount"],
            last_update=_required_instant(data["lastUpdate"]),
            milestone_reached=data["milestoneReached"],
            points_awarded=data["pointsAwarded"],
            freezes_used=data["freezesUsed"],
        )


@dataclass(frozen=True)
class ChallengeResult:
    """`ChallengeResult`: a challenge the event progressed."""

    challenge_id: str
    progress: float
    target: float
    completed: bool
    points_awarded: int
    badge: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChallengeResult:
        return cls(
            challenge_id=data["challengeId"],
            progress=_number(data["progress"]),
            target=_number(data["target"]),
            completed=data["completed"],
            points_awarded=data["pointsAwarded"],
            badge=data.get("badge"),
        )


@dataclass(frozen=True)
class LevelResult:
    """`LevelResult`: the user's level after the event."""

    level: int
    name: str | None
    level_up: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LevelResult:
        return cls(level=data["level"], name=data.get("name"), level_up=data["levelUp"])


@dataclass(frozen=True)
class EventResult:
    """`EventResult`: what `track` answers (POST /event's `data`)."""

    event_id: str
    user_id: str
    points_awarded: int
    total_points_awarded: int
    balance: int
    timestamp: int  # epoch milliseconds
    rewarded: bool
    reason: str | None
    streaks: list[StreakResult]
    challenges: list[ChallengeResult]
    level: LevelResult | None
    badges: list[str]
    # Not part of the body: True when the server answered from an earlier request's key.
    replayed: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, replayed: bool = False) -> EventResult:
        level = data.get("level")
        return cls(
            event_id=data["eventId"],
            user_id=data["userId"],
            points_awarded=data["pointsAwarded"],
            total_points_awarded=data["totalPointsAwarded"],
            balance=data["balance"],
            timestamp=data["timestamp"],
            rewarded=data["rewarded"],
            reason=data.get("reason"),
            streaks=[StreakResult.from_json(item) for item in data["streaks"]],
            challenges=[ChallengeResult.from_json(item) for item in data["challenges"]],
            level=LevelResult.from_json(level) if level is not None else None,
            badges=list(data["badges"]),
            replayed=replayed,
        )


@dataclass(frozen=True)
class ErrorInfo:
    """`Error`: the envelope's error; `details` maps a field path to its messages."""

    code: str
    message: str
    details: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ErrorInfo:
        details = data.get("details") or {}
        return cls(
            code=str(data.get("code", "")),
            message=str(data.get("message", "")),
            details={str(key): [str(text) for text in texts] for key, texts in details.items()},
        )


@dataclass(frozen=True)
class BatchItemResult:
    """`BatchItemResult`, one per event given to `track_many`, in the same order.

    `index` is the event's position in the list given to `track_many` (not in its batch);
    `idempotency_key` is the key it was sent with, so that resending it is safe.
    """

    index: int
    status: int
    data: EventResult | None
    error: ErrorInfo | None
    replayed: bool
    idempotency_key: str | None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.data is not None


@dataclass(frozen=True)
class UserPoints:
    """`UserPoints`."""

    balance: int
    lifetime: int


@dataclass(frozen=True)
class UserLevel:
    """`UserLevel`."""

    level: int
    name: str | None


@dataclass(frozen=True)
class StreakState:
    """`StreakState`: a user's standing in one streak."""

    streak_id: str
    current_count: int
    longest_count: int
    freezes: int
    last_update: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StreakState:
        return cls(
            streak_id=data["streakId"],
            current_count=data["currentCount"],
            longest_count=data["longestCount"],
            freezes=data["freezes"],
            last_update=_instant(data.get("lastUpdate")),
        )


@dataclass(frozen=True)
class ChallengeState:
    """`ChallengeState`: a user's progress in one challenge."""

    challenge_id: str
    progress: float
    target: float | None
    completed: bool
    completions: int
    last_update: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChallengeState:
        target = data.get("target")
        return cls(
            challenge_id=data["challengeId"],
            progress=_number(data["progress"]),
            target=_number(target) if target is not None else None,
            completed=data["completed"],
            completions=data["completions"],
            last_update=_instant(data.get("lastUpdate")),
        )


@dataclass(frozen=True)
class Profile:
    """`Profile`: what `user` answers (GET /users/{userId})."""

    user_id: str
    points: UserPoints
    level: UserLevel | None
    usergroup: str | None
    timezone: str | None
    streaks: list[StreakState]
    challenges: list[ChallengeState]
    badges: list[str]
    first_seen: datetime | None
    last_seen: datetime | None
    event_count: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Profile:
        level = data.get("level")
        return cls(
            user_id=data["userId"],
            points=UserPoints(data["points"]["balance"], data["points"]["lifetime"]),
            level=UserLevel(level["level"], level.get("name")) if level is not None else None,
            usergroup=data.get("usergroup"),
            timezone=data.get("timezone"),
            streaks=[StreakState.from_json(item) for item in data["streaks"]],
            challenges=[ChallengeState.from_json(item) for item in data["challenges"]],
            badges=list(data["badges"]),
            first_seen=_instant(data.get("firstSeen")),
            last_seen=_instant(data.get("lastSeen")),
            event_count=data["eventCount"],
        )


@dataclass(frozen=True)
class HistoryItem:
    """`HistoryItem`: an event (type "event") or a points entry (type "points").

    Events carry event_id, received_at, metadata and outcome; points entries carry delta,
    reason, source and actor. The other fields are None.
    """

    type: str
    id: str
    timestamp: int  # epoch milliseconds
    event_id: str | None = None
    received_at: int | None = None
    metadata: dict[str, Any] | None = None
    outcome: EventResult | None = None
    delta: int | None = None
    reason: str | None = None
    source: str | None = None
    actor: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HistoryItem:
        outcome = data.get("outcome")
        metadata = data.get("metadata")
        return cls(
            type=data["type"],
            id=data["id"],
            timestamp=data["timestamp"],
            event_id=data.get("eventId"),
            received_at=data.get("receivedAt"),
            metadata=dict(metadata) if metadata is not None else None,
            outcome=EventResult.from_json(outcome) if outcome is not None else None,
            delta=data.get("delta"),
            reason=data.get("reason"),
            source=data.get("source"),
            actor=data.get("actor"),
        )


@dataclass(frozen=True)
class AdjustmentResult:
    """`AdjustmentResult`: what `adjust` answers."""

    user_id: str
    entry_id: str
    delta: int
    reason: str
    actor: str | None
    balance: int
    lifetime: int
    created_at: datetime
    replayed: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, replayed: bool = False) -> AdjustmentResult:
        return cls(
            user_id=data["userId"],
            entry_id=data["entryId"],
            delta=data["delta"],
            reason=data["reason"],
            actor=data.get("actor"),
            balance=data["balance"],
            lifetime=data["lifetime"],
            created_at=_required_instant(data["createdAt"]),
            replayed=replayed,
        )


@dataclass(frozen=True)
class Standing:
    """`Standing`: one row of a leaderboard."""

    rank: int
    user_id: str
    points: int


@dataclass(frozen=True)
class Leaderboard:
    """`Leaderboard`: what `leaderboard` answers."""

    period: str
    period_key: str | None
    items: list[Standing]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Leaderboard:
        return cls(
            period=data["period"],
            period_key=data.get("periodKey"),
            items=[Standing(row["rank"], row["userId"], row["points"]) for row in data["items"]],
        )
