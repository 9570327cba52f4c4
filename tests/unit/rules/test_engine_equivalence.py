"""The engine decides exactly as it did before its speed work: on random definitions and random
event sequences (late events, imports, travel, DST changes, caps, resets, repeatable goals),
every evaluation of rules.engine.evaluation equals that of the frozen reference engine in
tests/bench/reference, field by field, and both refuse the same events the same way.

The two engines share no code but rules.errors: each compiles the same definition documents
into its own types, so they are compared as plain data (dataclasses.asdict).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bson.int64 import Int64
from hypothesis import given, settings
from hypothesis import strategies as st

import rules.engine.challenges as new_challenges
import rules.engine.conditions as new_conditions
import rules.engine.definitions as new_definitions
import rules.engine.evaluation as new_engine
import rules.engine.levels as new_levels
import rules.engine.periods as new_periods
import rules.engine.state as new_state
import rules.engine.streak_walk as new_walk
import rules.engine.streaks as new_streaks
import tests.bench.reference.challenges as old_challenges
import tests.bench.reference.conditions as old_conditions
import tests.bench.reference.definitions as old_definitions
import tests.bench.reference.engine as old_engine
import tests.bench.reference.levels as old_levels
import tests.bench.reference.periods as old_periods
import tests.bench.reference.state as old_state
import tests.bench.reference.streaks as old_streaks
from rules.errors import RulesError
from rules.stores.users import state_from_document, state_to_fields
from tests.bench.engine import decisions

EVENT_IDS = ("a", "b", "c")
# DST in both directions, a zone whose clocks change at midnight (so a local date can repeat),
# a 45-minute offset and one far east of UTC.
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Pacific/Chatham",
    "Asia/Tokyo",
)
STARTS = (
    datetime(2026, 3, 25, 10, tzinfo=UTC),  # Berlin springs forward on the 29th
    datetime(2026, 10, 22, 23, tzinfo=UTC),  # Berlin falls back on the 25th
    datetime(2026, 4, 1, 2, tzinfo=UTC),  # Santiago falls back at midnight on the 5th
    datetime(2026, 12, 27, 12, tzinfo=UTC),  # a month, ISO week and year end
)
CHOICES = ("ios", "web", "android", 1, True, None)
ORDER_VALUES = (None, 0, 1, 5, 20, 129.99, 0.1, -3, 10**6, True, "25", 1e300)


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from(("orderValue", "platform", "flag")))
    op = draw(
        st.sampled_from(
            ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "exists", "between", "contains")
        )
    )
    number = draw(st.sampled_from((0, 1, 20, 129.99, -1)))
    value: Any = {
        "eq": draw(st.sampled_from((*CHOICES, 20, 129.99))),
        "ne": draw(st.sampled_from((*CHOICES, 20))),
        "gt": number,
        "gte": number,
        "lt": number,
        "lte": number,
        "in": draw(st.lists(st.sampled_from((*CHOICES, 20, 0)), min_size=1, max_size=4)),
        "nin": draw(st.lists(st.sampled_from((*CHOICES, 20)), min_size=1, max_size=4)),
        "exists": draw(st.booleans()),
        "between": sorted(draw(st.lists(st.sampled_from((0, 5, 20, 200)), min_size=2, max_size=2))),
        "contains": draw(st.sampled_from(("i", "web", "x"))),
    }[op]
    leaf = {"field": field, "op": op, "value": value}
    if op == "exists" and draw(st.booleans()):
        del leaf["value"]
    return leaf


conditions = st.recursive(
    leaves(),
    lambda children: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda item: {"not": item}, children),
    ),
    max_leaves=5,
)
maybe_conditions = st.none() | conditions


def without_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if value is not None}


@st.composite
def event_rules(draw: st.DrawFn, event_id: str) -> dict[str, Any]:
    per_unit = draw(
        st.none()
        | st.fixed_dictionaries(
            {"field": st.just("orderValue"), "rate": st.sampled_from((1, 2, 0.5, 1.1))},
            optional={
                "rounding": st.sampled_from(("floor", "round", "ceil")),
                "max": st.integers(1, 300),
            },
        )
    )
    points = without_none(
        {
            "fixed": draw(st.integers(0, 10)),
            "perUnit": per_unit,
            "maxPerEvent": draw(st.none() | st.integers(1, 100)),
        }
    )
    periods = st.sampled_from(("day", "week", "month", "lifetime"))
    return without_none(
        {
            "eventId": event_id,
            "active": True,
            "points": points,
            "conditions": draw(maybe_conditions),
            "maxCompletions": draw(
                st.none() | st.fixed_dictionaries({"count": st.integers(1, 3), "period": periods})
            ),
            "maxPoints": draw(
                st.none() | st.fixed_dictionaries({"amount": st.integers(1, 60), "period": periods})
            ),
            "groupRewards": draw(
                st.none() | st.just({"gold": {"multiplier": 2}, "silver": {"multiplier": 1.5}})
            ),
            "metadataSchema": draw(st.none() | st.just({"orderValue": "number"})),
        }
    )


def some_events() -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(EVENT_IDS), min_size=1, max_size=3, unique=True)


@st.composite
def streak_documents(draw: st.DrawFn, streak_id: str) -> dict[str, Any]:
    counts = draw(st.lists(st.integers(1, 8), unique=True, max_size=3))
    return without_none(
        {
            "streakId": streak_id,
            "events": draw(some_events()),
            "period": draw(st.sampled_from(("day", "day", "week", "month"))),
            "timezone": draw(st.sampled_from(ZONES)),
            "active": draw(st.sampled_from((True, True, True, False))),
            "conditions": draw(maybe_conditions),
            "milestones": [
                without_none(
                    {
                        "count": count,
                        "points": draw(st.integers(0, 30)),
                        "badge": draw(st.none() | st.just(f"{streak_id}-{count}")),
                    }
                )
                for count in counts
            ],
            "freezes": draw(
                st.none()
                | st.fixed_dictionaries(
                    {"initial": st.integers(0, 2), "max": st.integers(0, 3)},
                    optional={"earnEvery": st.integers(1, 4)},
                )
            ),
        }
    )


@st.composite
def challenge_documents(draw: st.DrawFn, challenge_id: str) -> dict[str, Any]:
    goal = draw(
        st.one_of(
            st.fixed_dictionaries({"type": st.just("count"), "target": st.integers(1, 4)}),
            st.fixed_dictionaries(
                {
                    "type": st.just("sum"),
                    "field": st.just("orderValue"),
                    "target": st.sampled_from((1, 0.3, 50, 200.5)),
                }
            ),
        )
    )
    window = None
    if draw(st.booleans()):
        start = draw(st.sampled_from(STARTS)) + timedelta(days=draw(st.integers(-2, 5)))
        window = {"start": start.isoformat(), "end": (start + timedelta(days=3)).isoformat()}
    return without_none(
        {
            "challengeId": challenge_id,
            "events": draw(some_events()),
            "goal": goal,
            "conditions": draw(maybe_conditions),
            "window": window,
            "reset": draw(st.sampled_from(("none", "day", "week", "month"))),
            "reward": draw(
                st.none()
                | st.fixed_dictionaries(
                    {"points": st.integers(0, 40)},
                    optional={"badge": st.just(f"{challenge_id}-done")},
                )
            ),
            "repeatable": draw(st.booleans()),
            "active": draw(st.sampled_from((True, True, True, False))),
        }
    )


LEVELS = {
    "levels": [
        {"level": 1, "name": "Bronze", "minPoints": 10},
        {"level": 2, "name": "Silver", "minPoints": 60},
        {"level": 3, "name": "Gold", "minPoints": 200},
    ]
}


@st.composite
def projects(draw: st.DrawFn) -> dict[str, Any]:
    """Definition documents: an event rule per eventId, streaks, challenges, maybe levels."""
    return {
        "events": {event_id: draw(event_rules(event_id)) for event_id in EVENT_IDS},
        "streaks": [draw(streak_documents(f"s{n}")) for n in range(draw(st.integers(0, 4)))],
        "challenges": [draw(challenge_documents(f"c{n}")) for n in range(draw(st.integers(0, 4)))],
        "levels": draw(st.sampled_from((None, LEVELS, {"levels": []}))),
        "usergroup_from_metadata": draw(st.booleans()),
    }


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, datetime, dict[str, Any]]]:
    """Events as they arrive: mostly in time order, some late (up to 7 days), a few imported
    from long before; the user travels and changes usergroup now and then."""
    now = draw(st.sampled_from(STARTS))
    items = []
    for _ in range(draw(st.integers(1, 40))):
        now += timedelta(minutes=draw(st.sampled_from((0, 1, 30, 300, 420, 1440, 2000, 4000))))
        late = draw(
            st.sampled_from((0, 0, 0, 0, 0, 90, 1500, 7 * 1440, 20 * 1440))
            | st.integers(0, 7 * 1440)
        )
        metadata = without_none(
            {
                "orderValue": draw(st.sampled_from(ORDER_VALUES)),
                "platform": draw(st.sampled_from(CHOICES)),
                "flag": draw(st.sampled_from((None, True, False))),
                "timezone": draw(st.sampled_from((None, None, None, *ZONES))),
                "usergroup": draw(st.sampled_from((None, None, "gold", "silver", 7))),
            }
        )
        items.append((draw(st.sampled_from(EVENT_IDS)), now - timedelta(minutes=late), metadata))
    return items


class Side:
    """One engine with its own compiled definitions and its own chain of user states."""

    def __init__(self, engine: Any, definitions: Any, challenges: Any, levels: Any, state: Any):
        self.engine, self.state_module = engine, state
        self.definitions, self.challenges_module, self.levels_module = (
            definitions,
            challenges,
            levels,
        )

    def compile(self, project: dict[str, Any]) -> None:
        self.rules = {
            event_id: self.definitions.EventRule.from_document(doc)
            for event_id, doc in project["events"].items()
        }
        self.streaks = [self.definitions.StreakRule.from_document(d) for d in project["streaks"]]
        self.challenges = [
            self.challenges_module.ChallengeRule.from_document(d) for d in project["challenges"]
        ]
        levels = project["levels"]
        self.levels = (
            None if levels is None else self.levels_module.LevelTable.from_document(levels)
        )
        self.usergroup_from_metadata = project["usergroup_from_metadata"]
        self.user = self.state_module.UserState(user_id="u")

    def evaluate(self, event_id: str, at: datetime, metadata: dict[str, Any]) -> Any:
        """The evaluation as plain data, or the error it raised as (type, message, details)."""
        event = self.engine.Event(event_id, "u", at, metadata)
        try:
            result = self.engine.evaluate(
                event,
                self.rules[event_id],
                self.streaks,
                self.user,
                challenges=self.challenges,
                levels=self.levels,
                usergroup_from_metadata=self.usergroup_from_metadata,
            )
        except RulesError as error:
            return (type(error).__name__, error.message, error.details)
        self.user = result.state
        return decisions(asdict(result))


def sides() -> tuple[Side, Side]:
    new = Side(new_engine, new_definitions, new_challenges, new_levels, new_state)
    old = Side(old_engine, old_definitions, old_challenges, old_levels, old_state)
    return new, old


OTHER_PERIOD = {"day": "week", "week": "month", "month": "day"}
# Freeze policies a streak's definition may switch to: a state's counts were walked under the
# one before (StreakState.walked_with), and must be walked again under the new one.
FREEZE_SWITCHES = (
    None,
    {"initial": 0, "max": 0},
    {"initial": 1, "max": 3, "earnEvery": 1},
    {"initial": 2, "max": 2, "earnEvery": 3},
)


def switched(doc: dict[str, Any], change: str, freezes: dict[str, Any] | None) -> dict[str, Any]:
    """`doc` with its kind of period switched ("period") or its freeze policy ("freezes")."""
    if change == "period":
        return {**doc, "period": OTHER_PERIOD[doc["period"]]}
    return without_none({**doc, "freezes": freezes})


def stored_and_read(user: Any, legacy: bool) -> Any:
    """As the service reads the state back: fresh objects, equal values. `legacy`: as a
    document stored before walkedWith was, whose streaks' counts are walked again."""
    fields = state_to_fields(user)
    if legacy:
        for streak in fields["streaks"]:
            del streak["walkedWith"]
    return state_from_document({"userId": "u", **fields})


