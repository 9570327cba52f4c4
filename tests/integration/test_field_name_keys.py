"""Client-chosen keys that become field names of a stored document follow the metadata key
rule, `[A-Za-z0-9_]{1,64}` (issue 14, item 8): a "." would be read as a path and a leading
"$" as an operator by a real server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.test_errors import assert_envelope


@pytest.mark.parametrize("group", ["sub.scriber", "$gt", "vip plus", "x" * 65, ""])
def test_group_reward_key_outside_the_metadata_key_rule_is_400(
    client: Any, auth: Any, group: str
) -> None:
    body = {"points": {"fixed": 5}, "groupRewards": {group: {"multiplier": 2}}}

    response = client.put("/admin/events/purchase", json=body, headers=auth("admin"))

    body = assert_envelope(response, 400, "validation_error")
    assert any(path.startswith("groupRewards") for path in body["error"]["details"])
    assert client.get("/admin/events/purchase", headers=auth("admin")).status_code == 404


def test_group_reward_key_within_the_rule_is_stored(client: Any, auth: Any) -> None:
    body = {"points": {"fixed": 5}, "groupRewards": {"Gold_2": {"multiplier": 2}}}

    response = client.put("/admin/events/purchase", json=body, headers=auth("admin"))

    assert response.status_code == 200, response.json
    assert response.json["data"]["groupRewards"] == {"Gold_2": {"multiplier": 2.0}}


def test_metadata_schema_key_outside_the_rule_is_400(client: Any, auth: Any) -> None:
    body = {"points": {"fixed": 5}, "metadataSchema": {"order.value": "number"}}

    response = client.put("/admin/events/purchase", json=body, headers=auth("admin"))

    assert_envelope(response, 400, "validation_error")
