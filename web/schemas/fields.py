"""marshmallow fields for the shapes of the public contract (docs/api.md#post-event and
#rules-admin-api)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, overload

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from rules.engine.conditions import METADATA_KEY, compile_condition
from rules.engine.periods import is_timezone
from rules.errors import InvalidDefinition

IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
IDENTIFIER_RULE = "must be 1-64 characters of A-Z a-z 0-9 _ . : -"
MAX_METADATA_FIELDS = 10
MAX_METADATA_STRING = 256
INT64 = range(-(2**63), 2**63)
# Epoch milliseconds below this are years before 1973: almost surely seconds sent by mistake.
MIN_EPOCH_MS = 100_000_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIMESTAMP = datetime(2200, 1, 1, tzinfo=UTC)


def identifier_problem(value: str) -> str | None:
    return None if IDENTIFIER.fullmatch(value) else IDENTIFIER_RULE


class FullMatch(validate.Regexp):
    """validate.Regexp matching the whole value, documented as `^...$`: a pattern ECMA-262 and
    Python read alike (Python's own `\\Z` is read as a literal Z by JSON Schema validators)."""

    def __init__(self, pattern: str, error: str) -> None:
        super().__init__(f"^{pattern}$", error=error)

    @overload
    def __call__(self, value: str) -> str: ...
    @overload
    def __call__(self, value: bytes) -> bytes: ...
    def __call__(self, value: Any) -> Any:
        # fullmatch: `$` alone would also accept a trailing newline.
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class StrictBoolean(fields.Boolean):
    """true or false only: "yes", "off", 0 and 1 are refused, not read as booleans."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class StrictNumber(fields.Float):
    """A JSON number only: "2" is refused, not read as 2."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be a number")
        return super()._deserialize(value, attr, data, **kwargs)


class ResponseSchema(Schema):
    """A response body whose fields are always present: the OpenAPI document lists them as
    `required` (so generated clients type them as such), except the ones in OPTIONAL.

    `required` only affects loading, and response schemas are only dumped.
    """

    OPTIONAL: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = name not in self.OPTIONAL


class DocumentedString(fields.String):
    """A String whose OpenAPI property states the rule its `_deserialize` enforces."""

    DOCUMENTED: dict[str, Any] = {}

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {**self.DOCUMENTED, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)


