"""What one event did to one streak (rules.engine.streaks), and what a streak state remembers
beside its fields; apart so that the in-order fast path (rules.engine.streak_ahead) can make
steps without importing rules.engine.streaks, which calls it."""

from __future__ import annotations

from dataclasses import dataclass

from rules.engine.definitions import Milestone
from rules.engine.frozen import fast_init
from rules.engine.state import StreakState

# Where a streak state remembers the period of its latest kept moment (streaks.latest_period).
LATEST_PERIOD = "_latest_period"


@fast_init
@dataclass(frozen=True)
class StreakStep:
    """What one event did to one streak."""

    state: StreakState
    counted: bool
    milestones: tuple[Milestone, ...] = ()  # newly reached, ascending by count
    freezes_used: int = 0

    @property
    def milestone(self) -> Milestone | None:
        """The highest milestone this event reached, if any (all of them: `milestones`)."""
        return self.milestones[-1] if self.milestones else None
