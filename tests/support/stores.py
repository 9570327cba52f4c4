"""What the stores hold, read back for a test's assertions."""

from __future__ import annotations

from typing import Any

from tests.conftest import PROJECT


def counts(db: Any, project: str = PROJECT) -> tuple[int, int, int]:
    """(events, ledger entries, users) stored for `project`."""
    query = {"project": project}
    return (
        db.events.count_documents(query),
        db.ledger.count_documents(query),
        db.users.count_documents(query),
    )


def balance(db: Any, user_id: str, project: str = PROJECT) -> int:
    user = db.users.find_one({"project": project, "userId": user_id})
    points: int = user["points"]["balance"]
    return points


def ledger_sum(db: Any, user_id: str, project: str = PROJECT) -> int:
    return sum(e["delta"] for e in db.ledger.find({"project": project, "userId": user_id}))
