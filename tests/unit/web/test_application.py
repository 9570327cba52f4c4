"""web.application.LaurelFlask answers `ensure_sync` as Flask does, for every kind of
callable and however often it is asked, while keeping its answers for functions and
partials only (and a bounded number of them)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from web.application import KEPT_ANSWERS, LaurelFlask


def plain_hook() -> str:
    return "plain"


async def coroutine_hook() -> str:
    return "coroutine"


class View:
    def get(self) -> str:
        return "get"

    async def post(self) -> str:
        return "post"

    def __call__(self) -> str:
        return "called"


def callables() -> list[Callable[..., Any]]:
    view = View()
    return [
        plain_hook,
        coroutine_hook,
        partial(plain_hook),
        partial(coroutine_hook),
        partial(partial(coroutine_hook)),
        lambda: "lambda",
        view.get,
        view.post,
        view,
    ]


def outcome(app: Flask, func: Callable[..., Any]) -> tuple[str, Any]:
    """What `ensure_sync` does with `func`: hands it back as it is, hands back something else
    (a wrapper that runs the coroutine), or refuses (Flask's async extra not installed)."""
    try:
        answer = app.ensure_sync(func)
    except RuntimeError as error:
        return ("refused", str(error))
    return ("same", None) if answer is func else ("wrapped", None)


@given(st.lists(st.integers(0, len(callables()) - 1), min_size=1, max_size=30))
def test_ensure_sync_answers_as_flask_does_however_often_asked(picks: list[int]) -> None:
    functions = callables()
    ours, flasks = LaurelFlask(__name__), Flask(__name__)
    for pick in picks:
        assert outcome(ours, functions[pick]) == outcome(flasks, functions[pick])


def test_coroutine_functions_are_not_handed_back_as_they_are() -> None:
    app = LaurelFlask(__name__)
    for _ in range(2):
        assert outcome(app, coroutine_hook)[0] != "same"
        assert outcome(app, partial(coroutine_hook))[0] != "same"
    assert app.ensure_sync(plain_hook) is plain_hook


def test_keeps_answers_for_functions_and_partials_only() -> None:
    app = LaurelFlask(__name__)
    view, hook, anonymous = View(), partial(plain_hook), lambda: None
    for func in (plain_hook, hook, view.get, view, anonymous):
        app.ensure_sync(func)
    assert app._synchronous == {plain_hook: plain_hook, hook: hook, anonymous: anonymous}


def test_keeps_a_bounded_number_of_answers() -> None:
    app = LaurelFlask(__name__)
    made = [partial(plain_hook) for _ in range(KEPT_ANSWERS + 10)]
    for func in made:
        assert app.ensure_sync(func) is func
    assert len(app._synchronous) == KEPT_ANSWERS
    assert app.ensure_sync(made[-1]) is made[-1]


def test_bound_methods_are_answered_by_their_function_and_never_kept() -> None:
    app = LaurelFlask(__name__)
    views = [View() for _ in range(5)]
    for view in views:
        assert app.ensure_sync(view.get) == view.get  # a new bound method each time
        assert outcome(app, view.post) == outcome(Flask(__name__), view.post)
    assert app._synchronous_functions == {View.get}  # the function only: no instance kept
    assert app._synchronous == {}


def test_keeps_a_bounded_number_of_method_functions() -> None:
    app = LaurelFlask(__name__)
    kinds = [
        type(f"View{n}", (View,), {"get": lambda self: "get"}) for n in range(KEPT_ANSWERS + 5)
    ]
    for kind in kinds:
        method = kind().get
        assert app.ensure_sync(method) == method
    assert len(app._synchronous_functions) == KEPT_ANSWERS
