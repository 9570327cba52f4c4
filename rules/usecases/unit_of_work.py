"""The one exactly-once path: every change of a user's state goes through this unit of work.

Events (rules.usecases.record), batches (rules.usecases.batches) and the support actions
(rules.usecases.support) only say what to decide; the steps are defined here once
(docs/architecture.md, "the write path"):

1. load the user and finish whatever earlier saves left pending (`load`, `finish_records`);
2. with an idempotency key, check it: a completed key answers with its stored outcome;
3. decide: a callback turns the user (None: not stored yet) into a `Decision` — the new state,
   the pending record(s) and the result — or raises a RulesError, which stores nothing;
4. with a key, bind it to the request (the same key with another body is a conflict);
5. save the state and push the pending record(s) in one conditional update, guarded by the
   version read in 1 (rules.stores.users); the key rides in the record (with its outcome
   document, unless the record's event record holds that outcome already);
6. finish: write the records' documents (event record, ledger entries, outbox documents, audit
   entry), complete the key, run the effects, pull the records (`finish_records`).

A lost race in 5 goes back to 1 after a random backoff (`attempts`: the one retry policy), and
decides again on what is stored now; a request refused then frees the key it bound. A crash
after 5 leaves the pending records, which the user's next load or the recovery sweep
(rules.usecases.reconcile) finishes: 6 is idempotent, 5 is guarded, and a keyed request checks
its key after 1, when any earlier application of it is complete.

Young pending records: every load finishes the pending records it finds, however young (but
see below) — the same for single requests and batches. Only then does the key check of 2 see
every earlier application of the key (no second look into the pending list), and a crash is
made whole by the next request rather than after the sweep's grace. A record still in flight
in another process is finished again by each request that loads the user meanwhile: its
deterministic ids make the writes harmless, and its effects run again (each is idempotent).
One in flight in this process is left to the request finishing it, unless it carries a key
the loader checks (rules.usecases.in_flight). `finish_records` writes the records of many
users with one insert per collection, which keeps that cost small for a batch.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pymongo.database import Database
from pymongo.errors import PyMongoError

from core import clock
from rules.effects import Effect, run_effects
from rules.engine.state import UserState
from rules.errors import RulesError, UpdateContention
from rules.stores.audit import AuditLog
from rules.stores.eventlog import EventLog
from rules.stores.idempotency import IdempotencyKey, IdempotencyStore
from rules.stores.ledger import Ledger
from rules.stores.outbox import Outbox
from rules.stores.users import StoredUser, UserStore
from rules.usecases import in_flight

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 25
# Between lost races, wait a random 0..min(cap, base * 2**attempt) seconds so that writers of
# one user spread out instead of colliding again in lockstep (at worst about 2 s in all).
BACKOFF_BASE = 0.002
BACKOFF_CAP = 0.1

R = TypeVar("R")


@dataclass(frozen=True)
class Decision(Generic[R]):
    """What a request does to the user it was decided on."""

    state: UserState
    records: list[dict[str, Any]]  # pending records, each with an `id` (see finish_records)
    result: R  # what the caller answers
    # The outcome document stored under the request's idempotency key (BSON-clean); a replay
    # turns it back into a result. Required when the request has a key.
    response: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Saved(Generic[R]):
    """A request applied by this call (its records saved, maybe not finished), or replayed."""

    result: R
    records: list[dict[str, Any]]  # saved by this call; [] for a replay
    replayed: bool = False  # an earlier request with the same idempotency key applied it
    lost_races: int = 0


# Decides a request for the user as loaded (None: not stored yet); raises a RulesError to refuse.
Decide = Callable[[StoredUser | None], Decision[R]]
# Turns a stored outcome document back into a result.
Replay = Callable[[dict[str, Any]], R]


def apply_once(
    db: Database[Any],
    project: str,
    user_id: str,
    decide: Decide[R],
    replay: Replay[R],
    *,
    now: datetime,
    idempotency: IdempotencyKey | None = None,
    effects: Sequence[Effect] = (),
) -> Saved[R]:
    """Steps 1-6 for one request on one user.

    Raises what `decide` raises, IdempotencyConflict or UpdateContention (the user kept
    changing); nothing is stored when one is raised."""
    saved = save_once(
        db, project, user_id, decide, replay, now=now, idempotency=idempotency, effects=effects
    )
    try:
        finish_saved(db, project, [(user_id, record) for record in saved.records], effects)
    finally:
        in_flight.release(saved.records)
    return saved


def save_once(
    db: Database[Any],
    project: str,
    user_id: str,
    decide: Decide[R],
    replay: Replay[R],
    *,
    now: datetime,
    idempotency: IdempotencyKey | None = None,
    effects: Sequence[Effect] = (),
    loaded: StoredUser | None = None,
    read_first: bool = True,
    checked_keys: Collection[str] = (),
) -> Saved[R]:
    """Steps 1-5: the records saved, not yet finished (a batch finishes many users' at once).
    The caller finishes the records saved, then releases them (rules.usecases.in_flight).

    `read_first=False`: the first attempt decides on `loaded`, read and finished by the caller
    (a batch reads its users in one query). `checked_keys`: the idempotency keys `decide`
    checks (a batch's keys ride in its records, not in `idempotency`)."""
    keys = IdempotencyStore(db)
    checking = {*checked_keys, *([idempotency.key] if idempotency is not None else [])}
    bound: bool | None = None  # None: not tried yet; False: bound by an earlier request
    stored = loaded
    for attempt in attempts():
        if attempt or read_first:
            stored = load(db, project, user_id, effects, checking)
        if idempotency is not None:
            earlier = keys.stored_outcome(project, idempotency)
            if earlier is not None:
                return Saved(replay(earlier), [], replayed=True, lost_races=attempt)
        try:
            decision = decide(stored)
        except RulesError:
            # Refused after this request bound the key, or found it bound by an earlier attempt
            # of itself: free it (release keeps a key whose outcome was recorded), so that a
            # corrected retry may use it.
            if bound is not None and idempotency is not None:
                keys.release(project, idempotency)
            raise
        if idempotency is not None and bound is None:
            bound = keys.bind(project, idempotency, now)
            # Bound before: by this very request applied meanwhile (replay), or by a copy of
            # it still in flight, whose save and ours the version guard settles.
            earlier = None if bound else keys.stored_outcome(project, idempotency)
            if earlier is not None:
                return Saved(replay(earlier), [], replayed=True, lost_races=attempt)
        if idempotency is None and not decision.records:
            # Nothing to apply (a batch user whose events all turned out to be replays).
            return Saved(decision.result, [], lost_races=attempt)
        records = _with_key(decision, idempotency)
        if UserStore(db).save_records(project, stored, decision.state, records, now):
            in_flight.hold(records)
            return Saved(decision.result, records, lost_races=attempt)
    raise UpdateContention(f"user {user_id!r} is changing too fast; retry the request")


def finish_saved(
    db: Database[Any],
    project: str,
    records: Sequence[tuple[str, Mapping[str, Any]]],
    effects: Sequence[Effect] = (),
) -> None:
    """Step 6 right after the save: a database error leaves the records to the user's next
    load or the recovery sweep, since the request is applied (answering 500 now would invite a
    retry that pays twice). Other errors are bugs, and raised."""
    if not records:
        return
    try:
        finish_records(db, project, records, effects)
    except PyMongoError:
        ids = ", ".join(str(record["id"]) for _, record in records)
        log.exception("records %s applied; they will be finished later", ids)


def attempts() -> Iterator[int]:
    """The retry policy of a lost race: MAX_ATTEMPTS attempts, a random backoff before each
    but the first."""
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))
        yield attempt


