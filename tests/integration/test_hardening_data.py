"""Data left behind (issue 19, finding 10): exports that aggregated an erased user's days are
removed (and a new export queued), and NUL characters never reach metadata (so no CSV)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core import clock
from core.settings import Settings
from jobs.queue import use_queue
from jobs.reports import run_exports
from reports.analytics.exports import export_project, list_exports
from reports.analytics.runner import run_project
from tests.conftest import PROJECT

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return replace(settings, export_dir=str(tmp_path / "exports"))


class RecordingQueue:
    def __init__(self) -> None:
        self.jobs: list[tuple[Any, tuple[Any, ...]]] = []

    def enqueue(self, job: Any, *args: Any, **_options: Any) -> None:
        self.jobs.append((job, args))


@pytest.fixture
def queue(clients: Any) -> RecordingQueue:
    recording = RecordingQueue()
    use_queue(clients, recording)
    return recording


def send_at(send: Any, moment: datetime, user: str, platform: str) -> None:
    with clock.using(clock.frozen(moment)):
        response = send("daily_login", user_id=user, metadata={"platform": platform})
    assert response.status_code == 200, response.json


def export_at(db: Any, settings: Settings, moment: datetime) -> list[str]:
    run_project(db, PROJECT, now=moment)
    written = export_project(db, PROJECT, settings.export_dir, now=moment, retention_days=0)
    return sorted(f.name for f in written)


def export_texts(settings: Settings) -> str:
    return "".join(e.path.read_text() for e in list_exports(settings.export_dir, PROJECT))


def test_an_erasure_removes_the_exports_that_aggregated_the_user(
    define: Any,
    send: Any,
    client: Any,
    auth: Any,
    db: Any,
    settings: Settings,
    queue: RecordingQueue,
) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    yesterday = NOW - timedelta(days=1)
    send_at(send, yesterday, "bob", "bob-tablet")
    before_alice = export_at(db, settings, yesterday + timedelta(hours=1))
    send_at(send, NOW, "alice", "alice-phone")
    send_at(send, NOW, "bob", "bob-tablet")
    with_alice = export_at(db, settings, NOW + timedelta(hours=1))
    assert "alice-phone" in export_texts(settings)

    with clock.using(clock.frozen(NOW + timedelta(hours=2))):
        erased = client.delete("/users/alice", headers=auth("users:write", subject="dpo"))

    assert erased.status_code == 200, erased.json
    left = sorted(e.name for e in list_exports(settings.export_dir, PROJECT))
    assert left == before_alice  # the set written before alice's events stays
    assert not set(with_alice) & set(left)
    assert "alice-phone" not in export_texts(settings)
    assert queue.jobs == [(run_exports, (PROJECT,))]  # a new export, from the recomputed days


def test_an_erasure_keeps_exports_when_none_held_the_user(
    define: Any,
    send: Any,
    client: Any,
    auth: Any,
    db: Any,
    settings: Settings,
    queue: RecordingQueue,
) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})
    send_at(send, NOW, "bob", "bob-tablet")
    kept = export_at(db, settings, NOW + timedelta(hours=1))
    send_at(send, NOW + timedelta(hours=2), "carol", "carol-phone")

    with clock.using(clock.frozen(NOW + timedelta(hours=3))):
        assert client.delete("/users/carol", headers=auth("users:write")).status_code == 200

    assert sorted(e.name for e in list_exports(settings.export_dir, PROJECT)) == kept
    assert queue.jobs == []


@pytest.mark.parametrize("value", ["a\x00b", "\x00", "trailing\x00"])
def test_nul_characters_in_metadata_strings_are_400(
    define: Any, send: Any, db: Any, value: str
) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})

    response = send("daily_login", metadata={"note": value})

    assert response.status_code == 400
    assert response.json["error"]["details"] == {
        "metadata.note": ["strings may not hold NUL characters"]
    }
    assert db.events.count_documents({}) == 0
