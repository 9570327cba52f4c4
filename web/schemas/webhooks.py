"""Admin webhooks (docs/api.md#rules-admin-api and #webhooks) and their delivery log."""

from __future__ import annotations

from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate
from requests import PreparedRequest, RequestException

from rules.stores.webhooks import EVENT_TYPES
from web.schemas.fields import (
    EditableSchema,
    Identifier,
    IsoMillis,
    ResponseSchema,
    StrictBoolean,
)


def http_url(value: str) -> None:
    """An URL a delivery can be POSTed to, judged as the HTTP client will judge it."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 — raises ValueError for a port out of range or not a number
        PreparedRequest().prepare_url(value, None)
    except (ValueError, RequestException):
        raise ValidationError("must be a valid http:// or https:// URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise ValidationError("must not carry credentials; the signature authenticates us")
    if any(character.isspace() for character in value):
        raise ValidationError("must not contain spaces")
    host = parts.hostname
    if not host.startswith("[") and ":" not in host:  # a name or IPv4, not IPv6
        labels = host.rstrip(".").split(".")
        if len(host) > 253 or not all(0 < len(label) <= 63 for label in labels):
            raise ValidationError("must have a valid host name")


class WebhookSchema(EditableSchema):
    webhookId = Identifier(dump_only=True)
    url = fields.String(
        required=True,
        validate=[validate.Length(max=2048), http_url],
        metadata={
            "example": "https://example.com/laurel-hooks",
            "format": "uri",
            # What http_url takes, written for JSON Schema (IPv6 hosts are taken too).
            "pattern": "^https?://[A-Za-z0-9-]{1,63}(\\.[A-Za-z0-9-]{1,63})*(:[0-9]{1,4})?"
            "(/[A-Za-z0-9._~/-]*)?$",
        },
    )
    secret = fields.String(
        load_only=True,
        validate=validate.Length(16, 256),
        metadata={
            "description": "Signs every delivery (HMAC-SHA256). Never returned; required when "
            "creating, optional when replacing (the stored one is kept).",
            "example": "whsec_0123456789abcdef",
        },
    )
    secretHint = fields.String(dump_only=True, metadata={"description": "Last 4 characters"})
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        required=True,
        validate=validate.Length(min=1),
        metadata={"example": ["event.rewarded", "level.changed"]},
    )
    active = StrictBoolean(load_default=True)
    createdAt = IsoMillis(dump_only=True, metadata={"type": "string", "format": "date-time"})
    updatedAt = IsoMillis(dump_only=True, metadata={"type": "string", "format": "date-time"})


class WebhookListSchema(ResponseSchema):
    items = fields.List(fields.Nested(WebhookSchema))


class AttemptSchema(ResponseSchema):
    OPTIONAL = frozenset({"statusCode", "error"})  # a status, or why there is none

    at = IsoMillis(metadata={"type": "string", "format": "date-time"})
    statusCode = fields.Integer(metadata={"description": "The receiver's HTTP status"})
    error = fields.String(metadata={"description": "Why no status: timeout, refused, …"})
    durationMs = fields.Integer()


class DeliverySchema(ResponseSchema):
    deliveryId = fields.String(
        attribute="_id", metadata={"description": "X-Laurel-Delivery, stable across retries"}
    )
    notificationId = fields.String()
    type = fields.String(metadata={"example": "event.rewarded"})
    userId = fields.String()
    status = fields.String(metadata={"description": "pending, succeeded or failed"})
    attempts = fields.List(fields.Nested(AttemptSchema))
    createdAt = IsoMillis(metadata={"type": "string", "format": "date-time"})
    updatedAt = IsoMillis(metadata={"type": "string", "format": "date-time"})


class DeliveryListSchema(ResponseSchema):
    items = fields.List(fields.Nested(DeliverySchema))


class DeliveryQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
