"""rules.usecases.catalog.Catalog: the streaks and challenges of an eventId, indexed once per
catalog."""

from __future__ import annotations

from rules.engine.challenges import ChallengeRule
from rules.engine.definitions import StreakRule
from rules.usecases.catalog import Catalog


def streak(streak_id: str, *events: str) -> StreakRule:
    return StreakRule.from_document({"streakId": streak_id, "events": list(events)})


def challenge(challenge_id: str, *events: str) -> ChallengeRule:
    return ChallengeRule.from_document(
        {
            "challengeId": challenge_id,
            "events": list(events),
            "goal": {"type": "count", "target": 2},
        }
    )


def test_the_definitions_of_an_event_are_those_listing_it_in_the_catalogs_order() -> None:
    streaks = (streak("s1", "a", "b"), streak("s2", "b"), streak("s3", "c", "a"))
    challenges = (challenge("c1", "b"), challenge("c2", "a", "b"))
    catalog = Catalog(streaks=streaks, challenges=challenges)

    for event_id in ("a", "b", "c", "unknown"):
        assert catalog.streaks_for(event_id) == tuple(s for s in streaks if event_id in s.events)
        assert catalog.challenges_for(event_id) == tuple(
            c for c in challenges if event_id in c.events
        )
    assert [s.streak_id for s in catalog.streaks_for("a")] == ["s1", "s3"]
    assert catalog.streaks_for("a") is catalog.streaks_for("a")  # indexed, not filtered again
