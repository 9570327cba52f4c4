"""Python client for Laurel, the event tracking and rewards API.

from laurel_client import Laurel
laurel = Laurel("https://laurel.example.com", token)
result = laurel.track("daily_login", "user123", {"platform": "ios"})
"""

from __future__ import annotations

from ._core import __version__
from .aio import AsyncLaurel
from .client import Laurel
from .errors import LaurelError
from .models import (
    AdjustmentResult,
    BatchItemResult,
    ChallengeResult,
    ChallengeState,
    ErrorInfo,
    EventResult,
    HistoryItem,
    Leaderboard,
    LevelResult,
    Profile,
    Standing,
    StreakResult,
    StreakState,
    UserLevel,
    UserPoints,
)
from .webhooks import verify_webhook

__all__ = [
    "AdjustmentResult",
    "AsyncLaurel",
    "BatchItemResult",
    "ChallengeResult",
    "ChallengeState",
    "ErrorInfo",
    "EventResult",
    "HistoryItem",
    "Laurel",
    "LaurelError",
    "Leaderboard",
    "LevelResult",
    "Profile",
    "Standing",
    "StreakResult",
    "StreakState",
    "UserLevel",
    "UserPoints",
    "__version__",
    "verify_webhook",
]
