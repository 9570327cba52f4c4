"""The SDK's dataclasses are typed from /openapi.json: each has its schema's properties, and a
field may be None only where the schema lets it be absent or null."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from typing import Any

import laurel_client
import pytest
from laurel_client import models

# SDK class → schema name, for the classes whose names differ.
SCHEMAS = {"ErrorInfo": "Error"}
# Fields that are the client's own, not the server's.
CLIENT_FIELDS = {
    "EventResult": {"replayed"},
    "AdjustmentResult": {"replayed"},
    "BatchItemResult": {"idempotency_key"},
}

# Absent in the answer means a value the SDK fills in: `replayed` is only sent when true.
FILLED_IN = {("BatchItemResult", "replayed")}


def camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda match: match.group(1).upper(), name)


def may_be_none(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation) and isinstance(
        annotation,
        types.UnionType | type(typing.Optional[int]),  # noqa: UP045 — both spellings
    )


CLASSES = [
    cls
    for cls in vars(models).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == models.__name__
]


def test_every_model_is_exported() -> None:
    assert {cls.__name__ for cls in CLASSES} <= set(laurel_client.__all__)
    assert len(CLASSES) >= 14


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_a_model_has_its_schemas_properties_and_nullability(client: Any, cls: type) -> None:
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    schema = schemas[SCHEMAS.get(cls.__name__, cls.__name__)]
    hints = typing.get_type_hints(cls)
    own = CLIENT_FIELDS.get(cls.__name__, set())
    fields = {
        camel(field.name): field.name for field in dataclasses.fields(cls) if field.name not in own
    }

    assert set(fields) == set(schema["properties"])
    required = set(schema.get("required", []))
    for prop, name in fields.items():
        nullable = schema["properties"][prop].get("nullable", False)
        optional_in_schema = (prop not in required or nullable) and (
            (cls.__name__, name) not in FILLED_IN
        )
        assert may_be_none(hints[name]) == optional_in_schema, (cls.__name__, name)
