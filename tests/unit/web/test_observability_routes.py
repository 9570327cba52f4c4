"""web.observability labels a request with its rule's route template, worked out once per
rule: always what the converter pattern makes of the rule."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from core.settings import Settings
from web import create_app
from web.observability import route_template

CONVERTER = re.compile(r"<[A-Za-z_]+:")

RULES = st.lists(
    st.sampled_from(["/users", "/", "<user:userId>", "<userId>", "<int:n>", "<path:rest>", "x"]),
    max_size=5,
).map("/".join)


def test_every_route_of_the_app_is_labelled_as_its_template() -> None:
    app = create_app(Settings(jwt_secret="x" * 32))
    rules = [rule.rule for rule in app.url_map.iter_rules()]

    for _ in range(2):  # worked out the first time, read the second
        assert [route_template(rule) for rule in rules] == [CONVERTER.sub("<", r) for r in rules]
    assert route_template("/users/<user:userId>/badges") == "/users/<userId>/badges"


@settings(max_examples=200, deadline=None)
@given(RULES)
def test_route_template_strips_converters_like_the_pattern(rule: str) -> None:
    assert route_template(rule) == CONVERTER.sub("<", rule)
    assert route_template(rule) == CONVERTER.sub("<", rule)
