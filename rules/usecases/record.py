"""Recording an event: check it, then apply it exactly once through the unit of work.

The steps (load, finish what is pending, check the key, decide, save with the pending record,
finish) and the argument that nothing is lost or applied twice are
rules.usecases.unit_of_work's; this module checks what does not depend on the user (the
event's time, its definition, its metadata) and decides: the engine evaluates the event on the
user's state, and the pending record holds the event record with its outcome and the ledger
entries (see docs/architecture.md). An outcome replayed under an idempotency key is turned back
into an Outcome here, at the events' edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from rules.effects import Effect
from rules.engine.evaluation import Evaluation, Event, Outcome, evaluate
from rules.engine.outcomes import outcome_from_document
from rules.engine.points import check_metadata_schema
from rules.engine.state import UserState
from rules.errors import ImportNotAllowed, InvalidEvent
from rules.stores.eventlog import EventLog
from rules.stores.idempotency import IdempotencyKey, IdempotencyStore
from rules.stores.ledger import Ledger
from rules.stores.outbox import notifications_for
from rules.stores.users import StoredUser
from rules.usecases.catalog import Catalog, CatalogCache, load_catalog
from rules.usecases.unit_of_work import Decision, apply_once

FUTURE_TOLERANCE = timedelta(minutes=5)
IMPORT_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome
    replayed: bool = False  # an earlier request with the same idempotency key applied it


def record_event(
    db: Database[Any],
    project: str,
    event: Event,
    *,
    received_at: datetime,
    idempotency: IdempotencyKey | None = None,
    catalogs: CatalogCache | None = None,
    may_import: bool = True,
    effects: Sequence[Effect] = (),
) -> Recorded:
    """Apply `event` to its user exactly once and return the response data.

    Raises IdempotencyConflict (the key came with another request), InvalidEvent (a
    timestamp too far ahead, metadata that breaks the definition), ImportNotAllowed (older
    than IMPORT_AFTER and not `may_import`), EventNotFound (unknown or inactive eventId) or
    UpdateContention (the user kept changing). Nothing is stored when one is raised.
    """
    if idempotency is not None:
        # A retry replays whatever changed since (its time, the definitions, the token).
        earlier = IdempotencyStore(db).stored_outcome(project, idempotency)
        if earlier is not None:
            return Recorded(outcome_from_document(earlier), replayed=True)
    check_event_time(event.timestamp, received_at, may_import)
    catalog = catalogs.get(db, project) if catalogs is not None else load_catalog(db, project)
    check_metadata_schema(catalog.event_rule(event.event_id), event.metadata)

    def decide(stored: StoredUser | None) -> Decision[Outcome]:
        state = stored.state if stored else UserState(user_id=event.user_id)
        evaluation = evaluate_event(catalog, event, state)
        pending = pending_record(project, event, evaluation, catalog, received_at, idempotency)
        outcome = pending["event"]["outcome"]
        return Decision(evaluation.state, [pending], evaluation.outcome, response=outcome)

    # Refused above, the request left no trace: its corrected retry may reuse the key, which
    # the unit of work binds only once the event is decided.
    applied = apply_once(
        db,
        project,
        event.user_id,
        decide,
        outcome_from_document,
        now=received_at,
        idempotency=idempotency,
        effects=effects,
    )
    return Recorded(applied.result, replayed=applied.replayed)


def pending_record(
    project: str,
    event: Event,
    evaluation: Evaluation,
    catalog: Catalog,
    received_at: datetime,
    idempotency: IdempotencyKey | None = None,
) -> dict[str, Any]:
    """What the save of an evaluated event pushes: the event record, its ledger entries and its
    outbox documents, under a new record id (the unit of work adds the idempotency key)."""
    record_id = ObjectId()
    pending: dict[str, Any] = {
        "id": record_id,
        "event": EventLog.record(record_id, project, event, evaluation.outcome, received_at),
        "ledger": Ledger.entries(
            record_id, project, event.user_id, event.event_id, evaluation.ledger, received_at
        ),
    }
    if catalog.webhook_events:
        pending["notifications"] = notifications_for(
            record_id, project, evaluation.outcome, catalog.webhook_events, received_at
        )
    if idempotency is not None:
        pending["event"]["idempotencyKey"] = idempotency.key
    return pending


def evaluate_event(catalog: Catalog, event: Event, state: UserState) -> Evaluation:
    """The engine's evaluation of `event` for a user in `state` under the project's rules
    (the event's definition known to exist: Catalog.event_rule)."""
    return evaluate(
        event,
        catalog.event_rule(event.event_id),
        catalog.streaks_for(event.event_id),
        state,
        challenges=catalog.challenges_for(event.event_id),
        levels=catalog.levels,
        usergroup_from_metadata=catalog.settings.usergroup_from_metadata,
    )


def check_event_time(moment: datetime, now: datetime, may_import: bool) -> None:
    """At most FUTURE_TOLERANCE ahead; older than IMPORT_AFTER only for importers."""
    if moment > now + FUTURE_TOLERANCE:
        raise InvalidEvent(
            "timestamp: must not be more than 5 minutes in the future",
            {"timestamp": ["must not be more than 5 minutes in the future"]},
        )
    if moment < now - IMPORT_AFTER and not may_import:
        raise ImportNotAllowed("Forbidden: events older than 7 days need the 'events:import' scope")
