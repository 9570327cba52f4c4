"""Insight days: what one UTC day of one (project, eventId) contributes to the breakdowns and
the retention of docs/api.md#insights. Recomputed whole from the day's events by the report runs,
next to the day's partial (reports.analytics.partials), so a breakdown or a retention reads one
small document per day of its range and never an event.

Shape (`version` 1):
    {version, project, eventId, day, count, userCount, users: Binary | None,
     numbers: {field: numeric document},
     fields: {by: {values: [{value, count, users: Binary | None, numbers: {field: numeric}}],
                   distinct, otherCount, truncated}},
     droppedFields, usersDropped, sketchesDropped, timeline}

- `users`: the day's distinct users as sorted 64-bit hashes (reports.insights.hashes), or None above
  USER_HASH_LIMIT (4 MiB), when `usersDropped` is set; `userCount` stays exact.
- `numbers`: per numeric field of the day, reports.analytics.partials.numeric_document plus `sketch`
  (reports.sketch, packed into Binary by `pack_sketch`): the figures of the events where the
  field holds a number.
- `fields`: per metadata field `by` (the FIELD_LIMIT fields with the most non-null values, as
  the partials choose them; `droppedFields` counts the others), its values with the count,
  users and numeric figures of the events holding each. The value null stands for the events
  without the field (absent or null). Values keep their JSON type; a float holding an integer
  is that integer (1.0 and 1 are one JSON number). The VALUE_LIMIT most frequent values are
  kept (ties by value, see `value_order`); the rest are counted in `otherCount` and make
  `truncated` true.

- `timeline`: the day's events as columns (reports.insights.timelines), what funnels walk.

Bounded by encoded size, not by counts alone (reports.bounds): a document whose BSON passes
DOCUMENT_BUDGET first drops the timeline's metadata columns, then the timeline (funnels over
that day then read the raw events), then keeps fewer values per field (halving, down to 1),
then drops the per-value users (`usersDropped`), then the per-value sketches
(`sketchesDropped`): each cut is said in the document, and the breakdown lists the figures it
made approximate.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from bson.binary import Binary

from reports.analytics import aggregates
from reports.analytics.frames import BOOLEAN, NULL, NUMERIC, STRING, value_kind
from reports.analytics.partials import FIELD_LIMIT, numeric_document
from reports.bounds import DOCUMENT_BUDGET, encoded_size
from reports.insights.hashes import to_binary, user_hash
from reports.insights.timelines import timelines, without_columns
from reports.sketch import QuantileSketch
from reports.windows import day_key
from rules.engine.conditions import METADATA_KEY

INSIGHT_VERSION = 1
VALUE_LIMIT = 100  # the breakdown's largest `limit`
USER_HASH_LIMIT = 512 * 1024  # 4 MiB of hashes
KEYS = ["eventId", "day"]
_RANKS = {NULL: 0, BOOLEAN: 1, NUMERIC: 2, STRING: 3}


def canonical(value: Any) -> Any:
    """The value as a breakdown keeps it: None for null (and for what the API never accepts),
    an integral float as the int it equals."""
    kind = value_kind(value)
    if kind == NULL:
        return None
    if kind == NUMERIC and isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def value_order(value: Any) -> tuple[int, Any]:
    """Ties between values of equal counts: null, then false and true, then numbers ascending,
    then strings (by code point). Also the identity of a value: equal for equal JSON values
    only (true is not 1, 1.0 is 1)."""
    return (_RANKS[value_kind(value)], value)


_TAGS = {NULL: "z", BOOLEAN: "b", NUMERIC: "n", STRING: "s"}


def _token(value: Any) -> str:
    """A text standing for the value and its type, for grouping (True and 1 stay apart)."""
    kind = value_kind(value)
    return f"s{value}" if kind == STRING else f"{_TAGS[kind]}{value!r}"


def insight_days(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One insight day per (project, eventId, UTC day) of `records` (all events of each day;
    a document replaces the stored one), sorted by those keys."""
    by_project: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        by_project[str(record["project"])].append(record)
    return [
        doc for project in sorted(by_project) for doc in _project_days(project, by_project[project])
    ]


