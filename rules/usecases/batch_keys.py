"""Idempotency keys of a batch's events (rules.usecases.batches), checked and bound in bulk.

A keyed event of a batch goes through the same steps as on POST /event (rules.usecases.
unit_of_work), a step for many keys at a time:

- before anything else, one read answers the events whose key's request was applied (a
  replay, whatever changed since: its time, the definitions, the token) and refuses those
  whose key came with another request (`answer_replays`);
- after the users are loaded, and whatever they had pending finished (which completes the
  keys of crashed requests), the other keys are bound in one insert (`KeyBindings.bind`);
- when each user is decided, the keys that were bound before (by a copy of the request still
  in flight, or one that crashed) are read again, as are all of them after a lost race, so that
  a copy applied meanwhile is replayed; the version guard settles a copy still in flight;
- the key rides in its event's pending record and is completed when the record is finished.

A key given twice in one batch is recorded one by one in its later place (rules.usecases.
batches), so that it replays or conflicts with the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo.database import Database

from rules.engine.outcomes import outcome_from_document
from rules.errors import IdempotencyConflict
from rules.stores.idempotency import IdempotencyKey, IdempotencyStore, outcome_of
from rules.usecases.record import Recorded

# What one item of a batch came to: its response data, or what POST /event would have raised.
Result = Recorded | Exception


def answer_replays(
    db: Database[Any],
    project: str,
    keys: Mapping[int, IdempotencyKey],
    results: list[Result | None],
) -> set[int]:
    """Answer, in `results`, the items (index -> key) whose key is completed or conflicts,
    with one read; returns the indexes answered."""
    stored = IdempotencyStore(db).stored_many(project, list(keys.values()))
    answered = set()
    for index, key in keys.items():
        answer = _answer(stored.get(key.key), key)
        if answer is not None:
            results[index] = answer
            answered.add(index)
    return answered


def _answer(document: Mapping[str, Any] | None, key: IdempotencyKey) -> Result | None:
    try:
        outcome = outcome_of(document, key)
    except IdempotencyConflict as conflict:
        return conflict
    return None if outcome is None else Recorded(outcome_from_document(outcome), replayed=True)


class KeyBindings:
    """The keys of a run of a batch: which this batch bound, and each user's fresh answers."""

    def __init__(self, db: Database[Any], project: str) -> None:
        self._store = IdempotencyStore(db)
        self._project = project
        self.bound: set[str] = set()

    def bind(self, keys: Sequence[IdempotencyKey], now: datetime) -> None:
        self.bound |= self._store.bind_many(self._project, keys, now)

    def answers(self, keys: Mapping[int, IdempotencyKey], read_all: bool) -> dict[int, Result]:
        """The items of one user (index -> key) already answered by their key: replays and
        conflicts. Reads the keys this batch did not bind (or, with `read_all`, every key)."""
        wanted = {i: k for i, k in keys.items() if read_all or k.key not in self.bound}
        if not wanted:
            return {}
        stored = self._store.stored_many(self._project, list(wanted.values()))
        found = {index: _answer(stored.get(key.key), key) for index, key in wanted.items()}
        return {index: answer for index, answer in found.items() if answer is not None}

    def release(self, keys: Sequence[IdempotencyKey]) -> None:
        """Free the keys of a refused user's events (rules.usecases.unit_of_work frees a refused
        request's key the same way), so that corrected retries may use them."""
        for key in keys:
            self._store.release(self._project, key)
