"""Laurel's Flask class: Flask, answering once per function whether it must be run as a
coroutine.

Flask passes every hook and view it calls through `ensure_sync`, which asks `inspect` whether
the function is a coroutine function (unwrapping partials and reading code flags each time):
25 times for one POST /event, counting flask-smorest's wrappers of the view. Whether a
function object is a coroutine function does not change, so the answer for a plain function
or a partial (what hooks and decorated views are) is kept here. A bound method (a
MethodView's handler, new for every request; an extension's hook) is a coroutine function
when its function is one: the functions found synchronous are kept, never the methods or
their instances, and a method of one of them is handed back as it is, as Flask would. Other
callables are asked each time, as Flask does, so that nothing made per request is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from types import FunctionType, MethodType
from typing import Any

from flask import Flask

# Hooks and views are registered once; a function made per request would never be asked
# again. Past this many, answers are worked out as Flask does, without being kept.
KEPT_ANSWERS = 1024
_KEPT_KINDS = (FunctionType, partial)


class LaurelFlask(Flask):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synchronous: dict[Callable[..., Any], Callable[..., Any]] = {}
        self._synchronous_functions: set[FunctionType] = set()  # of bound methods

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        kind = type(func)
        if kind is MethodType:
            function = func.__func__  # type: ignore[attr-defined]  # a MethodType's
            if function in self._synchronous_functions:
                return func
            answer = super().ensure_sync(func)
            if (
                answer is func
                and type(function) is FunctionType
                and len(self._synchronous_functions) < KEPT_ANSWERS
            ):
                self._synchronous_functions.add(function)
            return answer
        kept = self._synchronous.get(func) if kind in _KEPT_KINDS else None
        if kept is not None:
            return kept
        answer = super().ensure_sync(func)
        if kind in _KEPT_KINDS and len(self._synchronous) < KEPT_ANSWERS:
            self._synchronous[func] = answer
        return answer
