# Frozen copy of rules/engine/evaluation.py as of main 9948adc (before the engine's speed work): the
# reference engine of tests/bench/engine.py and tests/unit/rules/test_engine_equivalence.py.
# Do not edit: it is what the new engine is measured against and must agree with.
"""The reward engine: one event, the compiled definitions and the user's state in; the user's
next state, the ledger lines and the response out. Pure: no store, no clock, no flask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from tests.bench.reference.challenges import ChallengeReport, ChallengeRule, advance_challenge
from tests.bench.reference.definitions import EventRule, StreakRule
from tests.bench.reference.levels import LevelChange, LevelTable, level_change
from tests.bench.reference.periods import span_of, zone
from tests.bench.reference.points import (
    Reward,
    check_metadata_schema,
    decide_reward,
    within_points_cap,
)
from tests.bench.reference.state import CompletionCounter, PointsTally, StreakState, UserState
from tests.bench.reference.streaks import advance_at

# Metadata fields that also update the user's profile (docs/api.md#post-event).
PROFILE_FIELDS = ("usergroup", "timezone")
# The one period of a "lifetime" points cap starts here.
LIFETIME_START = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    event_id: str
    user_id: str
    timestamp: datetime  # timezone-aware
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LedgerLine:
    delta: int
    source: str  # event | streak | challenge | adjustment
    reason: str


@dataclass(frozen=True)
class StreakReport:
    streak_id: str
    current_count: int
    longest_count: int
    last_update: datetime | None
    milestone_reached: bool
    points_awarded: int
    freezes_used: int


@dataclass(frozen=True)
class Outcome:
    """The response to one event (docs/api.md#post-event)."""

    event_id: str
    user_id: str
    timestamp: datetime
    points_awarded: int
    total_points_awarded: int
    balance: int
    rewarded: bool
    reason: str | None
    streaks: tuple[StreakReport, ...] = ()
    challenges: tuple[ChallengeReport, ...] = ()
    level: LevelChange | None = None  # None when the project defines no levels
    badges: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    state: UserState
    ledger: tuple[LedgerLine, ...]
    outcome: Outcome


def evaluate(
    event: Event,
    rule: EventRule,
    streak_rules: Sequence[StreakRule],
    user: UserState,
    *,
    challenges: Sequence[ChallengeRule] = (),
    levels: LevelTable | None = None,
    usergroup_from_metadata: bool = True,
) -> Evaluation:
    """Apply `event` to `user` under `rule`, the streaks and challenges that count it and the
    project's level table. With `usergroup_from_metadata` false (the project's setting), the
    event's `metadata.usergroup` changes nothing: only the support API sets a usergroup.

    Raises InvalidEvent when the metadata breaks the rule's metadataSchema.
    """
    check_metadata_schema(rule, event.metadata)
    user = _with_profile(user, event, usergroup_from_metadata)
    ledger: list[LedgerLine] = []
    badges: list[str] = []

    reward, completions, earned = _reward(rule, event, user)
    if reward.points:
        ledger.append(LedgerLine(reward.points, "event", f"event:{rule.event_id}"))

    streaks = dict(user.streaks)
    reports: list[StreakReport] = []
    for streak in streak_rules:
        if not (
            streak.active and event.event_id in streak.events and streak.condition(event.metadata)
        ):
            continue
        step = advance_at(
            streak,
            streaks.get(streak.streak_id),
            event.timestamp,
            zone(user.timezone or streak.timezone),
        )
        streaks[streak.streak_id] = step.state
        milestone_points = 0
        # A late event filling a gap may reach several milestones at once.
        for milestone in step.milestones:
            milestone_points += milestone.points
            if milestone.points:
                ledger.append(
                    LedgerLine(
                        milestone.points,
                        "streak",
                        f"streak:{streak.streak_id}:milestone:{milestone.count}",
                    )
                )
            if milestone.badge:
                badges.append(milestone.badge)
        reports.append(
            _report(
                streak.streak_id,
                step.state,
                bool(step.milestones),
                milestone_points,
                step.freezes_used,
            )
        )

    challenge_states = dict(user.challenges)
    challenge_reports: list[ChallengeReport] = []
    user_zone = zone(user.timezone) if user.timezone else None
    for challenge in challenges:
        progress = advance_challenge(
            challenge,
            challenge_states.get(challenge.challenge_id),
            event.event_id,
            event.metadata,
            event.timestamp,
            user_zone,
        )
        if progress.report is None or progress.state is None:
            continue
        challenge_states[challenge.challenge_id] = progress.state
        challenge_reports.append(progress.report)
        if progress.report.points_awarded:
            ledger.append(
                LedgerLine(
                    progress.report.points_awarded,
                    "challenge",
                    f"challenge:{challenge.challenge_id}",
                )
            )
        if progress.report.badge:
            badges.append(progress.report.badge)

    new_badges = tuple(dict.fromkeys(b for b in badges if b not in user.badges))
    total = sum(line.delta for line in ledger)
    state = replace(
        user,
        balance=user.balance + total,
        lifetime=user.lifetime + total,
        streaks=streaks,
        completions=completions,
        earned=earned,
        challenges=challenge_states,
        badges=user.badges + new_badges,
    )
    outcome = Outcome(
        event_id=event.event_id,
        user_id=event.user_id,
        timestamp=event.timestamp,
        points_awarded=reward.points,
        total_points_awarded=total,
        balance=state.balance,
        rewarded=reward.completed,
        reason=reward.reason,
        streaks=tuple(reports),
        challenges=tuple(challenge_reports),
        level=level_change(levels, user.lifetime, state.lifetime),
        badges=new_badges,
    )
    return Evaluation(state=state, ledger=tuple(ledger), outcome=outcome)


def _reward(
    rule: EventRule, event: Event, user: UserState
) -> tuple[Reward, dict[str, CompletionCounter], dict[str, PointsTally]]:
    """The rule's reward, the completions with this one added, and the points earned per
    period of the rule's maxPoints with these added. Caps count what falls in the event's
    period in the user's current timezone (UTC when unknown)."""
    completions = dict(user.completions)
    earned = dict(user.earned)
    where = zone(user.timezone or "UTC")
    cap = rule.cap
    counter = completions.get(rule.event_id) or CompletionCounter()
    so_far = 0
    if cap is not None:
        counted = counter.count_within(span_of(event.timestamp, where, cap.period))
        # Too old to know: never risk paying a capped reward twice.
        so_far = cap.count if counted is None else counted
    reward = decide_reward(rule, event.metadata, user.usergroup, so_far)
    if rule.max_points is not None:
        start = span_of(event.timestamp, where, rule.max_points.period).start or LIFETIME_START
        tally = earned.get(rule.event_id) or PointsTally()
        reward, earned[rule.event_id] = within_points_cap(rule, reward, tally, start)
    if cap is not None and reward.completed:
        completions[rule.event_id] = counter.added(event.timestamp)
    return reward, completions, earned


def _with_profile(user: UserState, event: Event, usergroup_from_metadata: bool) -> UserState:
    updates: dict[str, Any] = {
        name: event.metadata[name]
        for name in PROFILE_FIELDS
        if isinstance(event.metadata.get(name), str)
        and (usergroup_from_metadata or name != "usergroup")
    }
    seen = event.timestamp
    return replace(
        user,
        **updates,
        first_seen=min(user.first_seen, seen) if user.first_seen else seen,
        last_seen=max(user.last_seen, seen) if user.last_seen else seen,
        event_count=user.event_count + 1,
    )


def _report(
    streak_id: str, state: StreakState, milestone_reached: bool, points: int, freezes_used: int
) -> StreakReport:
    return StreakReport(
        streak_id=streak_id,
        current_count=state.current_count,
        longest_count=state.longest_count,
        last_update=state.last_update,
        milestone_reached=milestone_reached,
        points_awarded=points,
        freezes_used=freezes_used,
    )
