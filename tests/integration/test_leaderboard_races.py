"""Awards racing on the boards (rules.stores.boards), as the threaded embedded server runs them:
no award is lost and none counts twice, on Redis (WATCH/MULTI, retried) and on the embedded
default's sorted sets (core.sortedsets: reads and writes under its lock)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from core.sortedsets import SortedSets
from rules.stores import boards, boards_in_process
from tests.conftest import PROJECT
from tests.support.waiting import TIMEOUT

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def entry(entry_id: str, delta: int) -> dict[str, Any]:
    return {"_id": entry_id, "delta": delta, "source": "event", "createdAt": NOW}


def points(store: Any, period: str) -> dict[str, int]:
    return {s.user_id: s.points for s in boards.top(store, PROJECT, period, 100, NOW)}


def run_together(work: list[Callable[[], object]]) -> None:
    """Run each of `work` on its own thread; fail on the first error or a hung thread."""
    errors: list[BaseException] = []

    def guarded(job: Callable[[], object]) -> None:
        try:
            job()
        except BaseException as error:  # noqa: BLE001 — surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        if thread.is_alive():
            pytest.fail(f"an award was still running after {TIMEOUT} s")
    assert errors == []


def test_two_awards_that_read_the_same_score_both_count(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests read amy's old score before either writes (the barrier makes sure): the
    transaction that writes second must notice (WATCH) and add to the new score."""
    store = redis_client
    boards.record_awards(store, PROJECT, "amy", [entry("first", 1)], NOW)
    both_read = threading.Barrier(2, timeout=TIMEOUT)
    unapplied = boards._unapplied
    waited: set[int] = set()

    def read_then_wait(client: Any, markers: Any, earned: Any, project: str) -> Any:
        found = unapplied(client, markers, earned, project)
        if threading.get_ident() not in waited:  # only their first try meets at the barrier
            waited.add(threading.get_ident())
            both_read.wait()
        return found

    monkeypatch.setattr(boards, "_unapplied", read_then_wait)

    def award(entry_id: str, delta: int) -> Callable[[], None]:
        return lambda: boards.record_awards(store, PROJECT, "amy", [entry(entry_id, delta)], NOW)

    run_together([award("a", 10), award("b", 100)])

    assert points(store, "all") == {"amy": 111}
    assert points(store, "day") == {"amy": 111}


def test_in_process_no_other_command_comes_between_an_awards_reads_and_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On core.sortedsets the award holds the store's lock from its reads to its writes:
    another thread cannot take it meanwhile (so no score read can go stale)."""
    store = SortedSets()
    taken: list[bool] = []
    lock = store._lock  # the lock `atomically` holds

    def try_lock() -> None:
        acquired = lock.acquire(blocking=False)
        if acquired:
            lock.release()
        taken.append(acquired)

    def another_thread_takes_the_lock() -> None:
        thread = threading.Thread(target=try_lock)
        thread.start()
        thread.join(TIMEOUT)
        assert not thread.is_alive()

    # the award's first read and its last write (rules.stores.boards_in_process)
    unapplied, write = boards_in_process._unapplied, boards_in_process._write_markers

    def read(*args: Any) -> Any:
        another_thread_takes_the_lock()
        return unapplied(*args)

    def written(*args: Any) -> Any:
        write(*args)
        another_thread_takes_the_lock()

    monkeypatch.setattr(boards_in_process, "_unapplied", read)
    monkeypatch.setattr(boards_in_process, "_write_markers", written)

    assert boards.record_awards(store, PROJECT, "amy", [entry("a", 5)], NOW) == 1
    assert taken == [False, False]
    assert points(store, "all") == {"amy": 5}
    another_thread_takes_the_lock()  # and released after
    assert taken == [False, False, True]


@pytest.mark.parametrize("kind", ["redis", "in-process"])
def test_many_threads_awarding_the_same_users_give_exact_totals(
    kind: str, redis_client: redis.Redis
) -> None:
    store: Any = redis_client if kind == "redis" else SortedSets()
    users = [f"u{n}" for n in range(5)]
    threads, rounds = 8, 40
    expected = {user: 0 for user in users}
    plans: list[list[tuple[str, list[dict[str, Any]]]]] = []
    for worker in range(threads):
        plan = []
        for step in range(rounds):
            user, delta = users[(worker + step) % len(users)], 1 + (worker * rounds + step) % 7
            plan.append((user, [entry(f"{worker}:{step}", delta), entry(f"{worker}:{step}b", 1)]))
            expected[user] += delta + 1
        plans.append(plan)

    def award(plan: list[tuple[str, list[dict[str, Any]]]]) -> None:
        for user, entries in plan:
            while True:  # the live path leaves a user that kept changing to the rebuild
                try:
                    boards.record_awards(store, PROJECT, user, entries, NOW)
                    break
                except boards.LeaderboardContention:
                    continue

    run_together([lambda plan=plan: award(plan) for plan in plans])

    assert points(store, "all") == expected
    assert points(store, "week") == expected
    # Every entry is marked applied: running it all again adds nothing.
    again = sum(
        boards.record_awards(store, PROJECT, user, entries, NOW)
        for plan in plans
        for user, entries in plan
    )
    assert again == 0
    assert points(store, "all") == expected
