"""How each collection is laid out on a sharded cluster (docs/scaling.md tells the why).

Per-user collections are sharded on `{project: 1, userId: 1}`: one user's documents live in
one chunk, so an event's writes are targeted, and a project's users spread over the shards.
Idempotency keys are sharded on `{project: 1, key: 1}`, the key of their unique index.

Every other collection stays unsharded (in the database's primary shard), each with its
reason. The query-shape audit of the test suite (tests/query_audit.py) fails when the code
touches a collection listed in neither, or writes to a sharded one without its full shard
key (an upsert, `findAndModify` or single-document write that mongos cannot target).
"""

from __future__ import annotations

SHARD_KEYS: dict[str, tuple[str, ...]] = {
    "users": ("project", "userId"),
    "events": ("project", "userId"),
    "ledger": ("project", "userId"),
    "audit": ("project", "userId"),
    "idempotency_keys": ("project", "key"),
}

UNSHARDED: dict[str, str] = {
    "notifications": (
        "the webhook outbox: a document per notification, deleted 30 days after dispatch "
        "(TTL); read by _id and by the sweep's {status, createdAt}"
    ),
    "deliveries": (
        "the delivery log: a document per (notification, webhook), deleted after 30 days "
        "(TTL); leased and updated by _id only (should it ever outgrow one shard: "
        "{_id: 'hashed'}, which keeps those writes targeted)"
    ),
    "webhooks": "a few documents per project (admin configuration)",
    "event_definitions": "a few hundred documents per project (admin configuration)",
    "streak_definitions": "a few dozen documents per project (admin configuration)",
    "challenge_definitions": "a few dozen documents per project (admin configuration)",
    "level_tables": "one document per project, upserted by _id",
    "definition_stamps": "one counter per project, upserted by _id",
    "job_locks": "one document per scheduled job, upserted by _id",
    "report_partials": (
        "one document per (project, eventId, UTC day), replaced by _id: thousands per "
        "project and year (should it outgrow one shard: {_id: 'hashed'})"
    ),
    "reports": "three documents per (project, eventId), replaced by _id",
    "report_watermarks": "one document per project, upserted by _id",
    "funnel_definitions": "a few dozen documents per project (admin configuration)",
    "insight_days": (
        "one document per (project, eventId, UTC day), replaced by _id, like report_partials "
        "(should it outgrow one shard: {_id: 'hashed'})"
    ),
    "user_firsts": (
        "16 columnar documents per (project, eventId), replaced by _id under a version check"
    ),
}
