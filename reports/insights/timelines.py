"""Event timelines: the events of one (project, eventId, UTC day) as columns, kept in the day's
insight document (reports.insights.days, field `timeline`) so that a funnel walks them
(reports.insights.funnel_arrays) instead of reading the raw events.

Shape (`version` 1), one entry per event of the day, in no particular order:
    {version, count, hashes: Binary, ms: Binary, ids: Binary | None,
     columns: Binary, complete: bool}

- `hashes`: the user's 64-bit hash (reports.insights.hashes), little-endian uint64, 8 bytes an
  event;
- `ms`: the timestamp in epoch milliseconds, little-endian int64;
- `ids`: the record id's 12 bytes (an ObjectId, whose byte order is the order of its hex
  text): the funnel's tie-break between events of one millisecond, as on the raw events.
  None when some record id is not an ObjectId;
- `columns`: one Binary holding the BSON of {field: {values: [...], codes: Binary}} (one
  opaque value: stores and drivers copy it whole instead of walking thousands of values):
  every metadata field of the day's events, as its distinct values (JSON types
  kept apart: true, 1 and "1" are three values; null is a value, distinct from absent) and
  one little-endian uint32 code an event, 0 for an event without the field and i + 1 for
  `values[i]`. From these the metadata of any event can be rebuilt exactly, so step
  conditions (rules.engine.conditions) are evaluated on the very values the raw walk would see.

`complete` says that the columns hold every field of every event exactly; it is false when a
field held something a column cannot keep (a value that is not a JSON scalar, an integer
beyond int64, a field name the API refuses), when a record id is not an ObjectId, or when the
columns were dropped to fit the document's size budget (reports.insights.days._fit). A funnel
whose range meets a timeline that cannot answer it reads the raw events instead, so funnel
answers stay exact whatever the data.

Cost: about 28 bytes an event plus the codes of its fields (4 bytes each) and the day's
distinct values, written by the same run that writes the insight day (one document, no extra
write).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import numpy as np
import numpy.typing as npt
from bson import ObjectId
from bson.binary import Binary

from reports.bounds import INT64_MAX, INT64_MIN
from reports.insights.hashes import user_hash
from reports.windows import day_key
from rules.engine.conditions import METADATA_KEY

TIMELINE_VERSION = 1
ID_BYTES = 12
_SCALARS = (bool, int, float, str)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """Naive datetimes are UTC (PyMongo without tz_aware)."""
    utc = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (utc - _EPOCH) // timedelta(milliseconds=1)


def _token(value: Any) -> tuple[str, Any]:
    """Equal for equal JSON values of one type only (True and 1 stay apart)."""
    return (type(value).__name__, value)


def _storable(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, _SCALARS):
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        return INT64_MIN <= value <= INT64_MAX
    return True


@dataclass
class _Column:
    values: list[Any] = field(default_factory=list)
    index: dict[tuple[str, Any], int] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)

    def add(self, row: int, value: Any) -> None:
        token = _token(value)
        code = self.index.get(token)
        if code is None:
            self.values.append(value)
            code = self.index[token] = len(self.values)
        self.rows.append(row)
        self.codes.append(code)


@dataclass
class _Day:
    hashes: list[int] = field(default_factory=list)
    ms: list[int] = field(default_factory=list)
    ids: list[bytes] | None = field(default_factory=list)
    columns: dict[str, _Column] = field(default_factory=lambda: defaultdict(_Column))
    complete: bool = True

    def add(self, record: Mapping[str, Any], user: int) -> None:
        row = len(self.ms)
        self.hashes.append(user)
        self.ms.append(epoch_ms(record["timestamp"]))
        record_id = record.get("_id")
        if self.ids is not None and isinstance(record_id, ObjectId):
            self.ids.append(record_id.binary)
        else:
            self.ids = None
            self.complete = False
        for name, value in (record.get("metadata") or {}).items():
            if isinstance(name, str) and METADATA_KEY.fullmatch(name) and _storable(value):
                self.columns[name].add(row, value)
            else:
                self.complete = False

    def document(self) -> dict[str, Any]:
        count = len(self.ms)
        columns = {}
        for name in sorted(self.columns):
            column = self.columns[name]
            codes = np.zeros(count, dtype="<u4")
            codes[np.array(column.rows, dtype=np.int64)] = column.codes
            columns[name] = {"values": column.values, "codes": Binary(codes.tobytes())}
        return {
            "version": TIMELINE_VERSION,
            "count": count,
            "hashes": Binary(np.array(self.hashes, dtype="<u8").tobytes()),
            "ms": Binary(np.array(self.ms, dtype="<i8").tobytes()),
            "ids": None if self.ids is None else Binary(b"".join(self.ids)),
            "columns": Binary(bson.encode(columns)),
            "complete": self.complete,
        }


def timelines(records: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The timeline of every (eventId, UTC day) of `records` (records of one project)."""
    days: dict[tuple[str, str], _Day] = defaultdict(_Day)
    hashes: dict[str, int] = {}
    for record in records:
        user = str(record["userId"])
        if user not in hashes:
            hashes[user] = user_hash(user)
        days[(str(record["eventId"]), day_key(record["timestamp"]))].add(record, hashes[user])
    return {key: day.document() for key, day in days.items()}


def without_columns(timeline: dict[str, Any]) -> dict[str, Any]:
    """The timeline without its metadata: funnels without conditions or segments only."""
    return {**timeline, "columns": None, "complete": False}


# --- reading


@dataclass(frozen=True)
class Columns:
    """One timeline decoded: arrays of one entry an event."""

    event_id: str
    hashes: npt.NDArray[np.uint64]
    ms: npt.NDArray[np.int64]
    id_high: npt.NDArray[np.uint64]  # the record id's first 8 bytes, big-endian
    id_low: npt.NDArray[np.uint32]  # and its last 4
    columns: Mapping[str, Mapping[str, Any]]
    complete: bool

    def codes(self, name: str) -> npt.NDArray[np.uint32] | None:
        column = self.columns.get(name)
        if column is None:
            return None
        return np.frombuffer(bytes(column["codes"]), dtype="<u4").astype(np.uint32)

    def values(self, name: str) -> list[Any]:
        column = self.columns.get(name)
        return [] if column is None else list(column["values"])

    def metadata(self, rows: npt.NDArray[np.int64]) -> list[dict[str, Any]]:
        """The metadata of the events at `rows`, as the raw records hold it (complete only)."""
        rebuilt: list[dict[str, Any]] = [{} for _ in range(len(rows))]
        for name in self.columns:
            codes = self.codes(name)
            assert codes is not None
            values = self.values(name)
            for slot, code in enumerate(codes[rows].tolist()):
                if code:
                    rebuilt[slot][name] = values[code - 1]
        return rebuilt


def decode(event_id: str, timeline: Mapping[str, Any]) -> Columns | None:
    """The timeline's arrays, or None when its record ids are not all known."""
    if timeline.get("ids") is None:
        return None
    ids = np.frombuffer(bytes(timeline["ids"]), dtype=[("high", ">u8"), ("low", ">u4")])
    return Columns(
        event_id=event_id,
        hashes=np.frombuffer(bytes(timeline["hashes"]), dtype="<u8").astype(np.uint64),
        ms=np.frombuffer(bytes(timeline["ms"]), dtype="<i8").astype(np.int64),
        id_high=ids["high"].astype(np.uint64),
        id_low=ids["low"].astype(np.uint32),
        columns=bson.decode(bytes(timeline["columns"])) if timeline.get("columns") else {},
        complete=bool(timeline.get("complete")),
    )
