"""The reward engine: one event, the compiled definitions and the user's state in; the user's
next state, the ledger lines and the response out. Pure: no store, no clock, no flask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rules.engine.challenge_progress import advance_challenges
from rules.engine.challenges import ChallengeReport, ChallengeRule, ChallengeState
from rules.engine.conditions import Predicate
from rules.engine.definitions import EventRule, StreakRule
from rules.engine.frozen import fast_init
from rules.engine.levels import LevelChange, LevelTable, level_change
from rules.engine.periods import period_index, zone
from rules.engine.points import Reward, check_metadata_schema
from rules.engine.rewards import reward_of
from rules.engine.state import StreakState, UserState
from rules.engine.streaks import (
    LATEST_PERIOD,
    StreakStep,
    advance_at,
    latest_period,
    unchanged_by,
)


@fast_init
@dataclass(frozen=True)
class Event:
    event_id: str
    user_id: str
    timestamp: datetime  # timezone-aware
    metadata: Mapping[str, Any] = field(default_factory=dict)


@fast_init
@dataclass(frozen=True)
class LedgerLine:
    delta: int
    source: str  # event | streak | challenge | adjustment
    reason: str


@fast_init
@dataclass(frozen=True)
class StreakReport:
    streak_id: str
    current_count: int
    longest_count: int
    last_update: datetime | None
    milestone_reached: bool
    points_awarded: int
    freezes_used: int


@fast_init
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


@fast_init
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
    metadata = event.metadata
    check_metadata_schema(rule, metadata)
    usergroup, timezone = _profile(user, metadata, usergroup_from_metadata)
    # Each condition once: definitions with equal conditions share one predicate.
    verdicts: dict[Predicate, bool] = {rule.condition: rule.condition(metadata)}
    ledger: list[LedgerLine] = []
    badges: list[str] = []

    reward, completions, earned = reward_of(
        rule, event.timestamp, metadata, user, usergroup, timezone, verdicts[rule.condition]
    )
    if reward.points:
        ledger.append(LedgerLine(reward.points, "event", f"event:{rule.event_id}"))
    streaks, reports = _advance_streaks(
        event, streak_rules, user, timezone, verdicts, ledger, badges
    )
    challenge_states, challenge_reports = _advance_challenges(
        event, challenges, user, timezone, verdicts, ledger, badges
    )
    new_badges = tuple(dict.fromkeys(b for b in badges if b not in user.badges)) if badges else ()
    total = 0
    for line in ledger:  # a line or two: cheaper than sum() over a generator
        total += line.delta
    seen = event.timestamp
    # Every field, not replace(), and in order (positional: keywords cost twice as much):
    # tests/unit/rules/test_engine.py fails if UserState gains one or changes their order.
    state = UserState(
        user.user_id,
        usergroup,
        timezone,
        user.balance + total,  # balance
        user.lifetime + total,  # lifetime
        streaks,
        completions,
        earned,
        challenge_states,
        user.badges + new_badges,
        min(user.first_seen, seen) if user.first_seen else seen,  # first_seen
        max(user.last_seen, seen) if user.last_seen else seen,  # last_seen
        user.event_count + 1,
    )
    level = level_change(levels, user.lifetime, state.lifetime)
    outcome = _outcome(event, reward, total, state, reports, challenge_reports, level, new_badges)
    return Evaluation(state, tuple(ledger), outcome)


def _outcome(
    event: Event,
    reward: Reward,
    total: int,
    state: UserState,
    streaks: tuple[StreakReport, ...],
    challenges: tuple[ChallengeReport, ...],
    level: LevelChange | None,
    badges: tuple[str, ...],
) -> Outcome:
    """The response to `event`: the rule's `reward`, `total` points in all, the user's
    `state` once it is applied and the reports of what else it did."""
    # In the order of Outcome's fields (positional: keywords cost twice as much).
    return Outcome(
        event.event_id,
        event.user_id,
        event.timestamp,
        reward.points,  # points_awarded
        total,  # total_points_awarded
        state.balance,
        reward.completed,  # rewarded
        reward.reason,
        streaks,
        challenges,
        level,
        badges,
    )


def _advance_streaks(
    event: Event,
    streak_rules: Sequence[StreakRule],
    user: UserState,
    timezone: str | None,
    verdicts: dict[Predicate, bool],
    ledger: list[LedgerLine],
    badges: list[str],
) -> tuple[Mapping[str, StreakState], tuple[StreakReport, ...]]:
    """The streaks that count the event advanced, their reports; milestones paid into
    `ledger` and `badges`."""
    streaks = user.streaks
    advanced: dict[str, StreakState] | None = None  # `streaks` copied, once one changes
    reports: list[StreakReport] = []
    event_id, metadata, timestamp = event.event_id, event.metadata, event.timestamp
    # The instant as streaks keep it; a naive timestamp goes to advance_at, which refuses it.
    at = timestamp.astimezone(UTC) if timestamp.tzinfo is not None else None
    # The event's period, by the zone and kind of a streak's period (StreakRule.plan's key), or
    # by kind alone in the user's zone: a key made once per streak, not once per event.
    indexes: dict[object, int] = {}
    for streak in streak_rules:
        events, condition, streak_id, own_zone, period, own_key = streak.plan
        if event_id not in events:
            continue
        met = verdicts.get(condition)
        if met is None:
            met = verdicts[condition] = condition(metadata)
        if not met:
            continue
        zone_name = timezone or own_zone
        current = streaks.get(streak_id)
        index = None  # the event's period in `zone_name`, of the streak's kind
        checked = False  # whether unchanged_by was asked (advance_at need not ask again)
        if current is not None and at is not None:
            checked, key = True, period if timezone else own_key
            index = indexes.get(key)
            if index is None:
                index = indexes[key] = period_index(at, zone(zone_name), period)
            # unchanged_by, inline when the latest kept moment is of the user's zone: the
            # common case, another event in a counted period, with nothing to walk.
            recent, remembered = current.recent, current.__dict__
            if recent and recent[-1].zone == zone_name and current.period == period:
                kept = remembered.get(LATEST_PERIOD)
                unchanged = at > recent[-1].at and (
                    (latest_period(current, period) if kept is None else kept) == index
                )
            else:
                unchanged = unchanged_by(streak, current, at, zone_name, index)
            if unchanged:
                report = remembered.get(_UNCHANGED_REPORT)
                if report is None or report.streak_id != streak_id:
                    report = _unchanged_report(streak_id, current)
                reports.append(report)
                continue
        step = advance_at(streak, current, timestamp, zone(zone_name), checked=checked, index=index)
        if advanced is None:
            advanced = dict(streaks)
        advanced[streak_id] = step.state
        reports.append(_report(streak_id, step, ledger, badges))
    return streaks if advanced is None else advanced, tuple(reports)


def _advance_challenges(
    event: Event,
    challenges: Sequence[ChallengeRule],
    user: UserState,
    timezone: str | None,
    verdicts: dict[Predicate, bool],
    ledger: list[LedgerLine],
    badges: list[str],
) -> tuple[dict[str, ChallengeState], tuple[ChallengeReport, ...]]:
    """The challenges that count the event advanced (rules.engine.challenge_progress), their
    reports; rewards paid into `ledger` and `badges`."""
    rewarded: list[ChallengeReport] = []
    states, reports = advance_challenges(
        (event.event_id, event.metadata, event.timestamp),
        challenges,
        user.challenges,
        timezone,
        verdicts,
        rewarded,
    )
    for report in rewarded:
        if report.points_awarded:
            reason = f"challenge:{report.challenge_id}"
            ledger.append(LedgerLine(report.points_awarded, "challenge", reason))
        if report.badge:
            badges.append(report.badge)
    return states, reports


def _profile(
    user: UserState, metadata: Mapping[str, Any], usergroup_from_metadata: bool
) -> tuple[str | None, str | None]:
    """The user's usergroup and timezone once the event is seen (docs/api.md#post-event): the
    metadata's, when a string (the usergroup only with `usergroup_from_metadata`), else as they
    were."""
    usergroup, timezone = metadata.get("usergroup"), metadata.get("timezone")
    return (
        usergroup if usergroup_from_metadata and isinstance(usergroup, str) else user.usergroup,
        timezone if isinstance(timezone, str) else user.timezone,
    )


def _report(
    streak_id: str, step: StreakStep, ledger: list[LedgerLine], badges: list[str]
) -> StreakReport:
    """The report of a `step` of the streak; its milestones paid into `ledger` and `badges`."""
    points = 0
    # A late event filling a gap may reach several milestones at once.
    for milestone in step.milestones:
        points += milestone.points
        if milestone.points:
            reason = f"streak:{streak_id}:milestone:{milestone.count}"
            ledger.append(LedgerLine(milestone.points, "streak", reason))
        if milestone.badge:
            badges.append(milestone.badge)
    state = step.state
    milestone_reached, freezes_used = bool(step.milestones), step.freezes_used
    report = StreakReport(
        streak_id,
        state.current_count,
        state.longest_count,
        state.last_update,
        milestone_reached,
        points,
        freezes_used,
    )
    if not (milestone_reached or freezes_used):
        # Also the report of the next event that leaves `state` as it is (_unchanged_report).
        state.__dict__[_UNCHANGED_REPORT] = report
    return report


# Where a streak state remembers the report of an event that left it unchanged.
_UNCHANGED_REPORT = "_unchanged_report"


def _unchanged_report(streak_id: str, state: StreakState) -> StreakReport:
    """The report of an event that left the streak in `state` as it was. It depends on nothing
    else, so it is built once per state and remembered in the state's `__dict__`, as
    functools.cached_property remembers a value (not a field: equality, asdict() and replace()
    never see it): a user's next events evaluated on the same state (a batch, the same user
    again in one process) reuse it."""
    remembered: StreakReport | None = state.__dict__.get(_UNCHANGED_REPORT)
    if remembered is not None and remembered.streak_id == streak_id:
        return remembered
    report = StreakReport(
        streak_id, state.current_count, state.longest_count, state.last_update, False, 0, 0
    )
    state.__dict__[_UNCHANGED_REPORT] = report
    return report