@settings(max_examples=400, deadline=None, database=None)
@given(
    projects(),
    histories(),
    st.lists(st.sampled_from(("kept", "stored", "legacy", "again")), min_size=40, max_size=40),
    st.dictionaries(st.integers(1, 40), st.sampled_from(("period", "freezes")), max_size=2),
    st.sampled_from(FREEZE_SWITCHES),
)
def test_every_evaluation_equals_the_reference_engines(
    project: dict[str, Any],
    history: list[tuple[str, datetime, dict[str, Any]]],
    kept: list[str],
    switches: dict[int, str],
    freezes: dict[str, Any] | None,
) -> None:
    new, old = sides()
    new.compile(project)
    old.compile(project)
    streaks = project["streaks"]
    for number, ((event_id, at, metadata), how) in enumerate(zip(history, kept, strict=False)):
        if number in switches:
            # The streaks' definitions switch their kind of period (a day streak becomes a
            # week streak) or their freezes: the states kept so far were counted under the old.
            streaks = [switched(d, switches[number], freezes) for d in streaks]
            for side in (new, old):
                side.streaks = [side.definitions.StreakRule.from_document(d) for d in streaks]
        if how in ("stored", "legacy"):
            new.user = stored_and_read(new.user, legacy=how == "legacy")
        before = new.user
        seen = decisions(asdict(before))
        expected = old.evaluate(event_id, at, metadata)
        if how == "again":
            # Evaluated twice on the same state (a retried batch): what the first evaluation
            # remembered on the state (rules.engine.evaluation) must not change the second.
            assert new.evaluate(event_id, at, metadata) == expected
            new.user = before
        assert new.evaluate(event_id, at, metadata) == expected
        # The engine shares what did not change with the state it started from: never mutated.
        assert decisions(asdict(before)) == seen
    assert decisions(asdict(new.user)) == asdict(old.user)


