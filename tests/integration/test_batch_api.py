"""POST /events/batch: per-item results in order, each item handled like a POST /event body."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from core import clock
from tests.brief import RESPONSE_FIELDS
from tests.conftest import PROJECT
from tests.support.dates import iso
from tests.support.stores import balance, counts, ledger_sum

REPLAYED = "Idempotent-Replayed"
KEY_HEADER = "Idempotency-Key"


@pytest.fixture
def batch(client: Any, auth: Any) -> Callable[..., Any]:
    """POST /events/batch {"events": items} as an events:write token of PROJECT."""

    def post(
        items: list[Any],
        scope: str = "events:write",
        project: str = PROJECT,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return client.post(
            "/events/batch",
            json={"events": items},
            headers={**auth(scope, project=project), **(headers or {})},
        )

    return post


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.json
    assert response.json["success"] is True
    items: list[dict[str, Any]] = response.json["data"]["results"]
    assert [item["index"] for item in items] == list(range(len(items)))
    return items


def statuses(response: Any) -> list[int]:
    return [item["status"] for item in results(response)]


def assert_item_error(item: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    assert item["status"] == status, item
    assert "data" not in item
    error: dict[str, Any] = item["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]
    return error


def assert_ok(item: dict[str, Any]) -> dict[str, Any]:
    assert item["status"] == 200, item
    assert "error" not in item
    data: dict[str, Any] = item["data"]
    return data


# --- valid items -------------------------------------------------------------------------------


def test_every_valid_item_is_applied_and_answered_in_request_order(
    login_events: None, batch: Any, db: Any
) -> None:
    users = ["alice", "bob", "carol"]

    response = batch([{"eventId": "daily_login", "userId": user} for user in users])

    items = results(response)
    assert [assert_ok(item)["userId"] for item in items] == users
    for item in items:
        assert set(item["data"]) == RESPONSE_FIELDS
        assert item["data"]["balance"] == 15
        assert "replayed" not in item
    assert REPLAYED not in response.headers
    assert counts(db) == (3, 6, 3)


def test_item_data_equals_the_post_event_data_for_the_same_event(
    login_events: None, batch: Any, send: Any
) -> None:
    moment = iso(clock.now().replace(microsecond=500000) - timedelta(hours=1))
    metadata = {"platform": "ios", "sessionLength": 183}
    single = send("daily_login", user_id="single", metadata=metadata, timestamp=moment)

    [item] = results(
        batch(
            [
                {
                    "eventId": "daily_login",
                    "userId": "batched",
                    "metadata": metadata,
                    "timestamp": moment,
                }
            ]
        )
    )

    assert single.status_code == 200
    assert assert_ok(item) == {**single.json["data"], "userId": "batched"}


def test_items_for_one_user_are_applied_in_order(login_events: None, batch: Any, db: Any) -> None:
    response = batch([{"eventId": "daily_login", "userId": "u1"} for _ in range(4)])

    data = [assert_ok(item) for item in results(response)]
    assert [d["balance"] for d in data] == [15, 25, 35, 45]
    assert [d["totalPointsAwarded"] for d in data] == [15, 10, 10, 10]
    assert data[0]["badges"] == ["hello"] and data[1]["badges"] == []
    assert balance(db, "u1") == ledger_sum(db, "u1") == 45
    assert counts(db) == (4, 5, 1)


def test_items_of_several_users_interleave_with_their_own_balances(
    define: Any, batch: Any, db: Any
) -> None:
    define("events", "tap", {"points": {"fixed": 3}})
    order = ["a", "b", "a", "c", "b", "a"]

    response = batch([{"eventId": "tap", "userId": user} for user in order])

    assert [assert_ok(item)["balance"] for item in results(response)] == [3, 3, 6, 3, 6, 9]
    assert {u: balance(db, u) for u in "abc"} == {"a": 9, "b": 6, "c": 3}
    assert all(balance(db, u) == ledger_sum(db, u) for u in "abc")


def test_one_hundred_items_are_accepted(define: Any, batch: Any, db: Any) -> None:
    define("events", "tap", {"points": {"fixed": 1}})

    response = batch([{"eventId": "tap", "userId": f"u{n % 7}"} for n in range(100)])

    assert statuses(response) == [200] * 100
    assert counts(db) == (100, 100, 7)
    assert sum(balance(db, f"u{n}") for n in range(7)) == 100


# --- invalid items -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"eventId": "daily_login", "userId": "u", "surprise": 1}, "surprise"),
        ({"eventId": "daily_login"}, "userId"),
        ({"userId": "u"}, "eventId"),
        ({"eventId": "bad id!", "userId": "u"}, "eventId"),
        (
            {"eventId": "daily_login", "userId": "u", "metadata": {"nested": {"a": 1}}},
            "metadata.nested",
        ),
        ({"eventId": "daily_login", "userId": "u", "metadata": {"list": [1]}}, "metadata.list"),
        ({"eventId": "daily_login", "userId": "u", "metadata": [1]}, "metadata"),
        (
            {"eventId": "daily_login", "userId": "u", "metadata": {f"f{i}": i for i in range(11)}},
            "metadata",
        ),
        ({"eventId": "daily_login", "userId": "u", "timestamp": "yesterday"}, "timestamp"),
        ({"eventId": "daily_login", "userId": "u", "idempotencyKey": ""}, "idempotencyKey"),
        ({"eventId": "daily_login", "userId": "u", "idempotencyKey": "k" * 256}, "idempotencyKey"),
    ],
    ids=[
        "unknown-field",
        "missing-userId",
        "missing-eventId",
        "bad-eventId",
        "nested-metadata",
        "list-in-metadata",
        "metadata-not-object",
        "eleven-metadata-fields",
        "bad-timestamp",
        "empty-key",
        "long-key",
    ],
)
def test_invalid_item_is_400_keyed_by_field_path_and_the_others_are_applied(
    login_events: None, batch: Any, db: Any, item: dict[str, Any], field: str
) -> None:
    response = batch(
        [
            {"eventId": "daily_login", "userId": "before"},
            item,
            {"eventId": "daily_login", "userId": "after"},
        ]
    )

    first, bad, last = results(response)
    error = assert_item_error(bad, 400, "validation_error")
    assert field in error["details"], error
    assert assert_ok(first)["userId"] == "before"
    assert assert_ok(last)["userId"] == "after"
    assert counts(db) == (2, 4, 2)
    assert db.users.count_documents({"userId": "u"}) == 0


@pytest.mark.parametrize(
    "item",
    [42, 1.5, "daily_login", None, True, [], [{"eventId": "daily_login", "userId": "u"}]],
    ids=["int", "float", "string", "null", "bool", "empty-list", "list"],
)
def test_non_object_item_is_400_and_the_others_are_applied(
    login_events: None, batch: Any, db: Any, item: Any
) -> None:
    response = batch([item, {"eventId": "daily_login", "userId": "after"}])

    bad, good = results(response)
    error = assert_item_error(bad, 400, "validation_error")
    assert error["details"]
    assert all(isinstance(texts, list) and texts for texts in error["details"].values())
    assert assert_ok(good)["balance"] == 15
    assert counts(db) == (1, 2, 1)


def test_metadata_breaking_the_definition_is_400_for_that_item_only(
    define: Any, batch: Any, db: Any
) -> None:
    define(
        "events",
        "purchase",
        {
            "points": {"perUnit": {"field": "orderValue", "rate": 2}},
            "metadataSchema": {"orderValue": "number"},
        },
    )

    response = batch(
        [
            {"eventId": "purchase", "userId": "u1", "metadata": {"orderValue": "12"}},
            {"eventId": "purchase", "userId": "u1", "metadata": {"orderValue": 12}},
        ]
    )

    bad, good = results(response)
    error = assert_item_error(bad, 400, "validation_error")
    assert "metadata.orderValue" in error["details"]
    assert assert_ok(good)["balance"] == 24
    assert counts(db) == (1, 1, 1)


def test_unknown_event_is_404_event_not_found_for_that_item_only(
    login_events: None, batch: Any, db: Any
) -> None:
    response = batch(
        [
            {"eventId": "never_defined", "userId": "ghost"},
            {"eventId": "daily_login", "userId": "u1"},
        ]
    )

    missing, good = results(response)
    assert_item_error(missing, 404, "event_not_found")
    assert assert_ok(good)["balance"] == 15
    assert db.users.count_documents({"userId": "ghost"}) == 0
    assert counts(db) == (1, 2, 1)


def test_deactivated_event_is_404_for_that_item(
    login_events: None, define: Any, client: Any, auth: Any, batch: Any
) -> None:
    define("events", "retired", {"points": {"fixed": 1}})
    assert client.delete("/admin/events/retired", headers=auth("admin")).status_code == 200

    retired, good = results(
        batch([{"eventId": "retired", "userId": "u1"}, {"eventId": "daily_login", "userId": "u1"}])
    )

    assert_item_error(retired, 404, "event_not_found")
    assert assert_ok(good)["balance"] == 15


def test_old_timestamp_without_import_scope_is_403_for_that_item_only(
    login_events: None, batch: Any, db: Any
) -> None:
    old = iso(clock.now() - timedelta(days=8))

    response = batch(
        [
            {"eventId": "daily_login", "userId": "u1", "timestamp": old},
            {"eventId": "daily_login", "userId": "u1"},
        ]
    )

    refused, good = results(response)
    error = assert_item_error(refused, 403, "forbidden")
    assert "events:import" in error["message"]
    assert assert_ok(good)["balance"] == 15
    assert counts(db) == (1, 2, 1)


def test_old_timestamp_with_import_scope_is_applied(login_events: None, batch: Any) -> None:
    old = clock.now().replace(microsecond=0) - timedelta(days=8)

    [item] = results(
        batch(
            [{"eventId": "daily_login", "userId": "u1", "timestamp": iso(old)}],
            scope="events:write events:import",
        )
    )

    assert assert_ok(item)["timestamp"] == int(old.timestamp()) * 1000


def test_future_timestamp_is_400_for_that_item_only(login_events: None, batch: Any) -> None:
    ahead = iso(clock.now() + timedelta(minutes=6))

    refused, good = results(
        batch(
            [
                {"eventId": "daily_login", "userId": "u1", "timestamp": ahead},
                {"eventId": "daily_login", "userId": "u1"},
            ]
        )
    )

    error = assert_item_error(refused, 400, "validation_error")
    assert "timestamp" in error["details"]
    assert assert_ok(good)["balance"] == 15


def test_a_mix_of_failures_keeps_each_status_in_its_place(
    login_events: None, batch: Any, db: Any
) -> None:
    old = iso(clock.now() - timedelta(days=8))
    items: list[Any] = [
        {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"},
        {"eventId": "nope", "userId": "u1"},
        7,
        {"eventId": "daily_login", "userId": "u1", "timestamp": old},
        {"eventId": "daily_login", "userId": "u2", "idempotencyKey": "k-1"},
        {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"},
        {"eventId": "daily_login", "userId": "u1"},
    ]

    response = batch(items)

    assert statuses(response) == [200, 404, 400, 403, 422, 200, 200]
    items_out = results(response)
    assert [item.get("replayed") for item in items_out] == [None] * 5 + [True, None]
    assert items_out[4]["error"]["code"] == "idempotency_conflict"
    assert items_out[6]["data"]["balance"] == 25
    assert counts(db) == (2, 3, 1)


# --- idempotency keys in a batch ---------------------------------------------------------------


def test_repeated_key_and_body_within_a_batch_replays_the_first_item(
    login_events: None, batch: Any, db: Any
) -> None:
    item = {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"}

    first, again = results(batch([item, dict(reversed(list(item.items())))]))

    assert "replayed" not in first
    assert again["replayed"] is True
    assert assert_ok(again) == assert_ok(first)
    assert counts(db) == (1, 2, 1)
    assert balance(db, "u1") == 15


def test_replayed_item_in_a_later_batch_returns_the_first_data(
    login_events: None, batch: Any, db: Any
) -> None:
    item = {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"}
    [first] = results(batch([item]))
    results(batch([{"eventId": "daily_login", "userId": "u1"}]))  # balance moves on to 25

    [replay] = results(batch([item]))

    assert replay["replayed"] is True
    assert replay["data"] == first["data"]
    assert replay["data"]["balance"] == 15
    assert balance(db, "u1") == ledger_sum(db, "u1") == 25
    assert counts(db) == (2, 3, 1)


def test_reused_key_with_another_body_is_422_for_that_item_only(
    login_events: None, batch: Any, db: Any
) -> None:
    results(batch([{"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"}]))

    conflict, good = results(
        batch(
            [
                {"eventId": "daily_login", "userId": "u2", "idempotencyKey": "k-1"},
                {"eventId": "daily_login", "userId": "u3", "idempotencyKey": "k-2"},
            ]
        )
    )

    assert_item_error(conflict, 422, "idempotency_conflict")
    assert "replayed" not in conflict
    assert assert_ok(good)["userId"] == "u3"
    assert db.users.count_documents({"userId": "u2"}) == 0
    assert counts(db) == (2, 4, 2)


def test_key_first_used_on_post_event_replays_in_a_batch(
    login_events: None, client: Any, auth: Any, batch: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "u1", "metadata": {"platform": "ios"}}
    single = client.post("/event", json=body, headers={**auth(), KEY_HEADER: "k-1"})

    [item] = results(batch([{**body, "idempotencyKey": "k-1"}]))

    assert single.status_code == 200
    assert item["replayed"] is True
    assert item["data"] == single.json["data"]
    assert counts(db) == (1, 2, 1)


def test_key_first_used_in_a_batch_replays_on_post_event(
    login_events: None, client: Any, auth: Any, batch: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"}
    [item] = results(batch([body]))

    single = client.post("/event", json=body, headers=auth())

    assert single.status_code == 200
    assert single.headers.get(REPLAYED) == "true"
    assert single.json == {"success": True, "data": item["data"]}
    assert counts(db) == (1, 2, 1)


def test_key_of_a_failed_item_is_applied_when_retried_after_defining_the_event(
    define: Any, batch: Any, db: Any
) -> None:
    item = {"eventId": "late", "userId": "u1", "idempotencyKey": "k-1"}
    [missing] = results(batch([item]))
    assert_item_error(missing, 404, "event_not_found")
    define("events", "late", {"points": {"fixed": 4}})

    [retry] = results(batch([item]))

    assert assert_ok(retry)["balance"] == 4
    assert "replayed" not in retry
    assert counts(db) == (1, 1, 1)


def test_applied_item_key_keeps_replaying_after_the_event_is_deactivated(
    login_events: None, client: Any, auth: Any, batch: Any, db: Any
) -> None:
    item = {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"}
    [first] = results(batch([item]))
    assert client.delete("/admin/events/daily_login", headers=auth("admin")).status_code == 200

    [replay] = results(batch([item]))

    assert replay["replayed"] is True
    assert replay["data"] == first["data"]
    assert counts(db) == (1, 2, 1)


def test_same_item_key_in_two_projects_applies_both(define: Any, batch: Any, db: Any) -> None:
    define("events", "tap", {"points": {"fixed": 2}}, project="acme")
    define("events", "tap", {"points": {"fixed": 5}}, project="globex")
    item = {"eventId": "tap", "userId": "u1", "idempotencyKey": "shared"}

    [acme] = results(batch([item], project="acme"))
    [globex] = results(batch([item], project="globex"))

    assert (assert_ok(acme)["balance"], assert_ok(globex)["balance"]) == (2, 5)
    assert "replayed" not in acme and "replayed" not in globex
    assert counts(db, "acme") == counts(db, "globex") == (1, 1, 1)


# --- the request as a whole --------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 101])
def test_batch_of_0_or_101_items_is_400_and_applies_nothing(
    define: Any, batch: Any, db: Any, size: int
) -> None:
    define("events", "tap", {"points": {"fixed": 1}})

    response = batch([{"eventId": "tap", "userId": f"u{n}"} for n in range(size)])

    assert response.status_code == 400
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "validation_error"
    assert "events" in response.json["error"]["details"]
    assert counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    "body",
    [{}, {"events": {"eventId": "tap"}}, {"events": "tap"}, {"events": [], "extra": 1}, []],
    ids=["missing-events", "events-object", "events-string", "unknown-field", "array-body"],
)
def test_malformed_batch_request_is_400(
    define: Any, client: Any, auth: Any, db: Any, body: Any
) -> None:
    define("events", "tap", {"points": {"fixed": 1}})

    response = client.post("/events/batch", json=body, headers=auth())

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["details"]
    assert counts(db) == (0, 0, 0)


def test_idempotency_key_header_on_a_batch_is_400_and_applies_nothing(
    login_events: None, batch: Any, db: Any
) -> None:
    response = batch([{"eventId": "daily_login", "userId": "u1"}], headers={KEY_HEADER: "k-1"})

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert KEY_HEADER in response.json["error"]["details"]
    assert counts(db) == (0, 0, 0)


def test_batch_needs_a_token_with_events_write(login_events: None, client: Any, auth: Any) -> None:
    body = {"events": [{"eventId": "daily_login", "userId": "u1"}]}

    anonymous = client.post("/events/batch", json=body)
    reader = client.post("/events/batch", json=body, headers=auth("users:read"))

    assert anonymous.status_code == 401
    assert anonymous.json["error"]["code"] == "unauthorized"
    assert reader.status_code == 403
    assert reader.json["error"]["code"] == "forbidden"
    assert "events:write" in reader.json["error"]["message"]


def padded_item(user: str, pad: int) -> dict[str, Any]:
    return {"eventId": "tap", "userId": user, "metadata": {f"s{i}": "x" * pad for i in range(4)}}


def test_batch_body_may_exceed_the_16_kib_single_event_limit(
    define: Any, batch: Any, db: Any
) -> None:
    define("events", "tap", {"points": {"fixed": 1}})
    items = [padded_item(f"u{n}", 250) for n in range(100)]
    assert len(json.dumps({"events": items})) > 64 * 1024

    response = batch(items)

    assert statuses(response) == [200] * 100
    assert counts(db)[0] == 100


def test_batch_body_over_1_mib_is_413(define: Any, client: Any, auth: Any, db: Any) -> None:
    define("events", "tap", {"points": {"fixed": 1}})
    body = json.dumps({"events": [{"eventId": "tap", "userId": "u", "pad": "x" * 11_000}] * 100})
    assert len(body) > 1024 * 1024

    response = client.post(
        "/events/batch", data=body, headers={**auth(), "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert counts(db) == (0, 0, 0)


def test_single_event_over_16_kib_is_still_413(define: Any, client: Any, auth: Any) -> None:
    define("events", "tap", {"points": {"fixed": 1}})
    body = json.dumps(padded_item("u", 250) | {"userId": "u", "pad": "x" * 16_000})

    response = client.post(
        "/event", data=body, headers={**auth(), "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_openapi_lists_the_batch_endpoint(client: Any) -> None:
    spec = client.get("/openapi.json").json

    post = spec["paths"]["/events/batch"]["post"]
    assert "200" in post["responses"]
    assert {"400", "401", "403", "413"} <= set(post["responses"])
    assert post["summary"]
    ok = post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    envelope = spec["components"]["schemas"][ok.rsplit("/", 1)[1]]
    assert set(envelope["properties"]) == {"success", "data"}
