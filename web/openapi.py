"""How /openapi.json states what the server enforces, for validators and generated clients.

- A nullable nested object is `{"allOf": [{"$ref": …}], "nullable": true}` (OpenAPI 3.0's
  idiom), not apispec's `anyOf` with a free-form object, which generators type as a dict.
- A field whose metadata names a `$ref` is documented as exactly that reference.
- Patterns are `^…$` (see web.schemas.fields.FullMatch), read alike by every validator.
"""

from __future__ import annotations

from typing import Any

import flask_smorest
from apispec import BasePlugin
from apispec.ext.marshmallow.field_converter import FieldConverterMixin
from marshmallow import fields

from web.schemas.fields import IDENTIFIER, MIN_EPOCH_MS

FREE_FORM_NULL = {"type": "object", "nullable": True}

# Years 1970-2199, what Timestamp accepts.
_YEAR = "(19[7-9][0-9]|2[01][0-9]{2})"
_DATE = _YEAR + "-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{3}|\\.[0-9]{6})?"
_OFFSET = "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
# Epoch milliseconds from 1973 (smaller ones are seconds sent by mistake) to 2198.
_EPOCH_MS = "([1-9][0-9]{11}|[1-6][0-9]{12}|7[01][0-9]{11})"
ISO_INSTANT = _DATE + _TIME + _OFFSET
INSTANT_PATTERN = f"^({ISO_INSTANT}|{_EPOCH_MS})$"
DAY_PATTERN = f"^({_DATE}|{ISO_INSTANT}|{_EPOCH_MS})$"
# An integer timestamp: epoch milliseconds of 1973-03-03 up to 2200-01-01 (exclusive).
EPOCH_MS_RANGE = {"minimum": MIN_EPOCH_MS, "maximum": 7_258_118_399_999}

IDENTIFIER_PATH = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "pattern": f"^{IDENTIFIER.pattern}$",
}
# What the server enforces on each path parameter (by name): a path that breaks it is a 404
# (no such thing can exist), or a 400 where the view says why.
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "eventId": IDENTIFIER_PATH,
    "streakId": IDENTIFIER_PATH,
    "challengeId": IDENTIFIER_PATH,
    "webhookId": IDENTIFIER_PATH,
    "funnelId": IDENTIFIER_PATH,
    "userId": {"type": "string", "minLength": 1, "maxLength": 128},
    # reports.analytics.exports.NAME, with the stamp's digits in their ranges.
    "name": {
        "type": "string",
        "pattern": "^[A-Za-z0-9_~-]+-"
        + _YEAR
        + "(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]Z"
        + "\\.(csv|json|parquet)$",
    },
}

IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Makes retries safe, like the body's `idempotencyKey` (which, when both are "
    "sent, must be the same): a repeat with the same key (per project, kept 24 h) returns the "
    "first response with `Idempotent-Replayed: true`; the same key with another request is 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}


def nullable_reference(
    self: FieldConverterMixin, field: fields.Field[Any], ret: dict[str, Any], **_kwargs: Any
) -> dict[str, Any]:
    if field.metadata.get("$ref"):
        ret.clear()
        return {"$ref": field.metadata["$ref"]}
    any_of = ret.get("anyOf")
    if isinstance(any_of, list) and FREE_FORM_NULL in any_of:
        ret.pop("anyOf")
        return {"allOf": [item for item in any_of if item != FREE_FORM_NULL], "nullable": True}
    return {}


class PathRules(BasePlugin):
    """Runs after flask-smorest's plugin, which documents path parameters as bare strings."""

    def path_helper(
        self, path: str | None = None, operations: Any = None, parameters: Any = None, **_: Any
    ) -> None:
        for parameter in parameters or []:
            if parameter.get("in") == "path" and parameter.get("name") in PATH_PARAMETERS:
                parameter["schema"] = dict(PATH_PARAMETERS[parameter["name"]])


def document_rules(api: flask_smorest.Api) -> None:
    """Call before registering blueprints: their schemas are converted as they register."""
    converter = api.ma_plugin.converter
    if converter is None:  # the plugin makes it when Api(app) initialises the spec
        raise RuntimeError("document_rules needs an Api initialised with its app")
    # apispec leaves add_attribute_function unannotated
    converter.add_attribute_function(nullable_reference)  # type: ignore[no-untyped-call]
    plugin = PathRules()
    plugin.init_spec(api.spec)
    api.spec.plugins = [*api.spec.plugins, plugin]  # typed as a Sequence: not appended to
