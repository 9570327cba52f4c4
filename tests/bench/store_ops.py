"""What the store's operations of one POST /event cost: `python -m tests.bench.store_ops`.

Replays, on the in-memory store (core.inmemory) holding `--users` users, the six operations
one event makes (definition_stamps.find_one, users.find_one, the version-guarded
users.update_one pushing a pending record, events.insert_many, ledger.insert_many, and the
users.update_one clearing the record), `--requests` times, and prints the CPU seconds
(`time.process_time`) they took. `--recent` sets how many moments a user's streak holds (the
size of a user document). To compare two checkouts, run it from each in turn, several times
interleaved, and compare the medians: only ratios mean anything on a shared machine.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from core.inmemory import in_memory_database
from rules.stores.eventlog import EventLog
from rules.stores.ledger import Ledger
from rules.stores.users import UserStore

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)


def user(number: int, recent: int) -> dict[str, Any]:
    streak = {
        "base": {"count": 0, "folded": [], "freezes": 0, "lastCounted": None, "longest": 0},
        "currentCount": 1,
        "freezes": 0,
        "lastUpdate": NOW,
        "longestCount": 1,
        "paid": [],
        "period": "day",
        "recent": [{"at": NOW - timedelta(days=day), "zone": "UTC"} for day in range(recent)],
        "streakId": "daily_app_use",
        "walkedWith": {"earnEvery": None, "max": 0},
    }
    return {
        "project": "demo",
        "userId": f"u{number}",
        "version": 1,
        "createdAt": NOW,
        "badges": [],
        "eventCount": 1,
        "lastSeen": NOW,
        "pending": [],
        "points": {"balance": 10, "lifetime": 10},
        "streaks": [streak],
        "timezone": None,
        "updatedAt": NOW,
    }


def event_and_entry(user_id: str, at: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    event_id = ObjectId()
    outcome = {
        "balance": 20,
        "eventId": "daily_login",
        "level": {"level": 1, "levelUp": False, "name": "Bronze"},
        "pointsAwarded": 10,
        "streaks": [{"currentCount": 1, "lastUpdate": at, "streakId": "daily_app_use"}],
        "timestamp": at,
        "userId": user_id,
    }
    event = {
        "_id": event_id,
        "eventId": "daily_login",
        "metadata": {"appVersion": "2.1.4", "platform": "ios", "sessionLength": 183},
        "outcome": outcome,
        "project": "demo",
        "receivedAt": at,
        "timestamp": at,
        "userId": user_id,
    }
    entry = {
        "_id": f"{event_id}:0",
        "createdAt": at,
        "delta": 10,
        "project": "demo",
        "ref": event_id,
        "source": "event",
        "userId": user_id,
    }
    return event, entry


class Store:
    def __init__(self, users: int, recent: int) -> None:
        database = in_memory_database("bench")
        for owner in (UserStore(database), EventLog(database), Ledger(database)):
            owner.ensure_indexes()
        self.users, self.stamps = database["users"], database["definition_stamps"]
        self.events, self.ledger = database["events"], database["ledger"]
        self.stamps.insert_one({"_id": "demo", "stamp": 3})
        self.users.insert_many([user(number, recent) for number in range(users)])

    def request(self, user_id: str, at: datetime) -> None:
        """The store's operations of one POST /event, as rules.stores make them."""
        self.stamps.find_one({"_id": "demo"})
        found = self.users.find_one({"project": "demo", "userId": user_id})
        assert found is not None
        event, entry = event_and_entry(user_id, at)
        key = {"project": "demo", "userId": user_id}
        saved = self.users.update_one(
            {**key, "_id": found["_id"], "version": found["version"]},
            {
                "$set": {"eventCount": found["eventCount"] + 1, "lastSeen": at, "updatedAt": at}
                | {"points": {"balance": 20, "lifetime": 20}, "version": found["version"] + 1},
                "$push": {"pending": {"event": dict(event), "id": event["_id"], "ledger": [entry]}},
                "$min": {"pendingSince": at},
            },
        )
        assert saved.modified_count == 1
        self.events.insert_many([event], ordered=False)
        self.ledger.insert_many([dict(entry)], ordered=False)
        cleared = self.users.update_one(
            {**key, "pending": {"$size": 1}, "pending.id": event["_id"]},
            {"$set": {"pending": []}, "$unset": {"pendingSince": ""}},
        )
        assert cleared.modified_count == 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--recent", type=int, default=3)
    args = parser.parse_args(argv)
    store = Store(args.users, args.recent)
    generator = random.Random(7)
    work = [f"u{generator.randrange(args.users)}" for _ in range(args.requests)]
    for number, user_id in enumerate(work[:200]):  # warm up
        store.request(user_id, NOW + timedelta(seconds=number))
    start = time.process_time()
    for number, user_id in enumerate(work):
        store.request(user_id, NOW + timedelta(seconds=1000 + number))
    print(f"{time.process_time() - start:.3f}")


if __name__ == "__main__":
    main()
