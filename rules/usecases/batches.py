"""Recording a batch of events (POST /events/batch) with bulk writes.

A batch follows rules.usecases.record's protocol per user instead of per event:

1. the batch's users are read in one query, and what a crashed request may have left pending
   is finished (rules.usecases.record.finish_pending; see `_finish_abandoned`);
2. each user's events are evaluated in request order, each on the state the previous one
   left;
3. one conditional update per user (guarded by the version read in 1) applies the final state
   and pushes one pending record per event; a new user is inserted with them;
4. the event records, ledger entries and outbox documents of every saved user are written with
   one insert per collection (documents already there are left alone);
5. the effects run, the leaderboards in one transaction for these users;
6. each user's records are pulled, in one update per user.

Steps 3 to 6 run for USERS_PER_WRITE users at a time.

A crash after a user's save leaves their pending records, which the user's next load or the
recovery sweep finishes one by one (rules.usecases.record.finish_record: the same documents, written
the same idempotent way), so nothing is lost or applied twice. A user whose save lost a race
(another request changed them after 1) has nothing of the batch applied yet: they are read
again and their events decided again, as rules.usecases.record.record_event does for one event.
Events with an idempotency key are recorded one by one too, in their place in the batch (the
events around them before and after it), so that a key is bound, checked and completed exactly
as on POST /event.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import PyMongoError

from rules.effects import run_effects
from rules.engine.evaluation import Event
from rules.engine.points import check_metadata_schema
from rules.engine.state import UserState
from rules.errors import RulesError, UpdateContention
from rules.stores.eventlog import EventLog
from rules.stores.idempotency import IdempotencyKey
from rules.stores.ledger import Ledger
from rules.stores.outbox import Outbox
from rules.stores.users import StoredUser, UserStore
from rules.usecases.catalog import Catalog, CatalogCache, load_catalog
from rules.usecases.reconcile import SWEEP_GRACE
from rules.usecases.record import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    MAX_ATTEMPTS,
    Effect,
    Recorded,
    check_event_time,
    evaluate_event,
    finish_pending,
    pending_record,
    record_event,
)

log = logging.getLogger(__name__)

# Users saved before their records are written and pulled together. Bounded so that their
# records do not stay pending for the whole batch: another request of theirs would find a
# longer pending list to read, update and pull around (8 threads posting batches over the same
# 100 users, in process: 736 events/s against 608 with one group per batch).
USERS_PER_WRITE = 25

# What one item of a batch came to: its response data, or what POST /event would have raised.
Result = Recorded | Exception


@dataclass(frozen=True)
class BatchItem:
    event: Event
    received_at: datetime
    idempotency: IdempotencyKey | None = None


@dataclass
class _UserEvents:
    """One user's events of the batch, in request order, and what they came to."""

    indexes: list[int]
    stored: StoredUser | None = None
    records: list[dict[str, Any]] | None = None
    lost_races: int = 0


def record_batch(
    db: Database[Any],
    project: str,
    items: Sequence[BatchItem],
    *,
    catalogs: CatalogCache | None = None,
    may_import: bool = True,
    effects: Sequence[Effect] = (),
) -> list[Result]:
    """Record each item as rules.usecases.record.record_event would, in request order; returns one
    result per item (a Recorded, or the exception that item raised)."""
    results: list[Result | None] = [None] * len(items)
    catalog = catalogs.get(db, project) if catalogs is not None else load_catalog(db, project)
    run: list[int] = []
    for index, item in enumerate(items):
        if item.idempotency is None:
            run.append(index)
            continue
        _record_run(db, project, items, run, catalog, may_import, effects, results)
        run = []
        results[index] = _one(db, project, item, catalogs, may_import, effects)
    _record_run(db, project, items, run, catalog, may_import, effects, results)
    return [_given(result) for result in results]


def _given(result: Result | None) -> Result:
    if result is None:  # every item is either recorded, refused or recorded one by one
        raise AssertionError("a batch item was left without a result")
    return result


def _one(
    db: Database[Any],
    project: str,
    item: BatchItem,
    catalogs: CatalogCache | None,
    may_import: bool,
    effects: Sequence[Effect],
) -> Result:
    try:
        return record_event(
            db,
            project,
            item.event,
            received_at=item.received_at,
            idempotency=item.idempotency,
            catalogs=catalogs,
            may_import=may_import,
            effects=effects,
        )
    except Exception as error:  # noqa: BLE001 — every failure becomes this item's error
        return error


