"""Recording an event: load definitions and the user, evaluate, save, finish the writes.

The order of writes is what makes a crash harmless:

0. with an idempotency key, the key is bound to the request (rules.stores.idempotency);
1. one conditional update of the user document applies the new state and pushes a `pending`
   record (the event-log record with its outcome, the ledger entries with deterministic ids,
   and the idempotency key);
2. the event record and ledger entries are inserted (duplicates ignored);
3. the key's outcome is recorded;
4. the pending record is pulled.

A crash after 1 leaves the pending record, which the next load of that user, or the recovery
sweep (rules.usecases.reconcile), finishes (steps 2-4 again). Nothing is applied twice: step 1 is
guarded by the document's version, steps 2-4 are idempotent, and a keyed request checks its key
after loading the user and before step 1.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import PyMongoError

from core import clock

# Effect is re-exported for the modules that still import it from here (rules.effects owns it).
from rules.effects import Effect as Effect
from rules.effects import run_effects
from rules.engine.evaluation import Evaluation, Event, Outcome, evaluate
from rules.engine.points import check_metadata_schema
from rules.engine.state import UserState
from rules.errors import ImportNotAllowed, InvalidEvent, UpdateContention
from rules.stores.eventlog import EventLog
from rules.stores.idempotency import IdempotencyKey, IdempotencyStore
from rules.stores.ledger import Ledger
from rules.stores.outbox import Outbox, notifications_for
from rules.stores.users import StoredUser, UserStore
from rules.usecases.catalog import Catalog, CatalogCache, load_catalog

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 25
# Between lost races, wait a random 0..min(cap, base * 2**attempt) seconds so that writers of
# one user spread out instead of colliding again in lockstep (at worst about 2 s in all).
BACKOFF_BASE = 0.002
BACKOFF_CAP = 0.1


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
    keys = IdempotencyStore(db)
    if idempotency is not None:
        # A retry replays whatever changed since (its time, the definitions, the token).
        earlier = keys.outcome(project, idempotency)
        if earlier is not None:
            return Recorded(earlier, replayed=True)
    check_event_time(event.timestamp, received_at, may_import)
    catalog = catalogs.get(db, project) if catalogs is not None else load_catalog(db, project)
    check_metadata_schema(catalog.event_rule(event.event_id), event.metadata)
    if idempotency is not None:
        # Bound to its request only now: a request refused above leaves no trace, and its
        # corrected retry may reuse the key.
        earlier = keys.claim(project, idempotency, received_at)
        if earlier is not None:
            return Recorded(earlier, replayed=True)
    users = UserStore(db)

    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))
        stored = users.load(project, event.user_id)
        if stored is not None:
            finish_pending(db, stored, effects)
        if idempotency is not None:
            # Checked after the load: an application of this key before it is complete by now
            # (finish_pending), and one after it changes the version, so our save fails.
            earlier = keys.outcome(project, idempotency)
            if earlier is not None:
                return Recorded(earlier, replayed=True)
        state = stored.state if stored else UserState(user_id=event.user_id)
        evaluation = evaluate_event(catalog, event, state)
        pending = pending_record(project, event, evaluation, catalog, received_at, idempotency)
        if users.save(project, stored, evaluation.state, pending, received_at):
            try:
                finish_record(db, project, event.user_id, pending, effects)
            except PyMongoError:
                # The event is applied; its pending record finishes on the user's next load or
                # the recovery sweep. Answering 500 now would invite a retry that pays twice.
                log.exception("event %s applied; its records will be finished later", pending["id"])
            return Recorded(evaluation.outcome)
    raise UpdateContention(f"user {event.user_id!r} is changing too fast; retry the request")


def pending_record(
    project: str,
    event: Event,
    evaluation: Evaluation,
    catalog: Catalog,
    received_at: datetime,
    idempotency: IdempotencyKey | None = None,
) -> dict[str, Any]:
    """What the save of an evaluated event pushes: the event record, its ledger entries, its
    outbox documents and its idempotency key, under a new record id."""
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
        pending["idempotency"] = {"key": idempotency.key, "fingerprint": idempotency.fingerprint}
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


def finish_pending(db: Database[Any], stored: StoredUser, effects: Sequence[Effect] = ()) -> int:
    """Write what earlier saves of this user left pending (crashed, or still in flight).

    Returns how many records were finished."""
    for pending in stored.pending:
        finish_record(db, stored.project, stored.state.user_id, pending, effects)
    return len(stored.pending)


def finish_record(
    db: Database[Any],
    project: str,
    user_id: str,
    pending: Mapping[str, Any],
    effects: Sequence[Effect] = (),
) -> None:
    """Steps 2-4 for one pending record; safe to run again, or concurrently, at any point.

    A pending record holds `id`, `ledger` (entries), and optionally `event` (the event-log
    record with its outcome), `notifications` (outbox documents, rules.stores.outbox),
    `idempotency` (`key`, `fingerprint` and, when there is no event record, the `outcome` to
    replay) and whatever the effects read.
    """
    if pending.get("event") is not None:
        EventLog(db).insert(pending["event"])
    Ledger(db).insert(pending["ledger"])
    Outbox(db).insert(pending.get("notifications", []))
    key = pending.get("idempotency")
    if key is not None:
        outcome = key.get("outcome") or pending["event"]["outcome"]
        IdempotencyStore(db).complete(project, key["key"], key["fingerprint"], outcome, clock.now())
    # Best effort (run_effects): the records above must be finished whatever they do.
    run_effects(effects, project, [(user_id, pending)])
    UserStore(db).clear_pending(project, user_id, pending["id"])
