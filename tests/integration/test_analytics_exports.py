"""Exports (docs/api.md#analytics, reports.analytics.exports): files written atomically under
EXPORT_DIR, listed and downloaded per project, pruned after EXPORT_RETENTION days, names that never
leave the project's directory."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rq import SimpleWorker

from core.clients import Clients
from core.settings import Settings
from jobs.queue import queue_for
from reports.analytics import exports
from reports.analytics.exports import (
    export_name,
    export_project,
    list_exports,
    parquet_available,
    prune,
)
from reports.analytics.runner import run_project
from tests.conftest import PROJECT
from tests.support.waiting import wait_for

Auth = Callable[..., dict[str, str]]
NOW = datetime(2026, 11, 26, 0, 0, 5, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return replace(settings, export_dir=str(tmp_path / "exports"))


@pytest.fixture
def export_dir(settings: Settings) -> Path:
    return Path(settings.export_dir)


def add_event(db: Any, day: int, user: str, project: str = PROJECT, **metadata: Any) -> None:
    moment = NOW - timedelta(days=day, hours=1)
    db.events.insert_one(
        {
            "project": project,
            "userId": user,
            "eventId": "purchase",
            "timestamp": moment,
            "receivedAt": moment,
            "metadata": metadata,
            "outcome": {"pointsAwarded": 5, "totalPointsAwarded": 7},
        }
    )


@pytest.fixture
def analysed(db: Any) -> None:
    add_event(db, 1, "u1", platform="ios", orderValue=10, gift=True)
    add_event(db, 1, "u2", platform="web", orderValue=30)
    add_event(db, 0, "u1", platform="ios", orderValue=7.5)
    add_event(db, 0, "u3")
    run_project(db, PROJECT, now=NOW)


def test_an_export_writes_csv_and_json_named_by_project_and_time(
    analysed: None, db: Any, export_dir: Path
) -> None:
    written = export_project(db, PROJECT, export_dir, now=NOW, formats=["csv", "json"])

    assert [f.name for f in written] == ["acme-20261126T000005Z.csv", "acme-20261126T000005Z.json"]
    assert sorted(os.listdir(export_dir / PROJECT)) == [f.name for f in written]
    rows = list(csv.DictReader(io.StringIO((export_dir / PROJECT / written[0].name).read_text())))
    by_field = {(r["day"], r["field"]): r for r in rows}
    assert set(by_field) == {
        ("2026-11-24", "gift"),
        ("2026-11-24", "orderValue"),
        ("2026-11-24", "platform"),
        ("2026-11-25", "orderValue"),
        ("2026-11-25", "platform"),
    }
    value = by_field[("2026-11-24", "orderValue")]
    assert (value["events"], value["uniqueUsers"], value["pointsAwarded"]) == ("2", "2", "10")
    assert (value["type"], value["count"], value["min"], value["max"]) == (
        "numeric",
        "2",
        "10",
        "30",
    )
    assert value["mean"] == "20.0" and value["topValue"] == ""
    platform = by_field[("2026-11-25", "platform")]
    assert (platform["missing"], platform["distinct"], platform["topValue"]) == ("1", "1", "ios")
    assert by_field[("2026-11-24", "gift")]["trueCount"] == "1"
    document = json.loads((export_dir / PROJECT / written[1].name).read_text())
    assert document["project"] == PROJECT and document["generatedAt"] == "2026-11-26T00:00:05.000Z"
    assert (document["from"], document["to"]) == ("2026-11-24", "2026-11-25")
    (purchase,) = document["reports"]
    assert purchase["eventId"] == "purchase"
    assert purchase["windows"]["all"]["count"] == 4
    assert purchase["windows"]["7d"]["fields"]["orderValue"]["max"] == 30
    assert len(document["daily"]) == len(rows)


FORMULAS = ['=HYPERLINK("https://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_csv_text_a_spreadsheet_would_run_as_a_formula_starts_with_a_quote(
    db: Any, export_dir: Path
) -> None:
    for day, value in enumerate([*FORMULAS, "plain"]):
        add_event(db, day, "u1", note=value)
    run_project(db, PROJECT, now=NOW)

    written = export_project(db, PROJECT, export_dir, now=NOW, formats=["csv", "json"])

    with (export_dir / PROJECT / written[0].name).open(newline="") as text:
        rows = list(csv.DictReader(text))
    assert sorted(row["topValue"] for row in rows) == sorted(
        [*(f"'{value}" for value in FORMULAS), "plain"]
    )
    document = json.loads((export_dir / PROJECT / written[1].name).read_text())
    assert sorted(row["topValue"] for row in document["daily"]) == sorted([*FORMULAS, "plain"])


def test_parquet_is_written_when_pyarrow_is_installed(
    analysed: None, db: Any, export_dir: Path
) -> None:
    written = {f.name.rsplit(".", 1)[1] for f in export_project(db, PROJECT, export_dir, now=NOW)}

    if not parquet_available():
        assert written == {"csv", "json"}
        return
    assert written == {"csv", "json", "parquet"}
    import pandas as pd

    frame = pd.read_parquet(export_dir / PROJECT / "acme-20261126T000005Z.parquet")
    assert len(frame) == 5 and frame["max"].max() == 30


def test_a_failed_write_leaves_no_file_behind(
    analysed: None, db: Any, export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export_project(db, PROJECT, export_dir, now=NOW - timedelta(days=1), formats=["csv"])
    before = sorted(os.listdir(export_dir / PROJECT))

    def half_written(out: Any, document: Any) -> None:
        out.write(b'{"project": "acme", "rep')
        raise OSError("disk full")

    monkeypatch.setattr(exports, "_write_json", half_written)
    with pytest.raises(OSError, match="disk full"):
        export_project(db, PROJECT, export_dir, now=NOW, formats=["json"])

    assert sorted(os.listdir(export_dir / PROJECT)) == before  # no .json, no temporary file


def test_old_exports_and_stale_temporary_files_are_pruned(export_dir: Path) -> None:
    folder = export_dir / PROJECT
    folder.mkdir(parents=True)
    names = {
        age: export_name(PROJECT, NOW - timedelta(days=age), "csv") for age in (0, 29, 31, 400)
    }
    for name in names.values():
        (folder / name).write_text("x")
    (folder / ".tmp-crashed").write_text("half")
    (folder / ".tmp-writing").write_text("half")
    two_days_ago = time.time() - 2 * 86_400  # os clock: it stamps files
    os.utime(folder / ".tmp-crashed", (two_days_ago, two_days_ago))
    (folder / "notes.txt").write_text("not an export")

    deleted = prune(export_dir, PROJECT, NOW, retention_days=30)

    assert sorted(deleted) == sorted([names[31], names[400], ".tmp-crashed"])
    assert sorted(os.listdir(folder)) == sorted([names[0], names[29], ".tmp-writing", "notes.txt"])
    prune(export_dir, PROJECT, NOW + timedelta(days=1000), retention_days=0)
    assert [f.name for f in list_exports(export_dir, PROJECT)] == [names[0], names[29]]


def test_project_ids_with_dots_get_a_directory_of_their_own(db: Any, export_dir: Path) -> None:
    add_event(db, 0, "u1", project="..", platform="ios")
    run_project(db, "..", now=NOW)

    (written,) = export_project(db, "..", export_dir, now=NOW, formats=["csv"])

    assert written.path == export_dir.resolve() / "~2E~2E" / "~2E~2E-20261126T000005Z.csv"
    assert [f.name for f in list_exports(export_dir, "..")] == [written.name]
    assert list_exports(export_dir, "_2E_2E") == []


def exported_through_the_api(client: Any, auth: Auth, clients: Clients, export_dir: Path) -> None:
    response = client.post("/analytics/exports/run", headers=auth("admin"))
    assert response.status_code == 202, response.json
    assert response.json["data"] == {"job": "export-run", "project": PROJECT, "status": "queued"}
    if clients.settings.redis_url is not None:
        SimpleWorker([queue_for(clients).rq], connection=clients.redis).work(burst=True)  # type: ignore[attr-defined]
    wait_for(lambda: list_exports(export_dir, PROJECT), "the export file")


def test_exports_run_on_demand_are_listed_and_downloaded(
    analysed: None, client: Any, auth: Auth, clients: Clients, export_dir: Path
) -> None:
    exported_through_the_api(client, auth, clients, export_dir)

    listing = client.get("/analytics/exports", headers=auth("reports:read"))

    assert listing.status_code == 200, listing.json
    items = listing.json["data"]["items"]
    assert {item["name"].rsplit(".", 1)[1] for item in items} >= {"csv", "json"}
    csv_item = next(item for item in items if item["name"].endswith(".csv"))
    assert csv_item["createdAt"].endswith("Z")
    with client.get(
        f"/analytics/exports/{csv_item['name']}", headers=auth("reports:read")
    ) as download:
        assert download.status_code == 200
        assert download.mimetype == "text/csv"
        assert "attachment" in download.headers["Content-Disposition"]
        assert len(download.data) == csv_item["size"]
        assert download.data.startswith(b"day,eventId,events,uniqueUsers")
    assert (
        client.get("/analytics/exports", headers=auth("reports:read", project="other")).json[
            "data"
        ]["items"]
        == []
    )
    other = client.get(
        f"/analytics/exports/{csv_item['name']}", headers=auth("reports:read", project="other")
    )
    assert other.status_code == 400  # not a name of that project's exports


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "..%252F..%252Fetc%252Fpasswd",
        "../../etc/passwd",
        "%2e%2e",
        "..",
        "acme-20261126T000005Z.csv%2F..%2F..%2Fsecret",
        "acme-20261126T000005Z.csv%00.json",
        "acme-20261126T000005Z.csv\\..\\x",
        "acme-20261126T000005Z.CSV",
        "acme-20261399T000000Z.csv",
        ".tmp-abc",
        "notes.txt",
        "x" * 5000,
    ],
)
def test_names_outside_the_project_exports_are_400_or_404(
    analysed: None, client: Any, auth: Auth, db: Any, export_dir: Path, name: str
) -> None:
    export_project(db, PROJECT, export_dir, now=NOW, formats=["csv"])
    (export_dir / PROJECT / "notes.txt").write_text("private")
    (export_dir / "secret").write_text("private")

    response = client.get(f"/analytics/exports/{name}", headers=auth("reports:read"))

    assert response.status_code in (400, 404), response.data
    assert response.json["success"] is False
    assert response.json["error"]["code"] in ("validation_error", "not_found")


def test_a_missing_export_is_404_and_a_symlink_is_not_served(
    analysed: None, client: Any, auth: Auth, db: Any, export_dir: Path
) -> None:
    export_project(db, PROJECT, export_dir, now=NOW, formats=["csv"])
    (export_dir / "outside.csv").write_text("private")
    link = export_dir / PROJECT / export_name(PROJECT, NOW - timedelta(days=1), "csv")
    link.symlink_to(export_dir / "outside.csv")

    missing = client.get(
        f"/analytics/exports/{export_name(PROJECT, NOW + timedelta(days=1), 'csv')}",
        headers=auth("reports:read"),
    )
    linked = client.get(f"/analytics/exports/{link.name}", headers=auth("reports:read"))

    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert linked.status_code == 404
    assert [f.name for f in list_exports(export_dir, PROJECT)] == [export_name(PROJECT, NOW, "csv")]
