"""The evaluation's loop over challenges (rules.engine.challenge_progress) decides as the plain
path: for each challenge that selects the event, progress_of from the state before, with the
goal's contribution of the event. On random challenges and event histories (late events,
travel, DST changes, resets, windows, repeatable goals), with states the loop made (and so
remembered their progress as reports show it) and states read back from their documents.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine.challenge_progress import SHOWN_PROGRESS, advance_challenges
from rules.engine.challenges import (
    ChallengeReport,
    ChallengeRule,
    ChallengeState,
    challenge_state_from_document,
    challenge_state_to_document,
    plain_number,
    progress_of,
)
from rules.engine.periods import zone
from tests.unit.rules.test_engine_equivalence import STARTS, challenge_documents, histories


def plain_path(
    challenges: list[ChallengeRule],
    states: dict[str, ChallengeState],
    event: tuple[str, dict[str, Any], datetime],
    timezone: str | None,
) -> tuple[dict[str, ChallengeState], list[ChallengeReport]]:
    event_id, metadata, timestamp = event
    states, reports = dict(states), []
    for challenge in challenges:
        if challenge.selects(event_id, metadata, timestamp):
            amount = challenge.goal.contribution(metadata)
            where = zone(timezone) if timezone else None
            step = progress_of(
                challenge, states.get(challenge.challenge_id), amount, timestamp, where
            )
            states[challenge.challenge_id], report = step
            reports.append(report)
    return states, reports


# Any state a user may have: from events, from a definition edited since (a lowered target, a
# sum goal made a count goal), from a hand-edited document.
PROGRESS = ("0", "1", "3", "2.5", "0.30", "200.5", "49", "5.00", "9223372036854775806", "1E+3")
start_states = st.dictionaries(
    st.sampled_from([f"c{n}" for n in range(6)]),
    st.builds(
        ChallengeState,
        progress=st.sampled_from(PROGRESS).map(Decimal),
        completed=st.booleans(),
        completions=st.integers(0, 3),
        last_update=st.none() | st.sampled_from(STARTS).map(lambda at: at - timedelta(hours=30)),
    ),
)


def read_back(state: ChallengeState) -> ChallengeState:
    return challenge_state_from_document(challenge_state_to_document(state))


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(st.integers(0, 5), min_size=1, max_size=5).flatmap(
        lambda ids: st.tuples(*(challenge_documents(f"c{n}") for n in ids))
    ),
    histories(),
    st.lists(st.sampled_from(("kept", "kept", "read back", "replaced")), min_size=40, max_size=40),
    start_states,
)
def test_the_loop_decides_as_progress_of_on_every_step(
    documents: tuple[dict[str, Any], ...],
    history: list[tuple[str, datetime, dict[str, Any]]],
    how: list[str],
    states: dict[str, ChallengeState],
) -> None:
    challenges = [ChallengeRule.from_document(doc) for doc in documents]
    timezone = None
    for (event_id, at, metadata), kept in zip(history, how, strict=False):
        if isinstance(metadata.get("timezone"), str):
            timezone = metadata["timezone"]
        if kept == "read back":  # as stored and read again: nothing remembered
            states = {key: read_back(state) for key, state in states.items()}
        elif kept == "replaced":  # equal values, fresh objects
            states = {key: replace(state) for key, state in states.items()}
        event = (event_id, metadata, at)
        expected_states, expected_reports = plain_path(challenges, states, event, timezone)
        rewarded: list[ChallengeReport] = []
        new_states, reports = advance_challenges(event, challenges, states, timezone, {}, rewarded)
        assert [asdict(report) for report in reports] == [asdict(r) for r in expected_reports]
        assert [type(report.progress) for report in reports] == [
            type(report.progress) for report in expected_reports
        ]
        assert new_states == expected_states
        assert all(report in reports for report in rewarded)
        assert [r for r in reports if r.points_awarded or r.badge] == [
            r for r in rewarded if r.points_awarded or r.badge
        ]
        for state in new_states.values():
            shown = state.__dict__.get(SHOWN_PROGRESS)
            if shown is not None:  # what it remembers is what plain_number says
                assert type(shown) is type(plain_number(state.progress))
                assert shown == plain_number(state.progress)
        states = new_states


T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday


def count_rule(**fields: Any) -> ChallengeRule:
    doc = {"challengeId": "c", "events": ["a"], "goal": {"type": "count", "target": 10}}
    return ChallengeRule.from_document({**doc, **fields})


def counted(
    rule: ChallengeRule, moments: list[datetime], state: ChallengeState | None = None
) -> tuple[ChallengeState | None, list[int | float]]:
    shown = []
    for moment in moments:
        states, reports = advance_challenges(
            ("a", {}, moment), [rule], {} if state is None else {"c": state}, None, {}, []
        )
        state = states["c"]
        shown.extend(report.progress for report in reports)
    return state, shown


def test_a_count_goal_shows_one_more_at_each_event_from_what_its_state_remembers() -> None:
    state, shown = counted(count_rule(), [T0 + timedelta(hours=n) for n in range(4)])
    assert shown == [1, 2, 3, 4]
    assert state is not None and state.__dict__[SHOWN_PROGRESS] == 4


def test_a_count_goal_restarts_its_shown_progress_with_a_new_period() -> None:
    daily = count_rule(reset="day")
    moments = [T0, T0 + timedelta(hours=1), T0 + timedelta(days=1), T0 + timedelta(days=1, hours=1)]
    assert counted(daily, moments)[1] == [1, 2, 1, 2]


def test_a_whole_progress_read_back_from_a_fraction_is_shown_exactly() -> None:
    # A goal switched from sum to count keeps its progress: 2.5, then 3.5, never an int.
    state = ChallengeState(progress=Decimal("2.5"), last_update=T0)
    assert counted(count_rule(), [T0 + timedelta(hours=1)], state)[1] == [3.5]
    whole = ChallengeState(progress=Decimal("2.00"), last_update=T0)
    _, shown = counted(count_rule(), [T0 + timedelta(hours=1)], whole)
    assert shown == [3] and type(shown[0]) is int


def test_an_event_adding_nothing_completes_nothing_past_a_lowered_target() -> None:
    doc = {"challengeId": "c", "events": ["a"], "goal": {"type": "sum", "field": "v", "target": 5}}
    rule = ChallengeRule.from_document(doc)
    past = ChallengeState(progress=Decimal(8), last_update=T0)
    states, reports = advance_challenges(("a", {}, T0), [rule], {"c": past}, None, {}, [])
    assert (reports[0].completed, reports[0].progress, states["c"].completed) == (False, 8, False)


def test_a_sum_goal_never_adds_to_what_its_state_remembers() -> None:
    doc = {"challengeId": "c", "events": ["a"], "goal": {"type": "sum", "field": "v", "target": 99}}
    rule = ChallengeRule.from_document(doc)
    state: ChallengeState | None = None
    shown = []
    for value in (1, 1, 0.5):
        states, reports = advance_challenges(
            ("a", {"v": value}, T0), [rule], {} if state is None else {"c": state}, None, {}, []
        )
        state = states["c"]
        shown.append(reports[0].progress)
    assert shown == [1, 2, 2.5]


def test_the_plan_is_what_the_rule_says_and_no_field() -> None:
    rule = count_rule(window={"start": "2026-03-01T00:00:00+00:00"})
    assert rule.plan[1] is rule.window
    assert count_rule().plan[1] is None  # no window to check
    assert count_rule(active=False).plan[0] == frozenset()
    assert "plan" not in asdict(rule) and rule == count_rule(
        window={"start": "2026-03-01T00:00:00+00:00"}
    )