@st.composite
def streak_walks(draw: st.DrawFn) -> list[tuple[datetime, str]]:
    """Many zones and events close together, so that the kept moments also reach MAX_KEPT."""
    now = draw(st.sampled_from(STARTS))
    items = []
    for _ in range(draw(st.integers(1, 80))):
        now += timedelta(minutes=draw(st.sampled_from((0, 7, 45, 200, 700, 1440, 3000))))
        late = draw(st.sampled_from((0, 0, 0, 30, 600, 3000, 9 * 1440)))
        items.append((now - timedelta(minutes=late), draw(st.sampled_from(ZONES))))
    return items


@settings(max_examples=400, deadline=None, database=None)
@given(
    streak_documents("s"),
    streak_walks(),
    st.sampled_from((None, "period", "freezes")),
    st.sampled_from(FREEZE_SWITCHES),
)
def test_every_streak_step_equals_the_reference_streaks(
    doc: dict[str, Any],
    walk: list[tuple[datetime, str]],
    change: str | None,
    freezes: dict[str, Any] | None,
) -> None:
    new_rule = new_definitions.StreakRule.from_document(doc)
    old_rule = old_definitions.StreakRule.from_document(doc)
    new_state_: Any = None
    old_state_: Any = None
    for number, (at, zone_name) in enumerate(walk):
        if change and number == len(walk) // 2:
            # The definition switched half-way: its period (the streak restarts) or its
            # freezes (the counts so far were walked under the old policy).
            new_rule = new_definitions.StreakRule.from_document(switched(doc, change, freezes))
            old_rule = old_definitions.StreakRule.from_document(switched(doc, change, freezes))
        where = ZoneInfo(zone_name)
        new_step = new_streaks.advance_at(new_rule, new_state_, at, where)
        old_step = old_streaks.advance_at(old_rule, old_state_, at, where)
        assert decisions(asdict(new_step)) == asdict(old_step)
        new_state_, old_state_ = new_step.state, old_step.state
        stored = new_streaks.streak_state_to_document(new_state_)
        assert new_streaks.streak_state_from_document(stored) == new_state_
        del stored["walkedWith"]
        assert stored == old_streaks.streak_state_to_document(old_state_)