def _project_days(project: str, records: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows: dict[str, list[Any]] = {"eventId": [], "day": [], "hash": []}
    values: dict[str, list[Any]] = {
        "row": [],
        "field": [],
        "token": [],
        "kind": [],
        "number": [],
        "integer": [],
    }
    known: dict[str, Any] = {}
    hashes: dict[str, int] = {}
    for row, record in enumerate(records):
        user = str(record["userId"])
        if user not in hashes:
            hashes[user] = user_hash(user)
        rows["eventId"].append(str(record["eventId"]))
        rows["day"].append(day_key(record["timestamp"]))
        rows["hash"].append(hashes[user])
        for name, raw in (record.get("metadata") or {}).items():
            if not isinstance(name, str) or not METADATA_KEY.fullmatch(name):
                continue
            value = canonical(raw)
            if value is None:
                continue
            token = _token(value)
            known.setdefault(token, value)
            kind = value_kind(value)
            values["row"].append(row)
            values["field"].append(name)
            values["token"].append(token)
            values["kind"].append(kind)
            values["number"].append(float(value) if kind == NUMERIC else math.nan)
            values["integer"].append(isinstance(value, int) and kind == NUMERIC)
    events = pd.DataFrame(
        {
            "eventId": pd.Series(rows["eventId"], dtype=object),
            "day": pd.Series(rows["day"], dtype=object),
            "hash": pd.Series(rows["hash"], dtype=np.uint64),
        }
    )
    events["row"] = np.arange(len(events), dtype=np.int64)
    frame = pd.DataFrame(
        {
            "row": pd.Series(values["row"], dtype=np.int64),
            "field": pd.Series(values["field"], dtype=object),
            "token": pd.Series(values["token"], dtype=object),
            "kind": pd.Series(values["kind"], dtype=object),
            "number": pd.Series(values["number"], dtype=np.float64),
            "integer": pd.Series(values["integer"], dtype=bool),
        }
    )
    keyed = frame.merge(events[["row", *KEYS]], on="row")
    docs = _day_documents(project, events, keyed, known)
    for key, timeline in timelines(records).items():
        docs[key]["timeline"] = timeline
    return [_fit(docs[key]) for key in sorted(docs)]


def _day_documents(
    project: str, events: pd.DataFrame, keyed: pd.DataFrame, known: Mapping[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    docs: dict[tuple[str, str], dict[str, Any]] = {}
    for (event_id, day), group in events.groupby(KEYS, sort=True):
        users = np.unique(group["hash"].to_numpy(dtype=np.uint64))
        dropped = len(users) > USER_HASH_LIMIT
        docs[(str(event_id), str(day))] = {
            "version": INSIGHT_VERSION,
            "project": project,
            "eventId": str(event_id),
            "day": str(day),
            "count": len(group),
            "userCount": len(users),
            "users": None if dropped else to_binary(users),
            "numbers": {},
            "fields": {},
            "droppedFields": 0,
            "usersDropped": dropped,
            "sketchesDropped": False,
        }
    chosen = _chosen_fields(keyed, docs)
    numeric = keyed[keyed["kind"] == NUMERIC]
    numeric = numeric[_in(numeric, chosen)]
    for key, stats in _numbers(numeric, KEYS).items():
        docs[(key[0], key[1])]["numbers"][key[2]] = stats
    # Every event of a day, once per chosen field of its day, with its value's token (null
    # when the event lacks the field).
    pairs = pd.DataFrame(
        [(event_id, day, name) for (event_id, day), names in chosen.items() for name in names],
        columns=[*KEYS, "by"],
    )
    if pairs.empty:
        return docs
    assigned = events[["row", *KEYS, "hash"]].merge(pairs, on=KEYS)
    tokens = keyed[["row", "field", "token"]].rename(columns={"field": "by"})
    assigned = assigned.merge(tokens, on=["row", "by"], how="left")
    assigned["token"] = assigned["token"].fillna(_token(None))
    entries = _rank_values(assigned, docs, known)
    kept = pd.DataFrame(list(entries), columns=[*KEYS, "by", "token"])
    assigned = assigned.merge(kept, on=[*KEYS, "by", "token"])
    for key, users in assigned.groupby([*KEYS, "by", "token"])["hash"]:
        entries[key]["users"] = to_binary(np.unique(users.to_numpy(dtype=np.uint64)))
    paired = assigned[["row", *KEYS, "by", "token"]].merge(
        numeric[["row", "field", "kind", "number", "integer"]], on="row"
    )
    for key, stats in _numbers(paired, [*KEYS, "by", "token"]).items():
        entries[key[:4]]["numbers"][key[4]] = stats
    return docs


def _in(frame: pd.DataFrame, chosen: Mapping[tuple[str, str], list[str]]) -> Any:
    wanted = {(e, d, f) for (e, d), names in chosen.items() for f in names}
    triples = zip(frame["eventId"], frame["day"], frame["field"], strict=True)
    return np.fromiter((t in wanted for t in triples), dtype=bool, count=len(frame))


def _chosen_fields(
    keyed: pd.DataFrame, docs: dict[tuple[str, str], dict[str, Any]]
) -> dict[tuple[str, str], list[str]]:
    """Per day, the FIELD_LIMIT fields with the most non-null values (ties by name)."""
    present = keyed.groupby([*KEYS, "field"], sort=True).size()
    by_day: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for (event_id, day, name), size in present.items():
        by_day[(event_id, day)].append((-int(size), name))
    chosen = {}
    for key, counted in by_day.items():
        ranked = sorted(counted)
        chosen[key] = sorted(name for _, name in ranked[:FIELD_LIMIT])
        docs[key]["droppedFields"] = max(len(ranked) - FIELD_LIMIT, 0)
    return chosen


def _rank_values(
    assigned: pd.DataFrame,
    docs: dict[tuple[str, str], dict[str, Any]],
    known: Mapping[str, Any],
) -> dict[tuple[str, ...], dict[str, Any]]:
    """Fill each day's `fields` with its VALUE_LIMIT most frequent values; return their
    entries by (eventId, day, by, token)."""
    counts = assigned.groupby([*KEYS, "by", "token"], sort=False).size()
    grouped: dict[tuple[str, str, str], list[tuple[Any, int, str]]] = defaultdict(list)
    for (event_id, day, by, token), size in counts.items():
        value = known.get(token)
        grouped[(event_id, day, by)].append((value, int(size), token))
    entries: dict[tuple[str, ...], dict[str, Any]] = {}
    for (event_id, day, by), items in sorted(grouped.items()):
        items.sort(key=lambda item: (-item[1], value_order(item[0])))
        top, rest = items[:VALUE_LIMIT], items[VALUE_LIMIT:]
        values = []
        for value, size, token in top:
            entry = {"value": value, "count": size, "users": None, "numbers": {}}
            entries[(event_id, day, by, token)] = entry
            values.append(entry)
        docs[(event_id, day)]["fields"][by] = {
            "values": values,
            "distinct": len(items),
            "otherCount": sum(size for _, size, _ in rest),
            "truncated": bool(rest),
        }
    return entries


def _numbers(values: pd.DataFrame, keys: list[str]) -> dict[tuple[str, ...], dict[str, Any]]:
    """keys + field → numeric document with its packed sketch, over the NUMERIC rows."""
    if values.empty:
        return {}
    group_keys = [*keys, "field"]
    buckets: dict[tuple[str, ...], dict[int, dict[int, int]]] = defaultdict(
        lambda: {-1: {}, 0: {}, 1: {}}
    )
    sized = aggregates.sketch_buckets(values, group_keys)
    columns = [sized[k].tolist() for k in [*group_keys, "sign", "bucket", "size"]]
    for *names, sign, bucket, size in zip(*columns, strict=True):
        buckets[tuple(names)][sign][bucket] = size
    stats: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in aggregates.rows(_numeric_stats(values, group_keys)):
        group = tuple(row[k] for k in group_keys)
        signs = buckets[group]
        sketch = QuantileSketch.from_buckets(sum(signs[0].values()), signs[1], signs[-1])
        stats[group] = {**numeric_document(row), "sketch": pack_sketch(sketch)}
    return stats


def _numeric_stats(values: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """aggregates.numeric_stats, vectorised: plain sums instead of math.fsum per group (a day
    of insight may hold tens of thousands of groups; the mean stays exact to float rounding)."""
    numbers = values.loc[values["kind"] == NUMERIC, [*keys, "number", "integer"]]
    grouped = numbers.groupby(keys, sort=False)
    stats = grouped["number"].agg(["count", "sum", "min", "max"])
    stats["integer"] = grouped["integer"].all()
    means = (stats["sum"] / stats["count"]).rename("mean")
    deviations = numbers.join(means, on=keys)
    deviations["squared"] = (deviations["number"] - deviations["mean"]) ** 2
    stats["m2"] = deviations.groupby(keys, sort=False)["squared"].sum()
    return stats.reset_index()


def pack_sketch(sketch: QuantileSketch) -> dict[str, Any]:
    """A sketch as {alpha, zero, positive, negative}, each side one Binary of little-endian
    (int32 bucket, int64 count) pairs: a tenth of the size of lists of BSON numbers."""
    return {
        "alpha": sketch.alpha,
        "zero": sketch.zero,
        "positive": _pack(sketch.positive),
        "negative": _pack(sketch.negative),
    }


def unpack_sketch(doc: Mapping[str, Any]) -> QuantileSketch:
    return QuantileSketch.from_buckets(
        int(doc["zero"]), _unpack(doc["positive"]), _unpack(doc["negative"]), float(doc["alpha"])
    )


def merge_packed(docs: Iterable[Mapping[str, Any]]) -> QuantileSketch:
    """The merge of packed sketches of one alpha, summed with numpy in one pass (a breakdown
    over 90 days merges thousands of them: pairwise merges of dicts took seconds)."""
    docs = list(docs)
    if not docs:
        return QuantileSketch()
    alphas = {float(doc["alpha"]) for doc in docs}
    if len(alphas) > 1:
        raise ValueError("cannot merge sketches of different relative accuracy")
    sides = []
    for side in ("positive", "negative"):
        packed = np.concatenate([np.frombuffer(bytes(doc[side]), dtype=_PAIR) for doc in docs])
        keys, inverse = np.unique(packed["bucket"], return_inverse=True)
        sums = np.zeros(len(keys), dtype=np.int64)
        np.add.at(sums, inverse, packed["count"].astype(np.int64))
        sides.append(dict(zip(keys.tolist(), sums.tolist(), strict=True)))
    zero = sum(int(doc["zero"]) for doc in docs)
    return QuantileSketch.from_buckets(zero, sides[0], sides[1], alphas.pop())


_PAIR = np.dtype([("bucket", "<i4"), ("count", "<i8")])


def _pack(buckets: Mapping[int, int]) -> Binary:
    pairs = np.array(sorted(buckets.items()), dtype=np.int64).reshape(-1, 2)
    packed = np.zeros(len(pairs), dtype=_PAIR)
    packed["bucket"], packed["count"] = pairs[:, 0], pairs[:, 1]
    return Binary(packed.tobytes())


def _unpack(data: bytes) -> dict[int, int]:
    packed = np.frombuffer(bytes(data), dtype=_PAIR)
    return dict(zip(packed["bucket"].tolist(), packed["count"].tolist(), strict=True))


def _fit(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` cut until its BSON fits DOCUMENT_BUDGET (see the module docstring)."""
    if encoded_size(doc) <= DOCUMENT_BUDGET:
        return doc
    # The timeline goes first: a funnel that cannot use it reads the raw events, still exact.
    if doc.get("timeline") is not None:
        doc["timeline"] = without_columns(doc["timeline"])
        if encoded_size(doc) > DOCUMENT_BUDGET:
            doc["timeline"] = None
        if encoded_size(doc) <= DOCUMENT_BUDGET:
            return doc
    keep = max((len(f["values"]) for f in doc["fields"].values()), default=0)
    while keep > 1 and encoded_size(doc) > DOCUMENT_BUDGET:
        keep //= 2
        for field in doc["fields"].values():
            cut = field["values"][keep:]
            if cut:
                field["values"] = field["values"][:keep]
                field["otherCount"] += sum(entry["count"] for entry in cut)
                field["truncated"] = True
    entries = [entry for field in doc["fields"].values() for entry in field["values"]]
    if encoded_size(doc) > DOCUMENT_BUDGET:
        doc["usersDropped"] = True
        for entry in entries:
            entry["users"] = None
    if encoded_size(doc) > DOCUMENT_BUDGET:
        doc["sketchesDropped"] = True
        for numbers in [doc["numbers"], *(entry["numbers"] for entry in entries)]:
            for stats in numbers.values():
                stats["sketch"] = None
    if encoded_size(doc) > DOCUMENT_BUDGET:
        doc["users"] = None
    return doc
