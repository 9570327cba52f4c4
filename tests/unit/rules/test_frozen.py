"""rules.engine.frozen.fast_init: the same frozen dataclass, built by a faster __init__."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, asdict, dataclass, field, replace

import pytest

from rules.engine.frozen import fast_init
from rules.engine.state import UserState


@fast_init
@dataclass(frozen=True)
class Sample:
    name: str
    count: int = 3
    tags: list[str] = field(default_factory=list)


def test_positional_keyword_and_default_arguments_set_the_fields() -> None:
    assert (Sample("a", 5, ["x"]).name, Sample("a", 5, ["x"]).count) == ("a", 5)
    assert Sample(name="b", tags=["y"]) == Sample("b", 3, ["y"])
    assert Sample("c").count == 3


def test_a_default_factory_makes_a_new_value_per_instance() -> None:
    first, second = Sample("a"), Sample("a")
    assert first.tags == [] and first.tags is not second.tags


def test_the_instance_stays_frozen_and_a_dataclass() -> None:
    sample = Sample("a", 1, ["t"])
    with pytest.raises(FrozenInstanceError):
        sample.count = 2  # type: ignore[misc]
    assert replace(sample, count=2) == Sample("a", 2, ["t"])
    assert asdict(sample) == {"name": "a", "count": 1, "tags": ["t"]}
    assert repr(sample) == "Sample(name='a', count=1, tags=['t'])"


def test_equal_instances_hash_alike() -> None:
    @fast_init
    @dataclass(frozen=True)
    class Point:
        x: int
        y: int = 0

    assert hash(Point(1, 2)) == hash(Point(x=1, y=2)) and Point(1) == Point(1, 0)


def test_wrong_arguments_are_refused_as_by_a_dataclass() -> None:
    with pytest.raises(TypeError):
        Sample()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Sample("a", unknown=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Sample("a", 1, [], "extra")  # type: ignore[call-arg]


def test_a_class_it_cannot_build_exactly_is_refused() -> None:
    @dataclass
    class Mutable:
        value: int

    @dataclass(frozen=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            assert self.value > 0

    @dataclass(frozen=True, slots=True)
    class Slotted:  # no __dict__ to write
        value: int

    @dataclass(frozen=True)
    class Clashing:  # a name the generated __init__ uses itself
        values: int

    for cls in (Mutable, Checked, Slotted, Clashing):
        with pytest.raises(TypeError):
            fast_init(cls)


def test_a_field_named_like_a_default_keeps_its_own_value() -> None:
    @fast_init
    @dataclass(frozen=True)
    class Named:
        default_value: int = 1
        value: int = 2
        factory_items: tuple[int, ...] = ()

    assert Named() == Named(1, 2, ())
    assert Named(value=5).default_value == 1


def test_the_engines_user_state_is_built_with_its_defaults() -> None:
    state = UserState(user_id="u")
    assert (state.balance, state.streaks, state.badges, state.first_seen) == (0, {}, (), None)
    assert state.streaks is not UserState(user_id="v").streaks
