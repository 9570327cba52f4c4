"""Independent answers to the insight questions of docs/api.md#insights, computed with pandas from
the raw events, for the integration tests to compare the API with. Nothing here imports reports/:
these are the contract's sentences, written a second time, the plain way.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

PROJECT = "acme"
EVENT_IDS = ("login", "view", "purchase", "level")
PLATFORMS = ("ios", "android", "web", "tv")
# Where the clients that sent the events live: timestamps carry these offsets.
ZONES = (UTC, ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata"))


def typed(value: Any) -> tuple[int, Any] | None:
    """A JSON value with its type, as the contract compares them (true is not 1, 1.0 is 1);
    None for a missing value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, int(value) if float(value).is_integer() else value)
    if isinstance(value, str):
        return (3, value)
    return None


def order(key: tuple[int, Any] | None) -> tuple[int, Any]:
    return (0, 0) if key is None else key


def random_events(
    rng: random.Random, n: int, first: datetime, days: int, users: int, received: datetime
) -> list[dict[str, Any]]:
    """Skewed events: a few users and the first platform dominate; some fields absent or null;
    timestamps written in several timezones."""
    weights = [1 / (rank + 1) ** 1.2 for rank in range(users)]
    events = []
    for _ in range(n):
        user = rng.choices(range(users), weights)[0]
        event_id = rng.choices(EVENT_IDS, (5, 4, 2, 2))[0]
        moment = first + timedelta(seconds=rng.randrange(days * 86_400))
        metadata: dict[str, Any] = {}
        if rng.random() < 0.9:
            metadata["platform"] = rng.choices(PLATFORMS, (8, 4, 2, 1))[0]
        if rng.random() < 0.1:
            metadata["platform"] = None
        if event_id == "purchase":
            metadata["orderValue"] = round(rng.lognormvariate(3, 1), 2)
            metadata["firstOrder"] = rng.random() < 0.3
        if event_id == "level":
            metadata["levelId"] = rng.randint(1, 6)
            if rng.random() < 0.8:
                metadata["timeToComplete"] = rng.choice([rng.randint(20, 600), 45.5])
        if rng.random() < 0.2:
            metadata["flag"] = rng.choice([True, 1, "1", 1.0, False, 0])
        events.append(
            {
                "project": PROJECT,
                "userId": f"user-{user}",
                "eventId": event_id,
                "timestamp": moment.astimezone(rng.choice(ZONES)),
                "receivedAt": received,
                "metadata": metadata,
                "outcome": {"pointsAwarded": 0, "totalPointsAwarded": 0},
            }
        )
    return events


def frame(events: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "userId": [e["userId"] for e in events],
            "eventId": [e["eventId"] for e in events],
            "ts": pd.to_datetime([e["timestamp"].astimezone(UTC) for e in events], utc=True),
            "metadata": [e.get("metadata") or {} for e in events],
        }
    )
    rows["day"] = rows["ts"].dt.date
    rows["seq"] = np.arange(len(rows))
    return rows


def breakdown(
    events: pd.DataFrame,
    event_id: str,
    first: date | None,
    last: date,
    by: str,
    field: str | None,
    limit: int,
) -> dict[str, Any]:
    rows = events[events["eventId"] == event_id]
    rows = rows[(rows["day"] <= last) & ((rows["day"] >= first) if first else True)]
    rows = rows.assign(key=[typed(m.get(by)) for m in rows["metadata"]])
    rows = rows.assign(number=[_number(m.get(field)) if field else None for m in rows["metadata"]])
    items = []
    for _, group in rows.groupby(rows["key"].map(repr)):
        original = group["key"].iloc[0]
        numbers = group["number"].dropna().astype(float)
        stats = None
        if field:
            stats = {"count": len(numbers), "mean": None, "min": None, "max": None}
            if len(numbers):
                ints = [_number(m.get(field)) for m in group["metadata"]]
                exact = [v for v in ints if v is not None]
                stats.update(
                    mean=float(numbers.mean()),
                    min=min(exact),
                    max=max(exact),
                    p50=float(np.quantile(numbers, 0.5, method="inverted_cdf")),
                    p90=float(np.quantile(numbers, 0.9, method="inverted_cdf")),
                )
        items.append(
            {
                "value": None if original is None else original[1],
                "order": order(original),
                "count": len(group),
                "uniqueUsers": group["userId"].nunique(),
                "stats": stats,
            }
        )
    items.sort(key=lambda item: (-item["count"], item["order"]))
    top = items[:limit]
    return {"items": top, "otherCount": len(rows) - sum(i["count"] for i in top)}


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


