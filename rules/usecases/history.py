"""A user's history (docs/api.md#users-support-and-leaderboards): their events and points entries,
newest first, in pages.

Events are read along `project_user_timestamp`, points entries (`ledger`, by `createdAt`)
along `project_user_created_id`, each one range scan down from the page's upper bound. The
order is total — time (ms) descending, events before points entries of the same millisecond,
then `_id` descending — and a page's cursor (`Position`, opaque to clients: base64url of
`{"t": epoch ms, "k": kind, "i": id}`) is its last item's place in it.
Why: docs/decisions/0015-history-order-and-cursors.md.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from rules.engine.outcomes import outcome_from_document
from rules.stores.eventlog import EventLog
from rules.stores.ledger import Ledger

KINDS = ("event", "points")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_MILLIS = 7_258_118_400_000  # 2200-01-01T00:00Z: the latest timestamp accepted
_KIND_ORDER = {"event": 1, "points": 0}  # at the same millisecond, events come first


@dataclass(frozen=True, order=True)
class Position:
    """An item's place in the history's order (compared ascending: larger is newer)."""

    millis: int
    kind_order: int
    item_id: str

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Position:
        return cls(_millis(item["timestamp"]), _KIND_ORDER[item["type"]], item["id"])

    def token(self) -> str:
        kind = next(k for k, order in _KIND_ORDER.items() if order == self.kind_order)
        text = json.dumps({"t": self.millis, "k": kind, "i": self.item_id}, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> Position:
        """Raises ValueError for anything `token` did not make."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            fields = json.loads(raw)
            millis, kind, item_id = fields["t"], fields["k"], fields["i"]
        except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError):
            raise ValueError("not a cursor this API returned") from None
        if (
            not isinstance(millis, int)
            or isinstance(millis, bool)
            or not 0 <= millis < MAX_MILLIS  # a stored instant: 1970 to 2200
            or kind not in _KIND_ORDER
            or not isinstance(item_id, str)
        ):
            raise ValueError("not a cursor this API returned")
        if kind == "event":
            try:
                ObjectId(item_id)
            except InvalidId:
                raise ValueError("not a cursor this API returned") from None
        return cls(millis, _KIND_ORDER[kind], item_id)

    @property
    def moment(self) -> datetime:
        return EPOCH + timedelta(milliseconds=self.millis)


@dataclass(frozen=True)
class HistoryPage:
    # Each with `type` ("event" or "points"), `id` and `timestamp`; an event's `outcome` is the
    # rules.engine.evaluation.Outcome it had, as POST /event answered.
    items: list[dict[str, Any]]
    next: Position | None  # None on the last page


def user_history(
    events: EventLog,
    ledger: Ledger,
    project: str,
    user_id: str,
    *,
    kinds: Iterable[str] = KINDS,
    event_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    after: Position | None = None,
) -> HistoryPage:
    """One page of the user's history; `since`/`until` inclusive, `after` a page's end."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1-{MAX_LIMIT}")
    kinds = set(kinds)
    if not kinds or not kinds <= set(KINDS):
        raise ValueError(f"kinds must be some of {', '.join(KINDS)}")
    upper = until
    if after is not None and (upper is None or after.moment < upper):
        upper = after.moment
    time_range: dict[str, datetime] = {}
    if upper is not None:
        time_range["$lte"] = upper
    if since is not None:
        time_range["$gte"] = since

    wanted = limit + 1  # one more than a page tells whether another page follows
    sources: list[list[dict[str, Any]]] = []
    if "event" in kinds:
        cursor = events.newest_for_user(project, user_id, time_range, event_id)
        sources.append(_take(map(_event_item, cursor), after, wanted, cursor))
    if "points" in kinds:
        cursor = ledger.newest_for_user(project, user_id, time_range, event_id)
        sources.append(_take(map(_points_item, cursor), after, wanted, cursor))
    merged = list(heapq.merge(*sources, key=Position.of, reverse=True))[:wanted]
    page = merged[:limit]
    more = len(merged) > limit
    return HistoryPage(page, Position.of(page[-1]) if more and page else None)


def _take(
    items: Iterator[dict[str, Any]], after: Position | None, wanted: int, cursor: Any
) -> list[dict[str, Any]]:
    """Up to `wanted` items strictly after `after` (the scan starts at its millisecond)."""
    taken: list[dict[str, Any]] = []
    try:
        for item in items:
            if after is not None and Position.of(item) >= after:
                continue  # the cursor's own millisecond, at or before its place
            taken.append(item)
            if len(taken) == wanted:
                break
    finally:
        cursor.close()
    return taken


def _event_item(document: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "event",
        "id": str(document["_id"]),
        "timestamp": document["timestamp"],
        "eventId": document["eventId"],
        "receivedAt": document.get("receivedAt"),
        "metadata": dict(document.get("metadata") or {}),
        "outcome": outcome_from_document(document["outcome"]),
    }


def _points_item(document: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "points",
        "id": str(document["_id"]),
        "timestamp": document["createdAt"],
        "delta": document["delta"],
        "reason": document.get("reason"),
        "source": document.get("source"),
        "actor": document.get("actor"),
        "eventId": document.get("eventId"),
    }


def _millis(moment: datetime) -> int:
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return (utc - EPOCH) // timedelta(milliseconds=1)
