"""Effects: what runs once a user's pending record is written, before it is pulled.

Notifications and leaderboards hang here (jobs.effects lists them). A record may be finished
twice, or by another process than the one that saved it, so an effect must be idempotent; it
is best effort and may fail (logged, its own sweep catches up). Below both the stores and the
use cases, so that a store can offer an effect without importing a use case (see
docs/architecture.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)

# Called with (project, user id, pending record).
Effect = Callable[[str, str, Mapping[str, Any]], None]


def run_effects(
    effects: Sequence[Effect], project: str, records: Sequence[tuple[str, Mapping[str, Any]]]
) -> None:
    """Run every effect on finished records (user id, pending record): at once through its
    `many` when it has one (rules.usecases.leaderboards), else record by record. Effects are best
    effort by contract (their own sweeps catch up): a failure is logged and the others still run."""
    for effect in effects:
        many = getattr(effect, "many", None)
        try:
            if many is not None:
                many(project, records)
                continue
            for user_id, pending in records:
                try:
                    effect(project, user_id, pending)
                except Exception:
                    log.exception("side effect %r of record %s failed", effect, pending["id"])
        except Exception:
            ids = ", ".join(str(pending["id"]) for _, pending in records)
            log.exception("side effect %r of records %s failed", effect, ids)
