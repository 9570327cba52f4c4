"""The user document mapping of rules.stores.users: a state survives a round trip through BSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bson

from rules.engine.state import (
    CompletionCounter,
    PaidRun,
    StreakBase,
    StreakMoment,
    StreakState,
    UserState,
)
from rules.stores.users import state_from_document, state_to_fields


def test_state_round_trips_through_a_bson_document() -> None:
    moment = datetime(2024, 3, 31, 1, 30, 15, 123000, tzinfo=UTC)
    state = UserState(
        user_id="user.with.dots",
        usergroup="subscriber",
        timezone="Europe/Berlin",
        balance=120,
        lifetime=150,
        streaks={
            "daily.app:use": StreakState(
                current_count=3,
                longest_count=5,
                last_update=moment,
                freezes=1,
                period="day",
                recent=(StreakMoment(moment - timedelta(days=1), "Europe/Berlin"),),
                base=StreakBase(1, 5, 1, moment, moment, moment, (StreakMoment(moment, "UTC"),)),
                paid=(PaidRun(moment, 4),),
            )
        },
        completions={
            "purchase.done": CompletionCounter(
                total=150,
                recent=(moment - timedelta(hours=3), moment),
                dropped_through=moment - timedelta(days=40),
            ),
            "profile": CompletionCounter(total=1, recent=(moment,)),
        },
        badges=("on_fire",),
        first_seen=moment,
        last_seen=moment,
        event_count=9,
    )
    document = {"userId": state.user_id, **state_to_fields(state)}

    decoded = bson.decode(bson.encode(document), codec_options=bson.CodecOptions(tz_aware=True))

    assert state_from_document(decoded) == state


def test_ids_with_dots_are_values_not_field_names() -> None:
    state = UserState(
        user_id="u", streaks={"a.b": StreakState()}, completions={"c.d": CompletionCounter()}
    )

    fields = state_to_fields(state)

    assert fields["streaks"][0]["streakId"] == "a.b"
    assert fields["completions"][0]["eventId"] == "c.d"
