"""Recovery: `flask --app wsgi ledger reconcile`, the sweep and the balance check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core import clock
from rules.engine.evaluation import Event
from rules.stores.ledger import Ledger
from rules.usecases.reconcile import verify_balances
from rules.usecases.record import record_event
from tests.support.watched import Crash, CrashingDatabase


@pytest.fixture
def earned(define: Any, send: Any, db: Any) -> Any:
    define("events", "login", {"points": {"fixed": 10}})
    for user in ("ann", "bob", "cy"):
        assert send("login", user).status_code == 200
    return db


def crash_after_the_save(db: Any, user: str) -> None:
    now = clock.now() - timedelta(minutes=5)
    with pytest.raises(Crash):
        record_event(
            CrashingDatabase(db, survive=1), "acme", Event("login", user, now), received_at=now
        )


def test_reconcile_finishes_half_done_events_and_reports_no_drift(earned: Any, runner: Any) -> None:
    crash_after_the_save(earned, "ann")
    assert earned.events.count_documents({"userId": "ann"}) == 1

    result = runner.invoke(args=["ledger", "reconcile"])

    assert result.exit_code == 0, result.output
    assert "finished 1 pending event record(s)" in result.output
    assert "checked 3 user(s)" in result.output and ": 0 drifted" in result.output
    ann = earned.users.find_one({"userId": "ann"})
    assert ann["pending"] == [] and "pendingSince" not in ann
    assert ann["points"]["balance"] == 20 == Ledger(earned).balance("acme", "ann")
    assert earned.events.count_documents({"userId": "ann"}) == 2


def test_reconcile_repairs_a_balance_that_drifted_from_the_ledger(earned: Any, runner: Any) -> None:
    earned.users.update_one({"userId": "bob"}, {"$set": {"points.balance": 999}})

    result = runner.invoke(args=["ledger", "reconcile", "--project", "acme"])

    assert result.exit_code == 0, result.output
    assert "drift: project=acme user=bob balance=999 ledger=10 (repaired)" in result.output
    assert earned.users.find_one({"userId": "bob"})["points"]["balance"] == 10
    assert verify_balances(earned).drifts == []


def test_dry_run_reports_drift_exits_1_and_changes_nothing(earned: Any, runner: Any) -> None:
    earned.ledger.delete_many({"userId": "cy"})

    result = runner.invoke(args=["ledger", "reconcile", "--dry-run"])

    assert result.exit_code == 1
    assert "drift: project=acme user=cy balance=10 ledger=0 (not repaired)" in result.output
    assert earned.users.find_one({"userId": "cy"})["points"]["balance"] == 10


def test_the_check_is_limited_to_the_given_project(earned: Any, runner: Any) -> None:
    earned.users.update_one({"userId": "bob"}, {"$set": {"points.balance": 999}})

    result = runner.invoke(args=["ledger", "reconcile", "--project", "other", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "checked 0 user(s)" in result.output


def test_a_balance_changing_during_the_check_is_not_called_drift(
    earned: Any, monkeypatch: Any
) -> None:
    # The check reads all ledger sums first; an event landing before the user is read makes
    # the first comparison differ. The confirmation on a fresh read must clear it.
    original = Ledger.totals_by_user

    def totals_then_an_event(self: Ledger, project: str) -> dict[str, int]:
        totals = original(self, project)
        now = clock.now()
        record_event(earned, "acme", Event("login", "ann", now), received_at=now)
        return totals

    monkeypatch.setattr(Ledger, "totals_by_user", totals_then_an_event)

    assert verify_balances(earned).drifts == []
    assert earned.users.find_one({"userId": "ann"})["points"]["balance"] == 20


def test_reconcile_help_explains_itself(runner: Any) -> None:
    result = runner.invoke(args=["ledger", "reconcile", "--help"])

    assert result.exit_code == 0
    assert "--dry-run" in result.output and "ledger" in result.output
