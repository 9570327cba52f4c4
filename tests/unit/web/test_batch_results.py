"""POST /events/batch's results dump exactly as marshmallow dumps them through the documented
schemas (web.schemas.batch_results), whatever the outcomes and errors hold."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from marshmallow import fields

from rules.engine.challenges import ChallengeReport
from rules.engine.evaluation import Outcome, StreakReport
from rules.engine.levels import LevelChange
from web.schemas.events import BatchItemResultSchema, BatchResultSchema
from web.schemas.fields import ResponseSchema


class PlainBatchResultSchema(ResponseSchema):
    """BatchResultSchema as it was: marshmallow's own List of the documented item schema."""

    results = fields.List(fields.Nested(BatchItemResultSchema))


texts = st.text(max_size=8)
counts = st.integers(min_value=-(2**40), max_value=2**40)
flags = st.booleans()
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    ),
) | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
numbers = counts | st.floats(allow_nan=False, allow_infinity=False)

streaks = st.builds(StreakReport, texts, counts, counts, st.none() | moments, flags, counts, counts)
challenges = st.builds(ChallengeReport, texts, numbers, numbers, flags, counts, st.none() | texts)
levels = st.none() | st.builds(LevelChange, counts, st.none() | texts, flags)
outcomes = st.builds(
    Outcome,
    texts,
    texts,
    moments,
    counts,
    counts,
    counts,
    flags,
    st.none() | st.sampled_from(["conditions_not_met", "limit_reached"]),
    st.lists(streaks, max_size=3).map(tuple),
    st.lists(challenges, max_size=3).map(tuple),
    levels,
    st.lists(texts, max_size=3).map(tuple),
)
errors = st.fixed_dictionaries(
    {
        "code": texts,
        "message": texts,
        "details": st.dictionaries(texts, st.lists(texts, max_size=2), max_size=3),
    }
)


@st.composite
def results(draw: Any) -> list[dict[str, Any]]:
    """Items as the batch view builds them."""
    items = []
    for index in range(draw(st.integers(0, 6))):
        if draw(flags):
            item: dict[str, Any] = {"index": index, "status": 200, "data": draw(outcomes)}
            if draw(flags):
                item["replayed"] = True
        else:
            status = draw(st.sampled_from([400, 404, 422, 429, 500, 503]))
            item = {"index": index, "status": status, "error": draw(errors)}
        items.append(item)
    return items


@given(results())
def test_batch_results_dump_as_marshmallow_dumps_them(items: list[dict[str, Any]]) -> None:
    fast = BatchResultSchema().dump({"results": items})
    plain = PlainBatchResultSchema().dump({"results": items})

    # The same JSON text, key order included (responses keep the documented field order).
    assert json.dumps(fast) == json.dumps(plain)


def test_an_item_dumps_each_documented_field_in_order() -> None:
    moment = datetime(2026, 11, 30, 12, 34, 56, 789_999, tzinfo=UTC)
    outcome = Outcome(
        "login",
        "amy",
        moment,
        10,
        30,
        40,
        True,
        None,
        (StreakReport("daily", 3, 5, moment, True, 20, 1),),
        (ChallengeReport("five", 2.5, 5, False, 0, None),),
        LevelChange(2, "Silver", True),
        ("on_fire",),
    )

    dumped = BatchResultSchema().dump({"results": [{"index": 0, "status": 200, "data": outcome}]})

    assert dumped == {
        "results": [
            {
                "index": 0,
                "status": 200,
                "data": {
                    "eventId": "login",
                    "userId": "amy",
                    "pointsAwarded": 10,
                    "totalPointsAwarded": 30,
                    "balance": 40,
                    "timestamp": 1_796_042_096_789,
                    "rewarded": True,
                    "reason": None,
                    "streaks": [
                        {
                            "streakId": "daily",
                            "currentCount": 3,
                            "longestCount": 5,
                            "lastUpdate": "2026-11-30T12:34:56.789Z",
                            "milestoneReached": True,
                            "pointsAwarded": 20,
                            "freezesUsed": 1,
                        }
                    ],
                    "challenges": [
                        {
                            "challengeId": "five",
                            "progress": 2.5,
                            "target": 5,
                            "completed": False,
                            "pointsAwarded": 0,
                            "badge": None,
                        }
                    ],
                    "level": {"level": 2, "name": "Silver", "levelUp": True},
                    "badges": ["on_fire"],
                },
            }
        ]
    }
