"""`bulk_write` for the in-memory store (core.inmemory): the stores send conditional updates in
bulk (rules.stores.idempotency completes a batch's keys with one), and on a server one
bulk_write is one round trip. Here each request goes through the store's guarded `update_one`,
and the answer is pymongo's: the counts of a BulkWriteResult, or a BulkWriteError listing the
requests that failed by index (the first only, when `ordered`; all of them, the others applied,
when not)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, WriteError
from pymongo.results import BulkWriteResult

UpdateOneCall = Callable[..., Any]  # the guarded collection's update_one


def update_each(update_one: UpdateOneCall, requests: Sequence[Any], ordered: bool) -> Any:
    """Apply `requests` (UpdateOne only) in order with `update_one`."""
    if not all(_plain_update_one(request) for request in requests):
        raise NotImplementedError("the in-memory bulk_write serves plain UpdateOne requests only")
    result: dict[str, Any] = {
        "writeErrors": [],
        "writeConcernErrors": [],
        "nInserted": 0,
        "nUpserted": 0,
        "nMatched": 0,
        "nModified": 0,
        "nRemoved": 0,
        "upserted": [],
    }
    for index, request in enumerate(requests):
        filter, update, upsert = request._filter, request._doc, bool(request._upsert)
        try:
            answer = update_one(filter, update, upsert=upsert)
        except WriteError as error:  # a DuplicateKeyError is one
            op = {"q": filter, "u": update, "multi": False, "upsert": upsert}
            result["writeErrors"].append(
                {"index": index, "code": error.code, "errmsg": str(error), "op": op}
            )
            if ordered:
                break
            continue
        if answer.upserted_id is not None:
            result["nUpserted"] += 1
            result["upserted"].append({"index": index, "_id": answer.upserted_id})
        else:
            result["nMatched"] += answer.matched_count
            result["nModified"] += answer.modified_count
    if result["writeErrors"]:
        raise BulkWriteError(result)
    return BulkWriteResult(result, acknowledged=True)


def _plain_update_one(request: Any) -> bool:
    """An UpdateOne of a filter and an update document, without the options the guard does not
    pass on (collation, array filters, hint, sort)."""
    return (
        type(request) is UpdateOne
        and isinstance(request._doc, Mapping)
        and not (request._collation or request._array_filters or request._hint)
        and not getattr(request, "_sort", None)
    )
