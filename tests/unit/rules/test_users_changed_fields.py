"""rules.stores.users.changed_fields: a save writes exactly the fields whose stored form an
event changed, as comparing the whole stored forms before and after would find them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import bson
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine.challenges import ChallengeRule, ChallengeState
from rules.engine.definitions import EventRule, StreakRule
from rules.engine.evaluation import Event, evaluate
from rules.engine.state import CompletionCounter, PointsTally, StreakState, UserState
from rules.stores.users import changed_fields, state_from_document, state_to_fields

START = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # a DST change in Europe the next night
RULES = {
    "purchase": EventRule.from_document(
        {
            "eventId": "purchase",
            "points": {"fixed": 5, "perUnit": {"field": "orderValue", "rate": 2}},
            "maxCompletions": {"count": 3, "period": "day"},
        }
    ),
    "login": EventRule.from_document({"eventId": "login", "points": {"fixed": 1}}),
}
STREAKS = [
    StreakRule.from_document(
        {
            "streakId": f"s.{period}",
            "events": ["login", "purchase"],
            "period": period,
            "milestones": [{"count": 2, "points": 10, "badge": f"b-{period}"}],
            "freezes": {"initial": 1, "max": 2, "earnEvery": 3},
        }
    )
    for period in ("day", "week")
]
CHALLENGES = [
    ChallengeRule.from_document(
        {
            "challengeId": "spend",
            "events": ["purchase"],
            "goal": {"type": "sum", "field": "orderValue", "target": 50},
            "reset": "week",
            "reward": {"points": 30},
            "repeatable": True,
        }
    ),
    ChallengeRule.from_document(
        {
            "challengeId": "three.logins",
            "events": ["login"],
            "goal": {"type": "count", "target": 3},
            "reward": {"points": 5, "badge": "regular"},
        }
    ),
]

events = st.lists(
    st.tuples(
        st.sampled_from(sorted(RULES)),
        st.integers(-48, 24 * 21),  # hours from START: late events too
        st.sampled_from([None, "UTC", "Europe/Berlin", "Pacific/Auckland"]),
        st.sampled_from([None, "subscriber", "free"]),
        st.decimals(0, 80, places=2).map(float),
    ),
    max_size=25,
)


def compared_whole(before: UserState, after: UserState) -> dict[str, Any]:
    """The fields a save wrote before changed_fields: every stored form compared."""
    old = state_to_fields(before)
    return {name: value for name, value in state_to_fields(after).items() if old.get(name) != value}


def as_stored(state: UserState) -> UserState:
    """`state` as a save stores it and a load reads it back (through BSON)."""
    document = {"userId": state.user_id, **state_to_fields(state)}
    options = bson.CodecOptions(tz_aware=True)
    return state_from_document(bson.decode(bson.encode(document), codec_options=options))


@settings(max_examples=60, deadline=None)
@given(events)
def test_the_fields_written_are_those_whose_stored_form_changed(
    history: list[tuple[str, int, str | None, str | None, float]],
) -> None:
    state = UserState(user_id="u.1")
    for event_id, hours, timezone, usergroup, value in history:
        metadata: dict[str, Any] = {"orderValue": value}
        if timezone is not None:
            metadata["timezone"] = timezone
        if usergroup is not None:
            metadata["usergroup"] = usergroup
        event = Event(event_id, "u.1", START + timedelta(hours=hours), metadata)
        # As a request evaluates it: on the state loaded from the user's document.
        loaded = as_stored(state)
        after = evaluate(event, RULES[event_id], STREAKS, loaded, challenges=CHALLENGES).state

        assert changed_fields(loaded, after) == compared_whole(loaded, after)
        state = after


def test_an_unchanged_state_writes_nothing_and_a_new_field_is_written() -> None:
    state = as_stored(UserState(user_id="u", balance=5, badges=("a",)))

    assert changed_fields(state, state) == {}
    assert changed_fields(state, UserState(user_id="u", balance=5, badges=("a", "b"))) == {
        "badges": ["a", "b"]
    }


def test_each_part_of_the_state_is_written_when_it_alone_changed() -> None:
    moment = START + timedelta(days=1)
    state = as_stored(UserState(user_id="u", balance=5, lifetime=8))
    changes = {
        "usergroup": "vip",
        "timezone": "Asia/Tokyo",
        "balance": 4,
        "lifetime": 9,
        "streaks": {"s": StreakState(current_count=1, last_update=moment)},
        "completions": {"e": CompletionCounter(total=1, recent=(moment,))},
        "earned": {"e": PointsTally(periods=((moment, 3),))},
        "challenges": {"c": ChallengeState(progress=Decimal(2), last_update=moment)},
        "badges": ("b",),
        "first_seen": moment,
        "last_seen": moment,
        "event_count": 2,
    }
    for part, value in changes.items():
        after = replace(state, **{part: value})

        assert changed_fields(state, after) == compared_whole(state, after) != {}, part