Condition = Callable[[Mapping[str, Any]], bool]


def funnel(
    events: pd.DataFrame,
    steps: Sequence[tuple[str, Condition | None]],
    first: date,
    last: date,
    window_seconds: int,
    by: str | None = None,
) -> dict[str, Any]:
    """The brute-force walk of docs/api.md#insights, user by user, candidate by candidate."""
    start = pd.Timestamp(datetime.combine(first, datetime.min.time(), tzinfo=UTC))
    end = pd.Timestamp(datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC))
    window = pd.Timedelta(seconds=window_seconds)

    def matches(row: Any, step: tuple[str, Condition | None]) -> bool:
        return bool(row.eventId == step[0] and (step[1] is None or step[1](row.metadata)))

    journeys = []
    for _, group in events.sort_values(["ts", "seq"]).groupby("userId"):
        rows = list(group.itertuples())
        entries = [r for r in rows if start <= r.ts < end and matches(r, steps[0])]
        if not entries:
            continue
        entry = min(entries, key=lambda r: (r.ts, r.seq))
        used, times = {entry.seq}, [entry.ts]
        for step in steps[1:]:
            candidates = [
                r
                for r in rows
                if r.seq not in used and matches(r, step) and times[-1] <= r.ts <= times[0] + window
            ]
            if not candidates:
                break
            chosen = min(candidates, key=lambda r: (r.ts, r.seq))
            used.add(chosen.seq)
            times.append(chosen.ts)
        journeys.append((typed(entry.metadata.get(by)) if by else None, times))
    result = {"steps": _figures(journeys, steps), "segments": []}
    if by:
        keys = {repr(k): k for k, _ in journeys}
        groups = {name: [j for j in journeys if repr(j[0]) == name] for name in keys}
        ordered = sorted(groups, key=lambda name: (-len(groups[name]), order(keys[name])))
        result["segments"] = [
            {
                "value": None if keys[name] is None else keys[name][1],
                "steps": _figures(groups[name], steps),
            }
            for name in ordered
        ]
    return result


def _figures(journeys: Sequence[Any], steps: Sequence[Any]) -> list[dict[str, Any]]:
    figures = []
    for k, (event_id, _) in enumerate(steps):
        reached = [times for _, times in journeys if len(times) > k]
        gaps = pd.Series([(t[k] - t[k - 1]).total_seconds() for t in reached] if k else [])
        before = len([1 for _, times in journeys if len(times) > k - 1]) if k else len(reached)
        figures.append(
            {
                "eventId": event_id,
                "users": len(reached),
                "conversion": len(reached) / len(journeys) if journeys else 0,
                "stepConversion": 1.0 if k == 0 else (len(reached) / before if before else 0),
                "medianSecondsFromPrevious": float(gaps.median()) if len(gaps) else None,
            }
        )
    return figures


def retention(
    events: pd.DataFrame,
    period: str,
    first: date,
    last: date,
    periods: int,
    today: date,
    cohort_event: str | None = None,
    return_event: str | None = None,
    split: str | None = None,
) -> list[dict[str, Any]]:
    def start_of(day: date) -> date:
        return day if period == "day" else day - timedelta(days=day.weekday())

    length = timedelta(days=1 if period == "day" else 7)
    cohort_rows = events if cohort_event is None else events[events["eventId"] == cohort_event]
    firsts = cohort_rows.groupby("userId")["day"].min().map(start_of)
    returns = events if return_event is None else events[events["eventId"] == return_event]
    active = returns.assign(period=returns["day"].map(start_of)).groupby("period")["userId"]
    active_sets = {p: set(users) for p, users in active}
    split_rows = events[events["eventId"] == split] if split else events.iloc[0:0]
    split_sets = {
        p: set(users)
        for p, users in split_rows.assign(period=split_rows["day"].map(start_of)).groupby("period")[
            "userId"
        ]
    }

    def retained(members: set[str], start: date) -> dict[str, Any]:
        counts: list[int | None] = [len(members)]
        for k in range(1, periods + 1):
            begins = start + k * length
            counts.append(None if begins > today else len(members & active_sets.get(begins, set())))
        return {"users": len(members), "retained": counts}

    cohorts = []
    start = start_of(first)
    if start < first:
        start += length
    while start <= last:
        members = set(firsts[firsts == start].index)
        if members:
            cohort = {"start": start.isoformat(), **retained(members, start)}
            if split:
                did = members & split_sets.get(start, set())
                cohort["with"] = retained(did, start)
                cohort["without"] = retained(members - did, start)
            cohorts.append(cohort)
        start += length
    return cohorts
