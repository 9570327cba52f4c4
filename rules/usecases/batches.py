"""Recording a batch of events (POST /events/batch) with bulk writes.

A batch takes the steps of the unit of work (rules.usecases.unit_of_work) per user instead of
per event, with bulk reads and writes around them:

1. the batch's users are read in one query, and whatever they have pending is finished in one
   go (`finish_pending`, the same policy as for one event);
2. per user, the decision evaluates their events in request order, each on the state the
   previous one left, and `save_once` saves it: one conditional update applies the final state
   and pushes one pending record per event; a lost race reads the user again and decides
   again, under the unit of work's one retry policy;
3. for USERS_PER_WRITE saved users at a time, `finish_saved` writes their records with one
   insert per collection, runs the effects (the leaderboards in one transaction) and pulls
   each user's records in one update.

A crash after a user's save leaves their pending records to the user's next load or the
recovery sweep, so nothing is lost or applied twice. Events with an idempotency key take the
same steps, their keys checked and bound in bulk (rules.usecases.batch_keys); an event whose
key came earlier in the same batch is recorded one by one, in its place (the events before it
first), so that it replays or conflicts exactly as on POST /event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import PyMongoError

from rules.effects import Effect
from rules.engine.evaluation import Evaluation, Event
from rules.engine.points import check_metadata_schema
from rules.engine.state import UserState
from rules.errors import RulesError, UpdateContention
from rules.stores.idempotency import IdempotencyKey
from rules.stores.users import StoredUser, UserStore
from rules.usecases import in_flight
from rules.usecases.batch_keys import KeyBindings, Result, answer_replays
from rules.usecases.catalog import Catalog, CatalogCache, load_catalog
from rules.usecases.record import (
    Recorded,
    check_event_time,
    evaluate_event,
    pending_record,
    record_event,
)
from rules.usecases.unit_of_work import (
    MAX_ATTEMPTS,
    Decision,
    finish_pending,
    finish_saved,
    save_once,
)

# Users saved before their records are written and pulled together. Bounded so that their
# records do not stay pending for the whole batch: another request of theirs would find a
# longer pending list to read, update and pull around (8 threads posting batches over the same
# 100 users, in process: 736 events/s against 608 with one group per batch).
USERS_PER_WRITE = 25


@dataclass(frozen=True)
class BatchItem:
    event: Event
    received_at: datetime
    idempotency: IdempotencyKey | None = None


@dataclass
class _UserEvents:
    """One user's events of the batch, in request order, and what they came to."""

    indexes: list[int]
    keys: dict[int, IdempotencyKey] = field(default_factory=dict)  # of the keyed events
    stored: StoredUser | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
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
    given: set[str] = set()  # the batch's keys so far
    for index, item in enumerate(items):
        if item.idempotency is None or item.idempotency.key not in given:
            if item.idempotency is not None:
                given.add(item.idempotency.key)
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
    """Record the items at `run` (no key twice) with bulk writes, filling `results`."""
    bindings = KeyBindings(db, project)
    try:
        keys = {i: key for i in run if (key := items[i].idempotency) is not None}
        replayed = answer_replays(db, project, keys, results) if keys else set()
    except PyMongoError as error:
        for index in run:
            results[index] = error
        return
    users = _accepted(items, [i for i in run if i not in replayed], catalog, may_import, results)
    if not users:
        return
    try:
        loaded = UserStore(db).load_many(project, list(users))
        keyed = [key for events in users.values() for key in events.keys.values()]
        finish_pending(db, list(loaded.values()), effects, {key.key for key in keyed})
        for user_id, stored in loaded.items():
            users[user_id].stored = stored
        bindings.bind(keyed, max(items[i].received_at for i in run))
    except PyMongoError as error:
        for events in users.values():
            for index in events.indexes:
                results[index] = error
        return
    contended = False
    everyone = list(users.items())
    for start in range(0, len(everyone), USERS_PER_WRITE):
        saved = []
        try:
            for user_id, events in everyone[start : start + USERS_PER_WRITE]:
                # Once a save lost a race, others are saving this batch's users too: read each
                # of the remaining ones again just before deciding them, not as read at first.
                outcomes = _save_user(
                    db, project, user_id, events, items, catalog, effects, bindings, contended
                )
                contended = contended or events.lost_races > 0
                if isinstance(outcomes, Exception):
                    for index in events.indexes:
                        results[index] = outcomes
                    continue
                saved.append((user_id, events))
                for index, outcome in zip(events.indexes, outcomes, strict=True):
                    results[index] = outcome
            finish_saved(db, project, _records_of(saved), effects)
        finally:
            in_flight.release([record for _, record in _records_of(saved)])


def _records_of(saved: Sequence[tuple[str, _UserEvents]]) -> list[tuple[str, dict[str, Any]]]:
    return [(user_id, record) for user_id, events in saved for record in events.records]


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
        events = users.setdefault(item.event.user_id, _UserEvents([]))
        events.indexes.append(index)
        if item.idempotency is not None:
            events.keys[index] = item.idempotency
    return users


def _save_user(
    db: Database[Any],
    project: str,
    user_id: str,
    events: _UserEvents,
    items: Sequence[BatchItem],
    catalog: Catalog,
    effects: Sequence[Effect],
    bindings: KeyBindings,
    read_again: bool = False,
) -> list[Result] | Exception:
    """Decide the user's events in order and save them with one conditional write
    (unit_of_work.save_once: a lost race reads the user again and decides again). Returns the
    events' outcomes (a keyed event's may be its replay or conflict), or the error that
    stopped them."""
    decided = 0

    def decide(stored: StoredUser | None) -> Decision[list[Result]]:
        nonlocal decided
        answers = bindings.answers(events.keys, read_all=decided > 0 or read_again)
        decided += 1
        state = stored.state if stored is not None else UserState(user_id=user_id)
        records, outcomes = [], []
        for index in events.indexes:
            if index in answers:
                outcomes.append(answers[index])
                continue
            item = items[index]
            evaluation = evaluate_event(catalog, item.event, state)
            state = evaluation.state
            records.append(_record(project, item, evaluation, catalog))
            outcomes.append(Recorded(evaluation.outcome))
        return Decision(state, records, outcomes)

    received_at = max(items[index].received_at for index in events.indexes)
    try:
        saved = save_once(
            db,
            project,
            user_id,
            decide,
            _unkeyed,
            now=received_at,
            effects=effects,
            loaded=events.stored,
            read_first=read_again,
            checked_keys=[key.key for key in events.keys.values()],
        )
    except UpdateContention as error:
        events.lost_races = MAX_ATTEMPTS
        return error
    except RulesError as error:
        try:
            bindings.release(list(events.keys.values()))
        except PyMongoError as failure:
            # Still bound, the keys would turn a corrected retry into a conflict: answer the
            # database's error, so that the retry is refused again and frees them.
            return failure
        return error
    except Exception as error:  # noqa: BLE001 — nothing of this user is saved: their items' error
        return error
    events.lost_races = saved.lost_races
    events.records = saved.records
    return saved.result


def _record(
    project: str, item: BatchItem, evaluation: Evaluation, catalog: Catalog
) -> dict[str, Any]:
    """An evaluated item's pending record, with its key (its outcome is the event record's)."""
    record = pending_record(
        project, item.event, evaluation, catalog, item.received_at, item.idempotency
    )
    if item.idempotency is not None:
        key = item.idempotency
        record["idempotency"] = {"key": key.key, "fingerprint": key.fingerprint}
    return record


def _unkeyed(document: dict[str, Any]) -> list[Result]:
    raise AssertionError("a batch's keys ride in its records, not in the unit of work's key")
