"""Idempotency keys on POST /event: replays, conflicts, scoping, retries and concurrency."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from werkzeug.serving import make_server

from core import clock, operators
from rules.stores.users import UserStore
from tests.brief import RESPONSE_FIELDS
from tests.conftest import PROJECT
from tests.support.dates import iso
from tests.support.stores import balance, counts, ledger_sum

REPLAYED = "Idempotent-Replayed"
KEY_HEADER = "Idempotency-Key"


@pytest.fixture
def post(client: Any, auth: Any) -> Callable[..., Any]:
    """POST /event with a JSON body (a dict, or a raw string to control the key order)."""

    def send(
        body: dict[str, Any] | str,
        key: str | None = None,
        project: str = PROJECT,
        scope: str = "events:write",
        path: str = "/event",
    ) -> Any:
        headers = auth(scope, project=project)
        if key is not None:
            headers[KEY_HEADER] = key
        if isinstance(body, str):
            headers["Content-Type"] = "application/json"
            return client.post(path, data=body, headers=headers)
        return client.post(path, json=body, headers=headers)

    return send


def assert_replay_of(replay: Any, first: Any) -> None:
    assert replay.status_code == first.status_code == 200
    assert replay.json == first.json
    assert replay.headers.get(REPLAYED) == "true"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.json["success"] is False
    error: dict[str, Any] = response.json["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]
    return error


# --- first response and replay -----------------------------------------------------------------


def test_first_keyed_response_is_applied_without_replayed_header(
    login_events: None, post: Any, db: Any
) -> None:
    response = post({"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"})

    assert response.status_code == 200
    assert REPLAYED not in response.headers
    data = response.json["data"]
    assert set(data) == RESPONSE_FIELDS
    assert (data["pointsAwarded"], data["totalPointsAwarded"], data["balance"]) == (10, 15, 15)
    assert counts(db) == (1, 2, 1)


def test_first_response_with_header_key_has_no_replayed_header(
    login_events: None, post: Any
) -> None:
    response = post({"eventId": "daily_login", "userId": "u1"}, key="k-1")

    assert response.status_code == 200
    assert REPLAYED not in response.headers


def test_repeat_with_body_key_replays_first_response_and_changes_nothing(
    login_events: None, post: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"}
    first = post(body)
    stored = counts(db)

    replay = post(body)

    assert_replay_of(replay, first)
    assert counts(db) == stored == (1, 2, 1)
    assert balance(db, "u1") == ledger_sum(db, "u1") == 15


def test_repeat_with_header_key_replays_first_response_and_changes_nothing(
    login_events: None, post: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "u1", "metadata": {"platform": "ios"}}
    first = post(body, key="k-1")

    replays = [post(body, key="k-1") for _ in range(3)]

    for replay in replays:
        assert_replay_of(replay, first)
    assert counts(db) == (1, 2, 1)
    assert balance(db, "u1") == 15


def test_replay_returns_the_first_balance_after_the_balance_changed(
    login_events: None, post: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"}
    first = post(body)
    later = post({"eventId": "daily_login", "userId": "u1"})  # unkeyed: applied, +10
    assert later.json["data"]["balance"] == 25

    replay = post(body)

    assert_replay_of(replay, first)
    assert replay.json["data"]["balance"] == 15
    assert balance(db, "u1") == ledger_sum(db, "u1") == 25
    assert counts(db) == (2, 3, 1)


def test_replay_returns_the_first_defaulted_timestamp(
    login_events: None, post: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"}
    start = clock.now()
    with clock.using(clock.frozen(start)):
        first = post(body)

    with clock.using(clock.frozen(start + timedelta(seconds=1))):  # "now" has moved on
        replay = post(body)

    assert_replay_of(replay, first)
    assert replay.json["data"]["timestamp"] == first.json["data"]["timestamp"]
    assert replay.json["data"]["streaks"] == first.json["data"]["streaks"]
    assert replay.json["data"]["badges"] == ["hello"]
    assert counts(db) == (1, 2, 1)


def test_replay_keeps_an_explicit_timestamp_and_metadata_result(
    define: Any, post: Any, db: Any
) -> None:
    define("events", "purchase", {"points": {"perUnit": {"field": "orderValue", "rate": 2}}})
    moment = clock.now().replace(microsecond=250000) - timedelta(hours=2)
    body = {
        "eventId": "purchase",
        "userId": "buyer",
        "metadata": {"orderValue": 21.5, "currency": "EUR"},
        "timestamp": iso(moment),
    }
    first = post(body, key="order-1")

    replay = post(body, key="order-1")

    assert_replay_of(replay, first)
    assert replay.json["data"]["pointsAwarded"] == 43
    assert replay.json["data"]["timestamp"] == int(moment.timestamp() * 1000)
    assert counts(db) == (1, 1, 1)


def test_key_sent_first_in_header_replays_when_retried_in_body(
    login_events: None, post: Any, db: Any
) -> None:
    first = post({"eventId": "daily_login", "userId": "u1"}, key="k-1")

    replay = post({"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"})

    assert_replay_of(replay, first)
    assert counts(db) == (1, 2, 1)


def test_key_sent_first_in_body_replays_when_retried_in_header(
    login_events: None, post: Any, db: Any
) -> None:
    first = post({"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"})

    replay = post({"eventId": "daily_login", "userId": "u1"}, key="k-1")

    assert_replay_of(replay, first)
    assert counts(db) == (1, 2, 1)


def test_equal_header_and_body_keys_are_accepted_and_replay(
    login_events: None, post: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"}
    first = post(body, key="k-1")

    replay = post(body, key="k-1")

    assert first.status_code == 200
    assert REPLAYED not in first.headers
    assert_replay_of(replay, first)
    assert counts(db) == (1, 2, 1)


def test_json_key_order_does_not_make_a_different_request(
    login_events: None, post: Any, db: Any
) -> None:
    first = post(
        '{"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1",'
        ' "metadata": {"platform": "ios", "sessionLength": 183}}'
    )

    replay = post(
        '{"metadata": {"sessionLength": 183, "platform": "ios"}, "idempotencyKey": "k-1",'
        ' "userId": "u1", "eventId": "daily_login"}'
    )

    assert_replay_of(replay, first)
    assert counts(db) == (1, 2, 1)


def test_key_replays_on_the_v1_path_too(login_events: None, post: Any, db: Any) -> None:
    body = {"eventId": "daily_login", "userId": "u1"}
    first = post(body, key="k-1")

    replay = post(body, key="k-1", path="/v1/event")

    assert_replay_of(replay, first)
    assert counts(db) == (1, 2, 1)


def test_different_keys_with_the_same_body_are_both_applied(
    login_events: None, post: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "u1"}

    first = post(body, key="k-1")
    second = post(body, key="k-2")

    assert REPLAYED not in second.headers
    assert (first.json["data"]["balance"], second.json["data"]["balance"]) == (15, 25)
    assert counts(db) == (2, 3, 1)


def test_requests_without_a_key_are_never_replayed(login_events: None, post: Any, db: Any) -> None:
    body = {"eventId": "daily_login", "userId": "u1"}

    responses = [post(body) for _ in range(2)]

    assert all(REPLAYED not in r.headers for r in responses)
    assert [r.json["data"]["balance"] for r in responses] == [15, 25]
    assert counts(db) == (2, 3, 1)


# --- conflicts and invalid keys ----------------------------------------------------------------


@pytest.mark.parametrize(
    "other",
    [
        {"eventId": "daily_login", "userId": "u2"},
        {"eventId": "daily_login", "userId": "u1", "metadata": {"platform": "web"}},
        {"eventId": "daily_login", "userId": "u1", "metadata": {}},
        {"eventId": "other_event", "userId": "u1"},
    ],
    ids=["other-user", "other-metadata", "added-metadata", "other-event"],
)
def test_same_key_with_another_body_is_422_idempotency_conflict(
    login_events: None, define: Any, post: Any, db: Any, other: dict[str, Any]
) -> None:
    define("events", "other_event", {"points": {"fixed": 1}})
    first = post({"eventId": "daily_login", "userId": "u1"}, key="k-1")
    stored = counts(db)

    conflict = post(other, key="k-1")

    error = assert_error(conflict, 422, "idempotency_conflict")
    assert isinstance(error["details"], dict)
    assert REPLAYED not in conflict.headers
    assert counts(db) == stored
    assert balance(db, "u1") == 15
    assert db.users.count_documents({"project": PROJECT, "userId": "u2"}) == 0
    assert_replay_of(post({"eventId": "daily_login", "userId": "u1"}, key="k-1"), first)


def test_conflict_is_detected_for_a_body_key_as_well(
    login_events: None, post: Any, db: Any
) -> None:
    post({"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"})

    conflict = post({"eventId": "daily_login", "userId": "u2", "idempotencyKey": "k-1"})

    assert_error(conflict, 422, "idempotency_conflict")
    assert counts(db) == (1, 2, 1)


def test_a_timestamp_added_on_retry_is_another_request(
    login_events: None, post: Any, db: Any
) -> None:
    first = post({"eventId": "daily_login", "userId": "u1"}, key="k-1")
    stamp = first.json["data"]["timestamp"]

    retry = post({"eventId": "daily_login", "userId": "u1", "timestamp": stamp}, key="k-1")

    assert_error(retry, 422, "idempotency_conflict")
    assert counts(db) == (1, 2, 1)


def test_header_and_body_keys_that_differ_are_400_and_store_nothing(
    login_events: None, post: Any, db: Any
) -> None:
    response = post({"eventId": "daily_login", "userId": "u1", "idempotencyKey": "a"}, key="b")

    error = assert_error(response, 400, "validation_error")
    assert KEY_HEADER in error["details"]
    assert counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "tab\there", "new\nline", "\x00", 42, ["k"], {"k": 1}],
    ids=["empty", "256-chars", "tab", "newline", "nul", "number", "list", "object"],
)
def test_invalid_body_key_is_400_naming_idempotency_key(
    login_events: None, post: Any, db: Any, key: Any
) -> None:
    response = post({"eventId": "daily_login", "userId": "u1", "idempotencyKey": key})

    error = assert_error(response, 400, "validation_error")
    assert "idempotencyKey" in error["details"], error
    assert counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    "key", ["", "k" * 256, "del\x7f"], ids=["empty", "256-chars", "control-char"]
)
def test_invalid_header_key_is_400_naming_the_header(
    login_events: None, post: Any, db: Any, key: str
) -> None:
    response = post({"eventId": "daily_login", "userId": "u1"}, key=key)

    error = assert_error(response, 400, "validation_error")
    assert KEY_HEADER in error["details"], error
    assert counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    "key",
    ["k", "k" * 255, "order 4711 / retry #2", "clé-✓-ключ"],
    ids=["1", "255", "space", "utf8"],
)
def test_body_keys_of_1_to_255_printable_characters_are_accepted(
    login_events: None, post: Any, key: str
) -> None:
    body = {"eventId": "daily_login", "userId": "u1", "idempotencyKey": key}

    first = post(body)
    replay = post(body)

    assert first.status_code == 200, first.json
    assert_replay_of(replay, first)


@pytest.mark.parametrize("key", ["h", "h" * 255], ids=["1", "255"])
def test_header_keys_of_1_to_255_characters_are_accepted(
    login_events: None, post: Any, key: str
) -> None:
    first = post({"eventId": "daily_login", "userId": "u1"}, key=key)
    replay = post({"eventId": "daily_login", "userId": "u1"}, key=key)

    assert first.status_code == 200, first.json
    assert_replay_of(replay, first)


# --- failures store nothing; deactivation; projects --------------------------------------------


def test_failed_request_stores_no_response_and_a_retry_after_defining_is_applied(
    define: Any, post: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "k-1"}
    failed = post(body)
    assert_error(failed, 404, "event_not_found")
    assert counts(db) == (0, 0, 0)
    define("events", "daily_login", {"points": {"fixed": 10}})

    retry = post(body)

    assert retry.status_code == 200, retry.json
    assert REPLAYED not in retry.headers
    assert retry.json["data"]["balance"] == 10
    assert counts(db) == (1, 1, 1)
    assert_replay_of(post(body), retry)


def test_failed_request_with_header_key_is_retried_and_applied(
    define: Any, post: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "u1"}
    assert_error(post(body, key="k-1"), 404, "event_not_found")
    define("events", "daily_login", {"points": {"fixed": 10}})

    retry = post(body, key="k-1")

    assert retry.status_code == 200
    assert REPLAYED not in retry.headers
    assert counts(db) == (1, 1, 1)


def test_forbidden_old_event_stores_no_response_and_import_retry_is_applied(
    login_events: None, post: Any, db: Any
) -> None:
    body = {
        "eventId": "daily_login",
        "userId": "u1",
        "timestamp": iso(clock.now() - timedelta(days=8)),
        "idempotencyKey": "k-1",
    }
    assert_error(post(body), 403, "forbidden")

    retry = post(body, scope="events:write events:import")

    assert retry.status_code == 200, retry.json
    assert REPLAYED not in retry.headers
    assert counts(db) == (1, 2, 1)


def test_metadata_schema_failure_stores_no_response(define: Any, post: Any, db: Any) -> None:
    definition = {
        "points": {"perUnit": {"field": "orderValue", "rate": 2}},
        "metadataSchema": {"orderValue": "number"},
    }
    define("events", "purchase", definition)
    body = {"eventId": "purchase", "userId": "u1", "metadata": {"orderValue": "12"}}
    assert_error(post(body, key="k-1"), 400, "validation_error")
    define("events", "purchase", {"points": {"fixed": 1}})  # no metadataSchema any more

    retry = post(body, key="k-1")

    assert retry.status_code == 200, retry.json
    assert REPLAYED not in retry.headers
    assert counts(db)[0] == 1


def test_applied_key_keeps_replaying_after_the_event_is_deactivated(
    login_events: None, client: Any, auth: Any, post: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "u1"}
    first = post(body, key="k-1")
    assert client.delete("/admin/events/daily_login", headers=auth("admin")).status_code == 200
    assert_error(post(body, key="k-2"), 404, "event_not_found")

    replay = post(body, key="k-1")

    assert_replay_of(replay, first)
    assert counts(db) == (1, 2, 1)


def test_same_key_in_two_projects_applies_both(define: Any, post: Any, db: Any) -> None:
    define("events", "daily_login", {"points": {"fixed": 7}}, project="acme")
    define("events", "daily_login", {"points": {"fixed": 3}}, project="globex")
    body = {"eventId": "daily_login", "userId": "u1", "idempotencyKey": "shared"}

    acme = post(body, project="acme")
    globex = post(body, project="globex")

    for response in (acme, globex):
        assert response.status_code == 200
        assert REPLAYED not in response.headers
    assert (acme.json["data"]["balance"], globex.json["data"]["balance"]) == (7, 3)
    assert counts(db, "acme") == counts(db, "globex") == (1, 1, 1)
    assert_replay_of(post(body, project="globex"), globex)
    assert_replay_of(post(body, project="acme"), acme)


def test_same_key_with_another_body_in_another_project_is_no_conflict(
    define: Any, post: Any, db: Any
) -> None:
    for project in ("acme", "globex"):
        define("events", "daily_login", {"points": {"fixed": 7}}, project=project)
    post({"eventId": "daily_login", "userId": "u1"}, key="shared", project="acme")

    other = post({"eventId": "daily_login", "userId": "u2"}, key="shared", project="globex")

    assert other.status_code == 200, other.json
    assert REPLAYED not in other.headers
    assert counts(db, "globex") == (1, 1, 1)


# --- the OpenAPI document -----------------------------------------------------------------------


def test_openapi_documents_422_and_the_replayed_header_of_post_event(client: Any) -> None:
    spec = client.get("/openapi.json").json

    post = spec["paths"]["/event"]["post"]
    assert "422" in post["responses"]
    assert "400" in post["responses"]
    assert REPLAYED in post["responses"]["200"].get("headers", {})
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert "idempotencyKey" in schema["properties"]


# --- concurrency through a real server ---------------------------------------------------------


@pytest.fixture
def server(app: Any) -> Iterator[tuple[str, int]]:
    """The app served by werkzeug in a thread, one thread per request."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", httpd.server_port
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def http_post(
    address: tuple[str, int], body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any], str | None]:
    """POST /event over a fresh connection; (status, JSON body, Idempotent-Replayed)."""
    connection = http.client.HTTPConnection(*address, timeout=30)
    try:
        connection.request(
            "POST",
            "/event",
            body=json.dumps(body),
            headers={**headers, "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        payload = json.loads(response.read())
        return response.status, payload, response.getheader(REPLAYED)
    finally:
        connection.close()


def test_concurrent_requests_with_one_key_apply_once_and_replay_for_the_rest(
    login_events: None, server: tuple[str, int], auth: Any, db: Any
) -> None:
    body = {"eventId": "daily_login", "userId": "racer", "metadata": {"platform": "ios"}}
    headers = {**auth(), KEY_HEADER: "same-key"}

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: http_post(server, body, headers), range(16)))

    assert [status for status, _, _ in results] == [200] * 16, results
    bodies = [payload for _, payload, _ in results]
    assert bodies == [bodies[0]] * 16
    assert bodies[0]["data"]["balance"] == 15
    replayed = [flag for _, _, flag in results]
    assert replayed.count(None) == 1, replayed
    assert replayed.count("true") == 15, replayed
    assert counts(db) == (1, 2, 1)
    assert balance(db, "racer") == ledger_sum(db, "racer") == 15
    [event] = db.events.find({"project": PROJECT})
    assert {entry["ref"] for entry in db.ledger.find({"project": PROJECT})} == {event["_id"]}


