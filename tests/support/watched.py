"""Databases that watch their collections: each operation is reported, as
"collection.method", before it reaches the wrapped store.

`CountingDatabase` logs every operation (tests/integration/test_round_trips.py and
test_store_operations.py count what an event costs). `CrashingDatabase(db, survive=n)` lets `n`
writes through, then raises `Crash` on the next one and on every write after it, as if the
process had died there. `Crash` derives from BaseException so that no `except PyMongoError`
(or `except Exception`) in the code under test can treat it as a recoverable database error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

READS = frozenset({"find", "find_one", "count_documents", "distinct", "aggregate"})
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


class WatchedDatabase:
    """Calls `watch("collection.method")` before each of `methods` runs on a collection."""

    def __init__(
        self, db: Any, watch: Callable[[str], None], methods: frozenset[str] = READS | WRITES
    ) -> None:
        self._db = db
        self._watch = watch
        self._methods = methods

    def __getitem__(self, name: str) -> _WatchedCollection:
        return _WatchedCollection(self, name, self._db[name])

    def get_collection(self, name: str, **_options: Any) -> _WatchedCollection:
        return self[name]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


class _WatchedCollection:
    def __init__(self, owner: WatchedDatabase, name: str, collection: Any) -> None:
        self._owner, self._name, self._collection = owner, name, collection

    def __getattr__(self, method: str) -> Any:
        attribute = getattr(self._collection, method)
        if method not in self._owner._methods:
            return attribute

        def watched(*args: Any, **kwargs: Any) -> Any:
            self._owner._watch(f"{self._name}.{method}")
            return attribute(*args, **kwargs)

        return watched


class CountingDatabase(WatchedDatabase):
    """Logs every store operation in order."""

    def __init__(self, db: Any) -> None:
        self.log: list[str] = []
        super().__init__(db, self.log.append)

    @property
    def operations(self) -> Counter[str]:
        return Counter(self.log)


class Crash(BaseException):
    """The process died at this write."""


class CrashingDatabase(WatchedDatabase):
    def __init__(self, db: Any, survive: int | None = None) -> None:
        self.survive = survive
        self.writes: list[str] = []  # "collection.method" of each write let through
        super().__init__(db, self._count, WRITES)

    def _count(self, what: str) -> None:
        if self.survive is not None and len(self.writes) >= self.survive:
            raise Crash(f"crashed before write {len(self.writes) + 1} ({what})")
        self.writes.append(what)