class Identifier(DocumentedString):
    """An eventId, streakId or project id: 1-64 of [A-Za-z0-9_.:-]."""

    DOCUMENTED = {"minLength": 1, "maxLength": 64, "pattern": f"^{IDENTIFIER.pattern}$"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if not IDENTIFIER.fullmatch(text):
            raise ValidationError(IDENTIFIER_RULE)
        return text


USER_ID_RULE = "must be 1-128 printable characters, without '/' and without spaces at either end"


def user_id_problem(value: str) -> str | None:
    """Why `value` cannot be a new userId. "/" cannot travel in a path segment to the
    support endpoints (`%2F` reaches only ids made before this rule), and ids differing only
    by surrounding spaces would be distinct users nobody can tell apart."""
    if not 1 <= len(value) <= 128 or not value.isprintable():
        return USER_ID_RULE
    if "/" in value or value.strip() != value:
        return USER_ID_RULE
    return None


class UserId(DocumentedString):
    DOCUMENTED = {"minLength": 1, "maxLength": 128, "pattern": r"^[^/\s](?:[^/]*[^/\s])?$"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        problem = user_id_problem(text)
        if problem:
            raise ValidationError(problem)
        return text


IDEMPOTENCY_KEY_RULE = "must be 1-255 printable characters"


def idempotency_key_problem(value: str) -> str | None:
    return None if 1 <= len(value) <= 255 and value.isprintable() else IDEMPOTENCY_KEY_RULE


class IdempotencyKeyField(DocumentedString):
    DOCUMENTED = {"minLength": 1, "maxLength": 255}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if idempotency_key_problem(text):
            raise ValidationError(IDEMPOTENCY_KEY_RULE)
        return text


class Timezone(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if not is_timezone(text):
            raise ValidationError("must be an IANA timezone name, e.g. Europe/Berlin")
        return text


def metadata_value_problem(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        if "\x00" in value:
            # Refused rather than escaped: it means nothing in metadata, and every place the
            # value goes (CSV and Parquet exports, spreadsheets, logs) reads it its own way.
            return "strings may not hold NUL characters"
        return (
            None
            if len(value) <= MAX_METADATA_STRING
            else (f"strings may hold at most {MAX_METADATA_STRING} characters")
        )
    if isinstance(value, int):
        return None if value in INT64 else "integers must fit in 64 bits"
    if isinstance(value, float):
        return None if math.isfinite(value) else "numbers must be finite"
    return "must be a string, number, boolean or null (no objects or arrays)"


class Metadata(fields.Field[dict[str, Any]]):
    """At most 10 flat fields; keys [A-Za-z0-9_]{1,64}; values string, number, boolean, null.

    `usergroup` and `timezone` update the user's profile, so they must be a string and an
    IANA timezone name respectively.
    """

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValidationError("must be an object")
        if len(value) > MAX_METADATA_FIELDS:
            raise ValidationError(f"may hold at most {MAX_METADATA_FIELDS} fields")
        problems: dict[str, list[str]] = {}
        for key, item in value.items():
            if not METADATA_KEY.fullmatch(key):
                problems[key] = ["field names must be 1-64 characters of A-Z a-z 0-9 _"]
                continue
            problem = metadata_value_problem(item)
            if problem is None and key == "usergroup" and item is not None:
                problem = None if isinstance(item, str) and item else "must be a non-empty string"
            if problem is None and key == "timezone" and item is not None:
                problem = (
                    None
                    if isinstance(item, str) and is_timezone(item)
                    else ("must be an IANA timezone name, e.g. Europe/Berlin")
                )
            if problem:
                problems[key] = [problem]
        if problems:
            raise ValidationError(problems)
        return dict(value)


class Timestamp(fields.Field[datetime]):
    """ISO-8601 with an offset (`2024-04-07T12:34:56.789Z`) or epoch milliseconds, loaded as an
    aware UTC datetime truncated to milliseconds (what MongoDB stores)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, str):
            moment = _parse_iso(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            moment = _from_epoch_ms(value)
        else:
            raise ValidationError("must be an ISO-8601 string or epoch milliseconds")
        if not EPOCH <= moment < LATEST_TIMESTAMP:
            raise ValidationError("must lie between 1970 and 2200")
        return to_millis(moment)


class Instant(Timestamp):
    """A stored instant: loaded like Timestamp, written back as ISO-8601 UTC with ms and Z."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else iso_ms(value)


def to_millis(moment: datetime) -> datetime:
    """Drop sub-millisecond digits: MongoDB stores milliseconds, so responses agree with it."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _parse_iso(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("must be an ISO-8601 date-time, e.g. 2024-04-07T12:34:56Z") from None
    if moment.tzinfo is None:
        raise ValidationError("must carry a UTC offset or Z, e.g. 2024-04-07T12:34:56Z")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:30+01:00 is before the first representable instant
        raise ValidationError("must lie between 1970 and 2200") from None


def _from_epoch_ms(value: float) -> datetime:
    if isinstance(value, int) and value not in INT64:
        raise ValidationError("must lie between 1970 and 2200")
    if not math.isfinite(value) or value < MIN_EPOCH_MS:
        raise ValidationError("must be epoch milliseconds (13 digits today), not seconds")
    try:
        return EPOCH + timedelta(milliseconds=value)
    except OverflowError:
        raise ValidationError("is out of range") from None


class EpochMillis(fields.Field[datetime]):
    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        return None if value is None else epoch_ms(value)


class IsoMillis(fields.Field[datetime]):
    """`2023-04-07T12:34:56.789Z`: UTC, milliseconds, Z."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else iso_ms(value)


def epoch_ms(moment: datetime) -> int:
    return (_as_utc(moment) - EPOCH) // timedelta(milliseconds=1)


def iso_ms(moment: datetime) -> str:
    utc = _as_utc(moment)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _as_utc(moment: datetime) -> datetime:
    """Naive datetimes are UTC (how MongoDB hands them back without tz_aware)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def printable(value: str) -> None:
    """A marshmallow validator: no control characters (NUL included)."""
    if not value.isprintable():
        raise ValidationError("must be printable characters")


class Condition(fields.Field[Any]):
    """A condition tree (docs/api.md#rules-admin-api), validated with the path of every bad node."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            compile_condition(value)
        except InvalidDefinition as error:
            raise ValidationError(error.details) from None
        return value


class EditableSchema(Schema):
    """A resource PUT replaces: a body fetched with GET may be sent back as it is, so its
    read-only (dump_only) fields are ignored on input instead of refused as unknown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read-only fields are always in the answer; OpenAPI applies `required` on a readOnly
        # property to responses only.
        for field in self.fields.values():
            if field.dump_only:
                field.required = True

    @pre_load
    def drop_read_only(self, data: Any, **_kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        read_only = {f.data_key or name for name, f in self.dump_fields.items() if f.dump_only}
        return {key: value for key, value in data.items() if key not in read_only}