def test_concurrent_requests_with_different_keys_for_one_user_are_all_applied(
    define: Any, server: tuple[str, int], auth: Any, db: Any
) -> None:
    define("events", "tap", {"points": {"fixed": 10}})
    body = {"eventId": "tap", "userId": "racer"}
    token = auth()

    def fire(number: int) -> tuple[int, dict[str, Any], str | None]:
        return http_post(server, body, {**token, KEY_HEADER: f"key-{number}"})

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(fire, range(16)))

    assert [status for status, _, _ in results] == [200] * 16, results
    assert all(flag is None for _, _, flag in results)
    balances = sorted(payload["data"]["balance"] for _, payload, _ in results)
    assert balances == [10 * n for n in range(1, 17)]
    assert counts(db) == (16, 16, 1)
    assert balance(db, "racer") == ledger_sum(db, "racer") == 160


def test_keyed_retry_that_reads_the_user_mid_save_is_replayed_not_applied_again(
    login_events: None, app: Any, auth: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The concurrent race above, made deterministic.

    The embedded store applies an update operator by operator (core.operators). The first
    request's save is paused between its `$set` (the new state and version) and its `$push`
    (the pending record that carries the key); the retry, which checked the same key before
    that save, loads the user right then. It must not apply the event a second time.
    """
    body = {"eventId": "daily_login", "userId": "u1"}
    assert app.test_client().post("/event", json=body, headers=auth()).status_code == 200
    keyed = {**auth(), KEY_HEADER: "k-1"}
    first_thread: list[threading.Thread] = []
    retry_claimed, mid_save, retry_loaded = threading.Event(), threading.Event(), threading.Event()
    set_field = operators._OPERATORS["$set"]
    original_load, original_save = UserStore.load, UserStore.save_records

    def is_first() -> bool:
        return threading.current_thread() in first_thread

    def pause_after_set(document: Any, field: str, value: Any) -> None:
        set_field(document, field, value)
        if is_first() and field == "version":  # the users' save sets it last
            mid_save.set()
            retry_loaded.wait(timeout=2)  # never set when the store isolates the read

    def save_after_the_retry_claimed(self: UserStore, *args: Any, **kwargs: Any) -> bool:
        if is_first():
            assert retry_claimed.wait(timeout=5)
        return original_save(self, *args, **kwargs)

    def load_mid_save(self: UserStore, *args: Any) -> Any:
        if is_first():
            return original_load(self, *args)
        retry_claimed.set()  # the retry loads the user only after checking its key
        assert mid_save.wait(timeout=5)
        stored = original_load(self, *args)
        retry_loaded.set()
        return stored

    monkeypatch.setitem(operators._OPERATORS, "$set", pause_after_set)
    monkeypatch.setattr(UserStore, "save_records", save_after_the_retry_claimed)
    monkeypatch.setattr(UserStore, "load", load_mid_save)
    first: list[Any] = []
    worker = threading.Thread(
        target=lambda: first.append(app.test_client().post("/event", json=body, headers=keyed))
    )
    first_thread.append(worker)
    worker.start()

    retry = app.test_client().post("/event", json=body, headers=keyed)
    worker.join(timeout=10)

    assert retry_loaded.is_set()
    [original] = first
    assert original.status_code == 200 and REPLAYED not in original.headers
    assert_replay_of(retry, original)
    assert counts(db) == (2, 3, 1)
    assert balance(db, "u1") == ledger_sum(db, "u1") == 25
