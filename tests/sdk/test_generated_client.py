"""/openapi.json as a client generator reads it: openapi-python-client (pinned in the test
extra) generates a client into a temporary directory, which drives the brief's examples and
the SDK's operations against the embedded server and parses every answer into its models.

Generated on each run (about 10 s) rather than checked in, so it always matches the document.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.brief import BRIEF_EXAMPLES, RESPONSE_FIELDS, STREAK_FIELDS
from tests.sdk.conftest import SUPPORT_SCOPES, TIMEOUT

pytestmark = pytest.mark.usefixtures("rewards")
PACKAGE = "laurel_generated"
# Models whose extra properties are data (free-form maps), not fields the document forgot.
FREE_FORM = ("Metadata", "Details", "Erased", "AdditionalProperty")


@pytest.fixture
def generated(client: Any, tmp_path: Path) -> Iterator[ModuleType]:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(client.get("/openapi.json").json))
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(spec)]
        + ["--meta", "none", "--output-path", str(tmp_path / PACKAGE)],
        capture_output=True,
        text=True,
        timeout=300,
        # Its post-generation hook formats the code with ruff, found on PATH.
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def api(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def assert_fully_typed(response: Any) -> None:
    """The answer parsed into generated models that hold all of it: dumped back, they give the
    JSON the server sent (a property the document does not declare would be lost)."""
    assert type(response.parsed).__module__.startswith(PACKAGE), response.content
    assert instants_read(response.parsed.to_dict()) == instants_read(json.loads(response.content))


def instants_read(value: Any) -> Any:
    """ISO-8601 strings as datetimes: the models write `+00:00` where the server wrote `Z`."""
    if isinstance(value, dict):
        return {key: instants_read(item) for key, item in value.items()}
    if isinstance(value, list):
        return [instants_read(item) for item in value]
    if isinstance(value, str) and len(value) >= 20 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


def test_the_generated_client_sends_the_brief_examples_and_parses_typed_results(
    generated: ModuleType, server: str, make_token: Any
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    client = generated.AuthenticatedClient(
        base_url=server, token=make_token(), timeout=httpx.Timeout(TIMEOUT)
    )

    for example in BRIEF_EXAMPLES:
        response = api("events.post_event").sync_detailed(
            client=client, body=models.Event.from_dict(example)
        )

        assert response.status_code == 200, response.content
        envelope = response.parsed
        assert isinstance(envelope, models.EventResultEnvelope) and envelope.success is True
        result = envelope.data
        assert isinstance(result, models.EventResult)
        assert set(result.to_dict()) == RESPONSE_FIELDS
        assert isinstance(result.level, models.LevelResult)
        assert all(isinstance(streak, models.StreakResult) for streak in result.streaks)
        assert_fully_typed(response)
    login = api("events.post_event").sync(
        client=client, body=models.Event.from_dict(BRIEF_EXAMPLES[0])
    )
    assert set(login.data.streaks[0].to_dict()) == STREAK_FIELDS


def test_the_generated_client_parses_errors_batches_and_support_operations(
    generated: ModuleType, server: str, make_token: Any
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    client = generated.AuthenticatedClient(
        base_url=server,
        token=make_token(SUPPORT_SCOPES, subject="generated"),
        timeout=httpx.Timeout(TIMEOUT),
    )
    event = models.Event.from_dict

    missing = api("events.post_event").sync_detailed(
        client=client, body=event({"eventId": "nope", "userId": "a"})
    )
    first = api("events.post_event").sync_detailed(
        client=client,
        body=event({"eventId": "daily_login", "userId": "ann"}),
        idempotency_key="g-1",
    )
    replay = api("events.post_event").sync_detailed(
        client=client,
        body=event({"eventId": "daily_login", "userId": "ann"}),
        idempotency_key="g-1",
    )
    batch = api("events.post_events_batch").sync_detailed(
        client=client,
        body=models.BatchRequest(
            events=[
                event({"eventId": "level_completed", "userId": "ann"}),
                event({"eventId": "nope", "userId": "ann"}),
            ]
        ),
    )
    adjusted = api("users.post_users_user_id_adjustments").sync_detailed(
        "ann", client=client, body=models.Adjustment(delta=5, reason="Goodwill")
    )
    profile = api("users.get_users_user_id").sync_detailed("ann", client=client)
    history = api("users.get_users_user_id_history").sync_detailed("ann", client=client, limit=2)
    board = api("leaderboards.get_leaderboards").sync_detailed(client=client)

    error = missing.parsed.error
    assert isinstance(error, models.Error) and error.code == "event_not_found"
    assert error.details.additional_properties == {"eventId": ["is not defined or not active"]}
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.parsed.data.balance == first.parsed.data.balance == 10
    results = batch.parsed.data.results
    assert [item.status for item in results] == [200, 404]
    assert isinstance(results[0].data, models.EventResult)
    assert isinstance(results[1].error, models.Error)
    assert (adjusted.parsed.data.balance, adjusted.parsed.data.actor) == (20, "generated")
    assert profile.parsed.data.points.balance == 20
    page = history.parsed.data
    assert len(page.items) == 2 and isinstance(page.next_cursor, str)
    assert board.parsed.data.items[0].user_id == "ann"
    for response in (missing, first, replay, batch, adjusted, profile, history, board):
        assert_fully_typed(response)
