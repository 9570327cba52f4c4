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
    threshold, interval, enabled = gc.get_threshold(), sys.getswitchinterval(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    sys.setswitchinterval(interval)
    (gc.enable if enabled else gc.disable)()


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


def test_cycles_made_after_settling_are_still_collected_by_the_collector_itself(
    collector: None,
) -> None:
    gc.enable()
    interpreter.settle()
    node = Node()
    node.link = node
    gone = weakref.ref(node)
    del node

    # More new containers than a young collection waits for, and no gc.collect(): the
    # collector, still on, runs by itself.
    kept = [[] for _ in range(2 * interpreter.YOUNG)]

    assert gc.isenabled()
    assert gone() is None
    assert len(kept) == 2 * interpreter.YOUNG