# Values a metadata field may hold, JSON's and BSON's (Int64 is an int subclass) and worse.
ANY_VALUES = (
    *ORDER_VALUES,
    *CHOICES,
    Int64(20),
    Int64(0),
    2**63,
    -(2**63) - 1,
    float("inf"),
    float("nan"),
    "",
    "iosx",
    False,
    0.0,
    20.0,
    [1],
)


@settings(max_examples=1000, deadline=None, database=None)
@given(
    conditions,
    st.dictionaries(
        st.sampled_from(("orderValue", "platform", "flag")), st.sampled_from(ANY_VALUES)
    ),
)
def test_every_condition_decides_as_the_reference_conditions(
    tree: dict[str, Any], metadata: dict[str, Any]
) -> None:
    new = new_conditions.compile_condition(tree)
    old = old_conditions.compile_condition(tree)
    assert new(metadata) is old(metadata)


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(st.integers(0, 400), max_size=150),
    st.lists(st.tuples(st.integers(-10, 410), st.integers(0, 60)), min_size=1, max_size=5),
)
def test_a_caps_payout_counter_counts_as_the_reference_counter(
    hours: list[int], spans: list[tuple[int, int]]
) -> None:
    # Past COMPLETIONS_KEPT payouts, the oldest are dropped: spans reaching them are unknown.
    start = STARTS[0]
    new, old = new_state.CompletionCounter(), old_state.CompletionCounter()
    for hour in hours:
        new, old = (
            new.added(start + timedelta(hours=hour)),
            old.added(start + timedelta(hours=hour)),
        )
        assert asdict(new) == asdict(old)
    for begin, length in spans:
        first, end = start + timedelta(hours=begin), start + timedelta(hours=begin + length)
        assert new.count_within(new_periods.Span(first, end)) == old.count_within(
            old_periods.Span(first, end)
        )
    assert new.count_within(new_periods.Span(None, None)) == len(hours)