def _record_run(
    db: Database[Any],
    project: str,
    items: Sequence[BatchItem],
    run: Sequence[int],
    catalog: Catalog,
    may_import: bool,
    effects: Sequence[Effect],
    results: list[Result | None],
) -> None:
    """Record the items at `run` (none with a key) with bulk writes, filling `results`."""
    users = _accepted(items, run, catalog, may_import, results)
    if not users:
        return
    store = UserStore(db)
    now = max(items[index].received_at for index in run)
    try:
        for user_id, stored in store.load_many(project, list(users)).items():
            _finish_abandoned(db, stored, now, effects)
            users[user_id].stored = stored
    except PyMongoError as error:
        for events in users.values():
            for index in events.indexes:
                results[index] = error
        return
    contended = False
    everyone = list(users.items())
    for start in range(0, len(everyone), USERS_PER_WRITE):
        saved = []
        for user_id, events in everyone[start : start + USERS_PER_WRITE]:
            # Once a save lost a race, others are saving this batch's users too: read each of
            # the remaining ones again just before deciding them, not as read at the start.
            outcomes = _save_user(db, project, user_id, events, items, catalog, effects, contended)
            contended = contended or events.lost_races > 0
            if isinstance(outcomes, Exception):
                for index in events.indexes:
                    results[index] = outcomes
                continue
            saved.append((user_id, events))
            for index, outcome in zip(events.indexes, outcomes, strict=True):
                results[index] = outcome
        if saved:
            _finish(db, project, saved, effects)


def _accepted(
    items: Sequence[BatchItem],
    run: Sequence[int],
    catalog: Catalog,
    may_import: bool,
    results: list[Result | None],
) -> dict[str, _UserEvents]:
    """The items POST /event would accept, grouped by user in order of first appearance; the
    others get their refusal as result."""
    users: dict[str, _UserEvents] = {}
    for index in run:
        item = items[index]
        try:
            check_event_time(item.event.timestamp, item.received_at, may_import)
            check_metadata_schema(catalog.event_rule(item.event.event_id), item.event.metadata)
        except RulesError as error:
            results[index] = error
            continue
        users.setdefault(item.event.user_id, _UserEvents([])).indexes.append(index)
    return users


def _save_user(
    db: Database[Any],
    project: str,
    user_id: str,
    events: _UserEvents,
    items: Sequence[BatchItem],
    catalog: Catalog,
    effects: Sequence[Effect],
    read_again: bool = False,
) -> list[Recorded] | Exception:
    """Evaluate the user's events in order and save them with one conditional write; after a
    lost race (another request saved the user since it was read), read the user again and
    decide again, as rules.usecases.record.record_event does. Returns the events' outcomes, or the
    error that stopped them."""
    store = UserStore(db)
    stored = events.stored
    received_at = max(items[index].received_at for index in events.indexes)
    try:
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                events.lost_races += 1
                time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))
            if attempt or read_again:
                stored = store.load(project, user_id)
                if stored is not None:
                    _finish_abandoned(db, stored, received_at, effects)
            state = stored.state if stored is not None else UserState(user_id=user_id)
            records, outcomes = [], []
            for index in events.indexes:
                item = items[index]
                evaluation = evaluate_event(catalog, item.event, state)
                state = evaluation.state
                records.append(
                    pending_record(project, item.event, evaluation, catalog, item.received_at)
                )
                outcomes.append(Recorded(evaluation.outcome))
            if store.save_records(project, stored, state, records, received_at):
                events.records = records
                return outcomes
    except Exception as error:  # noqa: BLE001 — nothing of this user is saved: their items' error
        return error
    return UpdateContention(f"user {user_id!r} is changing too fast; retry the request")


def _finish_abandoned(
    db: Database[Any], stored: StoredUser, now: datetime, effects: Sequence[Effect]
) -> None:
    """Finish the user's pending records if one may have been left by a crash: one pending
    since before the recovery sweep's grace. Younger ones belong to requests still under way
    (another batch's, between its saves and its pulls), which finish them themselves:
    finishing them here too would write everything twice under load. The event applied here
    does not depend on them (they hold writes to other collections, not the user's state),
    and events with an idempotency key, which do, go through rules.usecases.record.record_event."""
    since = stored.pending_since
    if stored.pending and (since is None or _aware(since) <= now - SWEEP_GRACE):
        finish_pending(db, stored, effects)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _finish(
    db: Database[Any],
    project: str,
    saved: Sequence[tuple[str, _UserEvents]],
    effects: Sequence[Effect],
) -> None:
    """Steps 4-6 for every saved user's records (rules.usecases.record.finish_record, in bulk)."""
    records = [(user_id, record) for user_id, events in saved for record in events.records or []]
    try:
        EventLog(db).insert_many([record["event"] for _, record in records])
        Ledger(db).insert([entry for _, record in records for entry in record["ledger"]])
        Outbox(db).insert(
            [document for _, record in records for document in record.get("notifications", [])]
        )
        run_effects(effects, project, records)
        users = UserStore(db)
        for user_id, events in saved:
            users.clear_records(project, user_id, [record["id"] for record in events.records or []])
    except PyMongoError:
        # Applied: the records finish on each user's next load or the recovery sweep.
        # Answering 500 now would invite a retry that pays twice.
        log.exception("%d events of a batch applied; their records finish later", len(records))
