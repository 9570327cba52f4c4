"""A store that crashes: wraps a database and kills the "process" at a chosen write.

`CrashingDatabase(db, survive=n)` lets `n` writes through, then raises `Crash` on the next
one and on every write after it, as if the process had died there. `Crash` derives from
BaseException so that no `except PyMongoError` (or `except Exception`) in the code under test
can treat it as a recoverable database error.
"""

from __future__ import annotations

from typing import Any

WRITES = frozenset(
    {
        "insert_one",
        "insert_many",
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "bulk_write",
    }
)


class Crash(BaseException):
    """The process died at this write."""


class CrashingDatabase:
    def __init__(self, db: Any, survive: int | None = None) -> None:
        self._db = db
        self.survive = survive
        self.writes: list[str] = []  # "collection.method" of each write let through

    def __getitem__(self, name: str) -> _CrashingCollection:
        return _CrashingCollection(self, name, self._db[name])

    def get_collection(self, name: str, **_options: Any) -> _CrashingCollection:
        return self[name]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    def _count(self, what: str) -> None:
        if self.survive is not None and len(self.writes) >= self.survive:
            raise Crash(f"crashed before write {len(self.writes) + 1} ({what})")
        self.writes.append(what)


class _CrashingCollection:
    def __init__(self, owner: CrashingDatabase, name: str, collection: Any) -> None:
        self._owner = owner
        self._name = name
        self._collection = collection

    def __getattr__(self, method: str) -> Any:
        attribute = getattr(self._collection, method)
        if method not in WRITES:
            return attribute

        def write(*args: Any, **kwargs: Any) -> Any:
            self._owner._count(f"{self._name}.{method}")
            return attribute(*args, **kwargs)

        return write
