"""Frozen dataclasses that the engine builds by the dozen per event, built at half the cost.

A frozen dataclass's generated `__init__` stores each field with a call of its own
(`object.__setattr__`, to get past the class's `__setattr__`, which refuses assignment). For
the engine's values (a report per streak and challenge, the states it advances) those calls
are a good part of an event's cost. `fast_init` gives such a class an `__init__` that writes
the new instance's `__dict__` directly: the same parameters, defaults and default factories,
and the same object afterwards. Everything else (eq, hash, repr, `replace()`, `asdict()`,
FrozenInstanceError on assignment) stays the dataclass's own.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

Cls = TypeVar("Cls", bound=type)
_GENERATED = frozenset({"self", "values", "MISSING"})  # names the generated __init__ uses


def fast_init(cls: Cls) -> Cls:
    """Decorate a frozen dataclass (written above `@dataclass(frozen=True)`) whose fields are
    all init fields, positional or keyword, with no `__post_init__`."""
    params = dataclasses.fields(cls)
    if (
        not getattr(cls, "__dataclass_params__").frozen  # noqa: B009 (a class of any type)
        or hasattr(cls, "__post_init__")
        or "__slots__" in cls.__dict__  # no __dict__ to write
        or any(not field.init or field.kw_only for field in params)
        or any(field.name in _GENERATED for field in params)
    ):
        raise TypeError(f"{cls.__name__}: fast_init is for plain frozen dataclasses")
    namespace: dict[str, Any] = {"MISSING": dataclasses.MISSING}
    signature, defaults, stores = [], [], []
    for field in params:
        name = field.name
        if field.default is not dataclasses.MISSING:
            namespace[f"__default_{name}"] = field.default
            signature.append(f"{name}=__default_{name}")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"__factory_{name}"] = field.default_factory
            signature.append(f"{name}=MISSING")
            defaults.append(f"    if {name} is MISSING:\n        {name} = __factory_{name}()\n")
        else:
            signature.append(name)
        stores.append(f"    values[{name!r}] = {name}\n")
    # Generated the way dataclasses generates its own methods; the names are the fields'.
    source = (
        f"def __init__(self, {', '.join(signature)}):\n"
        + "".join(defaults)
        + "    values = self.__dict__\n"
        + "".join(stores)
    )
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    setattr(cls, "__init__", init)  # noqa: B010 (mypy refuses assigning a method)
    return cls
