"""core.gctuning: a serving process's collector, settled once the app is loaded."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from core import gctuning


@pytest.fixture
def collector() -> Iterator[None]:
    """Python's collector as it was before the test (the suite's other tests run on it)."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class Node:
    link: object = None


def test_settle_freezes_what_exists_and_spaces_collections_out(collector: None) -> None:
    gc.unfreeze()
    made_before = Node()

    gctuning.settle()

    assert gc.get_threshold() == (gctuning.YOUNG, gctuning.OLDER, gctuning.OLDER)
    assert gc.get_freeze_count() > 0
    assert not any(found is made_before for found in gc.get_objects())  # frozen: never walked


def test_cycles_made_after_settling_are_still_collected(collector: None) -> None:
    gctuning.settle()
    node = Node()
    node.link = node
    gone = weakref.ref(node)
    del node

    gc.collect()

    assert gone() is None
