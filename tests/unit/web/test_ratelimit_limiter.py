"""web.ratelimit's faster pieces of flask-limiter answer as flask-limiter does: LaurelLimiter
finds the same per-request state as Limiter's own `context`, and a KeptKeys limit makes the
same storage keys (and compares, hashes and orders) as the `limits` item it was made from,
and a KeptLimit compares and hashes as the RuntimeLimit it was made from."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_limiter import Limiter
from flask_limiter._limits import RuntimeLimit
from hypothesis import given, settings
from hypothesis import strategies as st
from limits import RateLimitItem, parse

from web import ratelimit
from web.ratelimit import ApplicationLimitsOnly, KeptKeys, KeptLimit, LaurelLimiter, keeping_keys

# What Limiter's own property answers, asked of our limiter.
FLASK_LIMITERS_CONTEXT: Any = Limiter.__dict__["context"].fget


def laurel_limiter(app: Flask) -> LaurelLimiter:
    limiter = LaurelLimiter(lambda: "caller", storage_uri="memory://")
    limiter.init_app(app)
    return limiter


@pytest.mark.parametrize("ours_first", [True, False])
def test_the_request_state_is_the_one_flask_limiter_keeps(ours_first: bool) -> None:
    app = Flask("limits")
    limiter = laurel_limiter(app)

    with app.test_request_context("/"):
        if ours_first:
            ours, theirs = limiter.context, FLASK_LIMITERS_CONTEXT(limiter)
        else:
            theirs, ours = FLASK_LIMITERS_CONTEXT(limiter), limiter.context
        assert ours is theirs
        assert limiter.context is ours  # the same for the whole request

    with app.test_request_context("/"):
        assert limiter.context is not ours  # each request its own
        assert limiter.context is FLASK_LIMITERS_CONTEXT(limiter)


def test_two_limiters_of_one_request_keep_their_own_state() -> None:
    app = Flask("limits")
    first, second = laurel_limiter(app), laurel_limiter(app)

    with app.test_request_context("/"):
        assert first.context is not second.context
        assert first.context is FLASK_LIMITERS_CONTEXT(first)
        assert second.context is FLASK_LIMITERS_CONTEXT(second)


LIMITS = st.builds(
    lambda amount, multiples, window: f"{amount}/{multiples} {window}",
    st.integers(1, 10**9),
    st.integers(1, 90),
    st.sampled_from(["second", "minute", "hour", "day", "month", "year"]),
)
IDENTIFIERS = st.lists(
    st.one_of(st.text(max_size=12), st.binary(max_size=6).map(lambda b: b.hex().encode())),
    max_size=4,
).map(tuple)


@settings(max_examples=300, deadline=None)
@given(LIMITS, LIMITS, st.lists(IDENTIFIERS, min_size=1, max_size=6))
def test_kept_keys_answer_as_the_item_they_were_made_from(
    text: str, other_text: str, asked: list[tuple[Any, ...]]
) -> None:
    item, other = parse(text), parse(other_text)
    kept = keeping_keys(item)

    assert isinstance(kept, KeptKeys) and isinstance(kept, type(item))
    for identifiers in asked + asked:  # asked again: answered from what it kept
        assert kept.key_for(*identifiers) == item.key_for(*identifiers)
    assert kept == item and item == kept and hash(kept) == hash(item)
    assert (kept == other) == (item == other)
    # Ordered among themselves as the items are (the limiter sorts its limits, all kept).
    kept_other = keeping_keys(other)
    assert (kept < kept_other) == (item < other) and (kept_other < kept) == (other < item)
    assert kept.get_expiry() == item.get_expiry()
    assert repr(kept) == repr(item) and str(kept) == str(item)


def test_kept_keys_forget_them_all_past_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "KEPT_KEYS", 3)
    item = parse("5/minute")
    kept = keeping_keys(item)

    for n in range(10):
        assert kept.key_for("laurel", f"ip:10.0.0.{n}", "global") == item.key_for(
            "laurel", f"ip:10.0.0.{n}", "global"
        )
        assert len(kept._keys) <= 3


def key() -> str:
    return "caller"


def cost() -> int:
    return 2


@settings(max_examples=200, deadline=None)
@given(
    LIMITS,
    LIMITS,
    st.sampled_from([None, "global", "other"]),
    st.sampled_from([1, 3, cost]),
    st.booleans(),
)
def test_kept_limits_compare_and_hash_as_runtime_limits(
    text: str, other_text: str, scope: str | None, charge: Any, shared: bool
) -> None:
    made = RuntimeLimit(parse(text), key, scope, cost=charge, shared=shared)
    other = RuntimeLimit(parse(other_text), key, "global", cost=1)
    kept = KeptLimit.of(made)

    assert isinstance(kept.limit, KeptKeys)
    assert kept == made and made == kept and hash(kept) == hash(made)
    assert (kept == other) == (made == other) and (other == kept) == (other == made)
    assert (kept != other) == (made != other)
    assert {kept} == {made} and made in {kept} and kept in {made}
    assert (made in {other}) == (kept in {other})


def test_laurels_parsed_limits_keep_their_keys() -> None:
    app = Flask("limits")
    limiter = LaurelLimiter(
        lambda: "caller", application_limits=["5/minute;100/hour"], storage_uri="memory://"
    )
    limiter.limit_manager = ApplicationLimitsOnly.taking_over(limiter.limit_manager)
    limiter.init_app(app)

    limits = limiter.limit_manager.application_limits

    assert all(isinstance(limit, KeptLimit) for limit in limits)
    assert all(isinstance(limit.limit, KeptKeys) for limit in limits)
    expected: list[RateLimitItem] = [parse("5/minute"), parse("100/hour")]
    assert [limit.limit for limit in limits] == expected
