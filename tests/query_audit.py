"""The query-shape audit of the test suite: every shape the code issued, the declared index
that serves it, and the sharding rules (core.sharding) its writes must follow.

tests/conftest.py records the shapes during the run and calls `audit` at the end: the suite
fails when a shape has no index whose prefix serves it (core.query_audit says when one
does), unless UNINDEXED lists it with the reason it may scan; when the code touches a
collection core.sharding does not place; or when a write to a sharded collection lacks its
full shard key. `pytest --query-shapes` prints the whole table.

The indexes are the declared ones (`db init` on an empty database), not whatever a test
happened to create.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.inmemory import in_memory_database
from core.query_audit import Index, QueryShape, ShapeRecorder, serving_index
from core.sharding import SHARD_KEYS, UNSHARDED
from reports.indexes import ensure_indexes as ensure_report_indexes
from rules.stores.indexes import ensure_indexes

ID_INDEX = Index("_id_", (("_id", 1),), unique=True)
# Writes mongos must route to one shard: they need the whole shard key.
TARGETED_WRITES = frozenset(
    {
        "update_one",
        "replace_one",
        "delete_one",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
    }
)


@dataclass(frozen=True)
class Unindexed:
    """Shapes of `collection` binding exactly `equality` (any ranges, sort) that may scan."""

    collection: str
    equality: frozenset[str]
    reason: str

    def matches(self, shape: QueryShape) -> bool:
        return shape.collection == self.collection and set(shape.equality) == self.equality


UNINDEXED: tuple[Unindexed, ...] = (
    Unindexed(
        "idempotency_keys",
        frozenset({"project", "outcome.userId"}),
        "erasing a user deletes the keys whose outcome names them: a scan of the project's "
        "keys, which live 24 hours (TTL); an index on every keyed event for a rare erasure "
        "would cost more than it saves",
    ),
    Unindexed(
        "webhooks",
        frozenset({"project", "active"}),
        "a project's active webhooks: project_webhookId narrows to the project's few "
        "webhooks (admin configuration), `active` is checked on each",
    ),
    Unindexed(
        "report_partials",
        frozenset({"project", "users.ids"}),
        "erasing a user finds the partials listing them: a scan of the project's partials "
        "(rare; an index of every user id of every day would be larger than the partials)",
    ),
    Unindexed(
        "ledger",
        frozenset({"project", "userId", "eventId"}),
        "a user's history filtered by eventId walks the user's entries newest first along "
        "the history index and drops the others (one user's entries, read a page at a time)",
    ),
    Unindexed(
        "events",
        frozenset({"project", "userId", "eventId"}),
        "a user's history filtered by eventId walks the user's events newest first along "
        "the history index and drops the others (one user's events, read a page at a time)",
    ),
    Unindexed(
        "job_locks",
        frozenset({"owner"}),
        "a stopping scheduler releases the locks it holds: one document per scheduled job",
    ),
    Unindexed(
        "report_watermarks",
        frozenset(),
        "the on-call gauges read every project's watermark: one small document per project, "
        "read once per scrape",
    ),
)


@dataclass(frozen=True)
class Row:
    shape: QueryShape
    served_by: str  # an index name, "allowed: <reason>" or "NONE"
    count: int
    origin: str

    def line(self) -> str:
        return f"{self.shape.describe()}  →  {self.served_by}   [{self.count}× {self.origin}]"


@dataclass(frozen=True)
class Audit:
    rows: list[Row]
    failures: list[str]

    def table(self) -> str:
        return "\n".join(row.line() for row in self.rows)


def declared_indexes() -> dict[str, list[Index]]:
    db = in_memory_database("audit")
    ensure_indexes(db)
    ensure_report_indexes(db)
    return {
        name: [Index.from_information(i, info) for i, info in db[name].index_information().items()]
        for name in db.list_collection_names()
    }


def audit(recorder: ShapeRecorder, allowed: Iterable[Unindexed] = UNINDEXED) -> Audit:
    indexes = declared_indexes()
    allowed = tuple(allowed)
    rows: list[Row] = []
    failures: list[str] = []
    for shape in sorted(recorder.shapes):
        origin = recorder.origins[shape]
        where = f"{shape.describe()} (issued at {origin})"
        if shape.collection not in SHARD_KEYS and shape.collection not in UNSHARDED:
            failures.append(
                f"UNPLACED COLLECTION {shape.collection!r}: add it to core.sharding's "
                f"SHARD_KEYS or UNSHARDED (with the reason) and to docs/scaling.md — {where}"
            )
        index = serving_index(shape, [ID_INDEX, *indexes.get(shape.collection, [])])
        if index is not None:
            served = index.name
        else:
            excuse = next((a for a in allowed if a.matches(shape)), None)
            served = f"allowed: {excuse.reason}" if excuse else "NONE"
            if excuse is None:
                failures.append(
                    f"NO INDEX serves {where}: declare one whose prefix is the equality "
                    f"fields {list(shape.equality)} then the sort, or list the shape in "
                    "tests/query_audit.py's UNINDEXED with the reason it may scan"
                )
        failures.extend(_shard_key_problems(shape, where))
        rows.append(Row(shape, served, recorder.shapes[shape], origin))
    return Audit(rows, failures)


def _shard_key_problems(shape: QueryShape, where: str) -> list[str]:
    key = SHARD_KEYS.get(shape.collection)
    if key is None:
        return []
    targeted = shape.operation in TARGETED_WRITES or shape.upsert
    if targeted and not set(key) <= set(shape.equality):
        return [
            f"SHARD KEY missing from a write to sharded {shape.collection!r} "
            f"(shard key {list(key)}): {where}"
        ]
    return []