def load(
    db: Database[Any],
    project: str,
    user_id: str,
    effects: Sequence[Effect] = (),
    checking: Collection[str] = (),
) -> StoredUser | None:
    """Step 1: the user (None: not stored yet), every record left pending finished but those
    another request of this process is finishing (see `finish_pending`)."""
    stored = UserStore(db).load(project, user_id)
    if stored is not None:
        finish_pending(db, [stored], effects, checking)
    return stored


def finish_pending(
    db: Database[Any],
    users: Sequence[StoredUser],
    effects: Sequence[Effect] = (),
    checking: Collection[str] | None = None,
) -> int:
    """Finish what earlier saves of these users (of one project) left pending, crashed or still
    in flight. Returns how many records were finished.

    A request about to decide passes the idempotency keys it checks (`checking`, maybe empty):
    the records another request of this process is finishing are then left to it, unless they
    carry one of those keys (rules.usecases.in_flight). None (the sweep): every record."""
    records = [
        (stored.state.user_id, record)
        for stored in users
        for record in stored.pending
        if checking is None or not in_flight.left_to_owner(record, checking)
    ]
    if records:
        finish_records(db, users[0].project, records, effects)
    return len(records)


def finish_records(
    db: Database[Any],
    project: str,
    records: Sequence[tuple[str, Mapping[str, Any]]],
    effects: Sequence[Effect] = (),
) -> None:
    """Step 6 for pending records (user id, record), with one insert per collection; safe to
    run again, or concurrently, at any point.

    A pending record holds `id`, `ledger` (entries), and optionally `event` (the event-log
    record), `notifications` (outbox documents, rules.stores.outbox), `audit` (an audit entry,
    rules.stores.audit), `idempotency` (`key`, `fingerprint`, and `outcome` unless `event`
    holds it) and whatever the effects read.
    """
    EventLog(db).insert_many([r["event"] for _, r in records if r.get("event") is not None])
    Ledger(db).insert([entry for _, record in records for entry in record["ledger"]])
    Outbox(db).insert([n for _, record in records for n in record.get("notifications", [])])
    AuditLog(db).insert_many([r["audit"] for _, r in records if r.get("audit") is not None])
    completions = [
        (key["key"], key["fingerprint"], _outcome(record))
        for _, record in records
        if (key := record.get("idempotency")) is not None
    ]
    IdempotencyStore(db).complete_many(project, completions, clock.now())
    # Best effort (rules.effects): the records above must be finished whatever they do.
    run_effects(effects, project, records)
    by_user: dict[str, list[Any]] = {}
    for user_id, record in records:
        by_user.setdefault(user_id, []).append(record["id"])
    users = UserStore(db)
    for user_id, ids in by_user.items():
        users.clear_records(project, user_id, ids)


def _with_key(decision: Decision[Any], idempotency: IdempotencyKey | None) -> list[dict[str, Any]]:
    """The decision's records, the last carrying the key and the outcome to store under it.
    An event's outcome is already in its event record, so the key does not repeat it: the
    pending record, and so the user document, holds each outcome once."""
    records = [dict(record) for record in decision.records]
    if idempotency is not None:
        if decision.response is None or not records:
            raise ValueError("a request with an idempotency key must save a record and a response")
        key: dict[str, Any] = {"key": idempotency.key, "fingerprint": idempotency.fingerprint}
        event = records[-1].get("event")
        if event is None or event.get("outcome") != decision.response:
            key["outcome"] = dict(decision.response)
        records[-1]["idempotency"] = key
    return records


def _outcome(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The outcome stored under a record's key: its own, or its event's (see _with_key)."""
    key = record["idempotency"]
    if "outcome" in key:
        return dict(key["outcome"])
    return dict(record["event"]["outcome"])
