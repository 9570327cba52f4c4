"""What an event's own rule pays a user (rules.engine.points), within its caps: the payouts
and points its rule has already made in the event's period, in the user's current timezone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rules.engine.definitions import EventRule
from rules.engine.periods import span_of, zone
from rules.engine.points import Reward, decide_reward, within_points_cap
from rules.engine.state import CompletionCounter, PointsTally, UserState

# The one period of a "lifetime" points cap starts here.
LIFETIME_START = datetime(1970, 1, 1, tzinfo=UTC)


def reward_of(
    rule: EventRule,
    timestamp: datetime,
    metadata: Mapping[str, Any],
    user: UserState,
    usergroup: str | None,
    timezone: str | None,
    condition_met: bool,
) -> tuple[Reward, Mapping[str, CompletionCounter], Mapping[str, PointsTally]]:
    """The rule's reward for an event at `timestamp` with `metadata` (`condition_met`: the
    rule's condition on it), the completions with this one added, and the points earned per
    period of the rule's maxPoints with these added. Caps count what falls in the event's
    period in the user's current timezone (UTC when unknown)."""
    # Copied only where they change.
    completions, earned = user.completions, user.earned
    where = zone(timezone or "UTC")
    cap = rule.cap
    counter = completions.get(rule.event_id) or CompletionCounter()
    so_far = 0
    if cap is not None:
        counted = counter.count_within(span_of(timestamp, where, cap.period))
        # Too old to know: never risk paying a capped reward twice.
        so_far = cap.count if counted is None else counted
    reward = decide_reward(rule, metadata, usergroup, so_far, condition_met=condition_met)
    if rule.max_points is not None:
        start = span_of(timestamp, where, rule.max_points.period).start or LIFETIME_START
        tally = earned.get(rule.event_id) or PointsTally()
        earned = dict(earned)
        reward, earned[rule.event_id] = within_points_cap(rule, reward, tally, start)
    if cap is not None and reward.completed:
        completions = {**completions, rule.event_id: counter.added(timestamp)}
    return reward, completions, earned