@st.composite
def kept_moments(draw: st.DrawFn) -> tuple[Any, ...]:
    """Ascending moments, many of them at a local midnight (a period's start), so that one
    falls exactly KEPT_WINDOW before the latest period's start now and then."""
    first = draw(st.sampled_from(STARTS)).date()
    moments = set()
    for _ in range(draw(st.integers(1, 45))):
        zone_name = draw(st.sampled_from(ZONES))
        midnight = datetime.combine(
            first + timedelta(days=draw(st.integers(0, 40))), time(), tzinfo=ZoneInfo(zone_name)
        )
        at = midnight.astimezone(UTC) + timedelta(minutes=draw(st.sampled_from((0, 0, 1, 600))))
        moments.add(new_state.StreakMoment(at, zone_name))
    return tuple(sorted(moments, key=lambda moment: (moment.at, moment.zone)))


@settings(max_examples=500, deadline=None, database=None)
@given(st.sampled_from(("day", "week", "month")), kept_moments())
def test_the_moments_kept_are_those_the_reference_keeps(
    period: str, recent: tuple[Any, ...]
) -> None:
    # The reference's rule (its _fold), written plainly: the first moment at or after
    # KEPT_WINDOW before the latest period start of any moment, at most MAX_KEPT kept.
    rule = new_definitions.StreakRule.from_document(
        {"streakId": "s", "events": ["a"], "period": period}
    )
    old_rule = old_definitions.StreakRule.from_document(
        {"streakId": "s", "events": ["a"], "period": period}
    )
    latest = max(old_streaks._period_start(old_rule, moment) for moment in recent)
    bound = latest - old_streaks.KEPT_WINDOW
    expected = next((i for i, m in enumerate(recent) if m.at >= bound), len(recent))
    expected = max(expected, len(recent) - old_streaks.MAX_KEPT)
    assert new_walk.first_kept_index(rule, recent) == expected
