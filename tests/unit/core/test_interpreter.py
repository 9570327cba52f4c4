"""core.interpreter: a serving process's collector and switch interval, settled once the app
is loaded."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import pytest

from core import interpreter


@pytest.fixture
def collector() -> Iterator[None]:
    """The interpreter as it was before the test (the suite's other tests run on it)."""
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    sys.setswitchinterval(interval)


class Node:
    link: object = None


def test_settle_freezes_what_exists_and_spaces_collections_and_switches_out(
    collector: None,
) -> None:
    gc.unfreeze()
    made_before = Node()

    interpreter.settle()

    assert gc.get_threshold() == (interpreter.YOUNG, interpreter.OLDER, interpreter.OLDER)
    assert sys.getswitchinterval() == pytest.approx(interpreter.SWITCH_INTERVAL)
    assert gc.get_freeze_count() > 0
    assert not any(found is made_before for found in gc.get_objects())  # frozen: never walked


def test_cycles_made_after_settling_are_still_collected(collector: None) -> None:
    interpreter.settle()
    node = Node()
    node.link = node
    gone = weakref.ref(node)
    del node

    gc.collect()

    assert gone() is None
