"""EventResultSchema.dump writes an Outcome out by hand (web.schemas.batch_results.outcome_body):
the same dict, keys in the same order, as marshmallow's own dump of the schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema

from rules.engine.challenges import ChallengeReport
from rules.engine.evaluation import Outcome, StreakReport
from rules.engine.levels import LevelChange
from web.schemas.events import BatchItemResultSchema, EventResultSchema

texts = st.text(max_size=8)
maybe_texts = st.none() | texts
integers = st.integers(min_value=-(2**63), max_value=2**63 - 1)
# Numbers as a stored document may hold them: ints and floats (JSON-clean), and bools.
numbers = integers | st.floats(allow_nan=False, allow_infinity=False) | st.booleans()
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)

streaks = st.builds(
    StreakReport,
    streak_id=texts,
    current_count=integers,
    longest_count=integers,
    last_update=st.none() | moments,
    milestone_reached=st.booleans(),
    points_awarded=integers,
    freezes_used=integers,
)
challenges = st.builds(
    ChallengeReport,
    challenge_id=texts,
    progress=numbers,
    target=numbers,
    completed=st.booleans(),
    points_awarded=integers,
    badge=maybe_texts,
)
levels = st.none() | st.builds(
    LevelChange, level=integers, name=maybe_texts, level_up=st.booleans()
)
outcomes = st.builds(
    Outcome,
    event_id=texts,
    user_id=texts,
    timestamp=moments,
    points_awarded=integers,
    total_points_awarded=integers,
    balance=integers,
    rewarded=st.booleans(),
    reason=st.none() | st.sampled_from(["conditions_not_met", "limit_reached"]),
    streaks=st.lists(streaks, max_size=3).map(tuple),
    challenges=st.lists(challenges, max_size=3).map(tuple),
    level=levels,
    badges=st.lists(texts, max_size=3).map(tuple),
)


def marshmallows_dump(schema: Schema, value: Any) -> Any:
    """The dump marshmallow makes field by field, nested schemas included."""
    with patch.object(EventResultSchema, "dump", Schema.dump):
        return schema.dump(value)


def as_json(value: Any) -> str:
    return json.dumps(value)  # keeps the keys' order: the response's field order


@given(outcomes)
def test_an_outcome_dumps_as_marshmallow_dumps_it(outcome: Outcome) -> None:
    schema = EventResultSchema()

    assert as_json(schema.dump(outcome)) == as_json(marshmallows_dump(schema, outcome))


@given(outcomes)
def test_a_batch_item_holding_an_outcome_dumps_as_marshmallow_dumps_it(outcome: Outcome) -> None:
    schema = BatchItemResultSchema()
    item = {"index": 3, "status": 200, "data": outcome}

    assert as_json(schema.dump(item)) == as_json(marshmallows_dump(schema, item))


def test_lists_and_narrowed_schemas_take_marshmallows_way(monkeypatch: Any) -> None:
    outcome = Outcome(
        "daily_login", "amy", datetime(2026, 11, 30, tzinfo=UTC), 10, 10, 10, True, None
    )
    handwritten: list[Outcome] = []

    def written_by_hand(value: Outcome) -> dict[str, Any]:
        handwritten.append(value)
        return {"by": "hand"}

    monkeypatch.setattr("web.schemas.events.outcome_body", written_by_hand)

    assert EventResultSchema(only=["event_id"]).dump(outcome) == {"eventId": "daily_login"}
    assert EventResultSchema().dump([outcome], many=True)[0]["eventId"] == "daily_login"
    assert EventResultSchema().dump(outcome) == {"by": "hand"}
    assert handwritten == [outcome]
