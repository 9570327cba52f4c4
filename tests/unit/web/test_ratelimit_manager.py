"""web.ratelimit.ApplicationLimitsOnly answers the limiter as flask-limiter's LimitManager
does: with Laurel's limits (application limits only) from what it parsed once, and with
anything else declared by asking LimitManager itself."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from flask import Blueprint, Flask
from flask_limiter import ExemptionScope, Limit, Limiter

from web.ratelimit import ApplicationLimitsOnly


def key() -> str:
    return "caller"


def cost() -> int:
    return 2


def exempt_when() -> bool:
    return False


def view() -> str:
    return "ok"


def nested_view() -> str:
    return "ok"


Declare = Callable[[Limiter, Blueprint], None]  # given the outer blueprint


def built(declare: Declare, *, ours: bool, defaults: list[str]) -> tuple[Limiter, Flask]:
    """An app with a plain route, a blueprint and a nested one, and its limiter."""
    app = Flask("limits")
    app.add_url_rule("/plain", "plain", view)
    outer, inner = Blueprint("outer", __name__), Blueprint("inner", __name__)
    outer.add_url_rule("/thing", "thing", view)
    inner.add_url_rule("/deep", "deep", nested_view)
    limiter = Limiter(
        key,
        application_limits=["5/minute;100/hour"],
        application_limits_cost=cost,
        application_limits_exempt_when=exempt_when,
        default_limits=list[str | Callable[[], str] | Limit](defaults),
        storage_uri="memory://",
    )
    if ours:
        limiter.limit_manager = ApplicationLimitsOnly.taking_over(limiter.limit_manager)
    declare(limiter, outer)
    outer.register_blueprint(inner)
    app.register_blueprint(outer)
    limiter.init_app(app)
    return limiter, app


def nothing(limiter: Limiter, outer: Blueprint) -> None:
    pass


def route_limit(limiter: Limiter, outer: Blueprint) -> None:
    limiter.limit("2/second")(view)


def route_exemption(limiter: Limiter, outer: Blueprint) -> None:
    limiter.exempt(nested_view)


def application_exemption(limiter: Limiter, outer: Blueprint) -> None:
    limiter.exempt(view, flags=ExemptionScope.APPLICATION)


def blueprint_limit(limiter: Limiter, outer: Blueprint) -> None:
    limiter.limit("7/minute")(outer)


def blueprint_exemption(limiter: Limiter, outer: Blueprint) -> None:
    limiter.exempt(outer, flags=ExemptionScope.APPLICATION | ExemptionScope.DESCENDENTS)


DECLARATIONS = [
    nothing,
    route_limit,
    route_exemption,
    application_exemption,
    blueprint_limit,
    blueprint_exemption,
]


@pytest.mark.parametrize("declare", DECLARATIONS)
@pytest.mark.parametrize("defaults", [[], ["1000/day"]])
def test_answers_which_limits_apply_as_limit_manager_does(
    declare: Declare, defaults: list[str]
) -> None:
    plain, plain_app = built(declare, ours=False, defaults=defaults)
    ours, our_app = built(declare, ours=True, defaults=defaults)
    assert type(ours.limit_manager) is ApplicationLimitsOnly
    endpoints = [None, "plain", "outer.thing", "outer.inner.deep", "unknown"]
    blueprints = [None, "outer", "outer.inner", "unknown"]

    for endpoint, blueprint in itertools.product(endpoints, blueprints):
        assert ours.limit_manager.exemption_scope(
            our_app, endpoint, blueprint
        ) == plain.limit_manager.exemption_scope(plain_app, endpoint, blueprint)
        for in_middleware, marked in itertools.product([True, False], repeat=2):
            asked = (endpoint, blueprint, None, in_middleware, marked)
            assert ours.limit_manager.resolve_limits(
                our_app, *asked
            ) == plain.limit_manager.resolve_limits(plain_app, *asked), asked


def test_laurels_limits_are_parsed_once() -> None:
    ours, app = built(nothing, ours=True, defaults=[])

    first = ours.limit_manager.resolve_limits(app, "plain", None, None, True)[0]
    again = ours.limit_manager.resolve_limits(app, "plain", None, None, True)[0]

    assert [str(limit.limit) for limit in first] == ["5 per 1 minute", "100 per 1 hour"]
    assert all(a is b for a, b in zip(first, again, strict=True))
    assert first is not again  # each request its own list: the limiter may change it
