"""Random sequences of events, retries, batches, crashes and recoveries through the API.

After every step: each request is applied at most once (a retried key never twice), every
user's balance is what the applied requests earned, and balance == Σ ledger counting the
entries still pending in the user document. After a recovery nothing is pending and balance ==
Σ ledger exactly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from core import clock
from core.clients import Clients
from core.settings import Settings
from rules.usecases.reconcile import sweep_pending
from tests.conftest import TEST_SECRET
from tests.support.watched import Crash, CrashingDatabase
from web import create_app
from web.auth import mint_token

PROJECT = "acme"
USERS = ("ann", "bob")
POINTS = {"login": lambda value: 10, "buy": lambda value: 2 * value}

users = st.sampled_from(USERS)
kinds = st.sampled_from(sorted(POINTS))
values = st.integers(min_value=0, max_value=50)


class ExactlyOnce(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.clients = Clients(Settings(jwt_secret=TEST_SECRET, rate_limit="100000/minute"))
        app = create_app(self.clients.settings, self.clients)
        self.client = app.test_client()
        self.db = self.clients.mongo
        token = mint_token(self.clients.settings.signing_keys(), PROJECT, ["events:write", "admin"])
        self.headers = {"Authorization": f"Bearer {token}"}
        staff = mint_token(
            self.clients.settings.signing_keys(), PROJECT, ["users:write"], subject="support"
        )
        self.staff = {"Authorization": f"Bearer {staff}"}
        self.adjustments: dict[str, tuple[str, int]] = {}  # applied: key -> (user, delta)
        self.client.put("/admin/events/login", json={"points": {"fixed": 10}}, headers=self.headers)
        self.client.put(
            "/admin/events/buy",
            json={"points": {"perUnit": {"field": "value", "rate": 2}}},
            headers=self.headers,
        )
        self.requests: dict[int, dict[str, Any]] = {}  # n -> body (n is in its metadata)
        self.keys: dict[str, int] = {}  # idempotency key -> n of its request
        self.applied: set[int] = set()
        self.bound: set[str] = set()  # keys whose first use reached the store

    # -- steps -----------------------------------------------------------------------------

    def _new_request(self, user: str, kind: str, value: int, keyed: bool) -> dict[str, Any]:
        n = len(self.requests)
        body: dict[str, Any] = {
            "eventId": kind,
            "userId": user,
            "metadata": {"value": value, "n": n},
        }
        if keyed:
            body["idempotencyKey"] = f"key-{n}"
            self.keys[body["idempotencyKey"]] = n
        self.requests[n] = body
        return body

    def _post(self, body: dict[str, Any]) -> Any:
        return self.client.post("/event", json=body, headers=self.headers)

    def _expect_applied_once(self, body: dict[str, Any], response: Any) -> None:
        n = body["metadata"]["n"]
        assert response.status_code == 200, response.json
        replayed = response.headers.get("Idempotent-Replayed") == "true"
        assert replayed == (n in self.applied)
        self.applied.add(n)
        if "idempotencyKey" in body:
            self.bound.add(body["idempotencyKey"])

    @rule(user=users, kind=kinds, value=values, keyed=st.booleans())
    def send(self, user: str, kind: str, value: int, keyed: bool) -> None:
        body = self._new_request(user, kind, value, keyed)
        self._expect_applied_once(body, self._post(body))

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.keys)))
        body = self.requests[self.keys[key]]
        self._expect_applied_once(body, self._post(body))

    @precondition(lambda self: self.bound)
    @rule(data=st.data())
    def reuse_key_for_another_request(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.bound)))
        body = self.requests[self.keys[key]]
        other = {**body, "metadata": {**body["metadata"], "value": body["metadata"]["value"] + 1}}
        response = self._post(other)
        assert response.status_code == 422
        assert response.json["error"]["code"] == "idempotency_conflict"

    @rule(
        items=st.lists(
            st.tuples(users, kinds, values, st.booleans(), st.booleans()), min_size=1, max_size=5
        ),
        data=st.data(),
    )
    def batch(self, items: list[tuple[str, str, int, bool, bool]], data: st.DataObject) -> None:
        bodies: list[dict[str, Any] | None] = []
        for user, kind, value, keyed, valid in items:
            if self.keys and data.draw(st.booleans(), label="retry an earlier key"):
                bodies.append(
                    self.requests[self.keys[data.draw(st.sampled_from(sorted(self.keys)))]]
                )
            elif valid:
                bodies.append(self._new_request(user, kind, value, keyed))
            else:
                bodies.append(None)  # an invalid item: rejected, nothing applied
        sent = [body if body is not None else {"eventId": "login"} for body in bodies]
        response = self.client.post("/events/batch", json={"events": sent}, headers=self.headers)
        assert response.status_code == 200, response.json
        results = response.json["data"]["results"]
        assert [r["index"] for r in results] == list(range(len(sent)))
        for body, result in zip(bodies, results, strict=True):
            if body is None:
                assert result["status"] == 400
                continue
            n = body["metadata"]["n"]
            assert result["status"] == 200, result
            assert result.get("replayed", False) == (n in self.applied)
            self.applied.add(n)
            if "idempotencyKey" in body:
                self.bound.add(body["idempotencyKey"])

    @rule(user=users, kind=kinds, value=values, keyed=st.booleans(), survive=st.integers(0, 6))
    def crash(self, user: str, kind: str, value: int, keyed: bool, survive: int) -> None:
        """The process dies at a write while handling a new request (or a retry)."""
        body = self._new_request(user, kind, value, keyed)
        healthy = self.clients.mongo
        self.clients.__dict__["mongo"] = CrashingDatabase(healthy, survive=survive)
        try:
            self._post(body)
        except Crash:
            pass
        else:
            self.applied.add(body["metadata"]["n"])  # it finished before the crash point
        finally:
            self.clients.__dict__["mongo"] = healthy
        if self._stored_ns().count(body["metadata"]["n"]):
            self.applied.add(body["metadata"]["n"])
        if keyed and self.db.idempotency_keys.find_one({"key": body["idempotencyKey"]}):
            # The key is bound once the request is decided: after the user's load has finished
            # what was pending, so how many writes that takes depends on the user.
            self.bound.add(body["idempotencyKey"])
        if keyed and body["metadata"]["n"] in self.applied:  # bound before the save
            assert body["idempotencyKey"] in self.bound

    def _adjust(self, user: str, delta: int, key: str) -> Any:
        body = {"delta": delta, "reason": f"support {key}", "idempotencyKey": key}
        return self.client.post(f"/users/{user}/adjustments", json=body, headers=self.staff)

    @rule(user=users, delta=st.integers(-40, 40).filter(bool))
    def adjust(self, user: str, delta: int) -> None:
        """A manual credit or debit: applied once, never below 0, 404 for a user not seen."""
        key = f"adj-{len(self.requests)}-{len(self.adjustments)}-{delta}-{user}"
        exists = self.db.users.find_one({"userId": user}) is not None
        before = self._expected_balance(user)
        response = self._adjust(user, delta, key)
        if not exists:
            assert response.status_code == 404
        elif before + delta < 0:
            assert response.status_code == 400
        else:
            assert response.status_code == 200, response.json
            assert response.json["data"]["balance"] == before + delta
            self.adjustments[key] = (user, delta)

    @rule(user=users, delta=st.integers(1, 40), survive=st.integers(0, 6))
    def crash_adjustment(self, user: str, delta: int, survive: int) -> None:
        """The process dies at a write of a support credit: it took the events' path, so it is
        applied at most once, and finished by the user's next request or the sweep."""
        key = f"crashed-adj-{len(self.requests)}-{len(self.adjustments)}-{user}"
        healthy = self.clients.mongo
        self.clients.__dict__["mongo"] = CrashingDatabase(healthy, survive=survive)
        try:
            self._adjust(user, delta, key)
        except Crash:
            pass
        finally:
            self.clients.__dict__["mongo"] = healthy
        if self._adjustment_entries(key) == 1:
            self.adjustments[key] = (user, delta)
        else:
            assert self._adjustment_entries(key) == 0

    def _adjustment_entries(self, key: str) -> int:
        """How many ledger entries the adjustment with `key` has, written or still pending."""
        reason = f"support {key}"
        ids = {entry["_id"] for entry in self.db.ledger.find({"reason": reason})}
        for user in self.db.users.find():
            for record in user["pending"]:
                ids.update(e["_id"] for e in record["ledger"] if e["reason"] == reason)
        return len(ids)

    @precondition(lambda self: self.adjustments)
    @rule(data=st.data())
    def retry_adjustment(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.adjustments)))
        user, delta = self.adjustments[key]
        response = self._adjust(user, delta, key)
        assert response.status_code == 200, response.json
        assert response.headers.get("Idempotent-Replayed") == "true"

    @rule()
    def recover(self) -> None:
        sweep_pending(self.db, clock.now(), grace=timedelta(0))
        for user in self.db.users.find():
            assert user["pending"] == []
            assert user["points"]["balance"] == self._ledger_total(user["userId"], pending=False)

    # -- invariants ------------------------------------------------------------------------

    def _stored_ns(self) -> list[int]:
        """The request number of every applied event: in the log or still pending."""
        records = {r["_id"]: r for r in self.db.events.find()}
        for user in self.db.users.find():
            for pending in user["pending"]:
                if pending.get("event") is not None:  # adjustments log no event
                    records.setdefault(pending["event"]["_id"], pending["event"])
        return [record["metadata"]["n"] for record in records.values()]

    def _ledger_total(self, user_id: str, pending: bool = True) -> int:
        entries = {e["_id"]: e["delta"] for e in self.db.ledger.find({"userId": user_id})}
        if pending:
            user = self.db.users.find_one({"userId": user_id}) or {"pending": []}
            for record in user["pending"]:
                for entry in record["ledger"]:
                    entries.setdefault(entry["_id"], entry["delta"])
        return sum(entries.values())

    @invariant()
    def each_request_is_applied_at_most_once(self) -> None:
        if not hasattr(self, "db"):
            return
        stored = self._stored_ns()
        assert len(stored) == len(set(stored))
        assert set(stored) == self.applied

    @invariant()
    def balances_are_what_the_applied_requests_earned(self) -> None:
        if not hasattr(self, "db"):
            return
        for user_id in USERS:
            user = self.db.users.find_one({"userId": user_id})
            balance = user["points"]["balance"] if user else 0
            assert balance == self._expected_balance(user_id) == self._ledger_total(user_id)

    def _expected_balance(self, user_id: str) -> int:
        """What the applied events earned, plus the applied adjustments."""
        earned = sum(
            POINTS[body["eventId"]](body["metadata"]["value"])
            for n, body in self.requests.items()
            if n in self.applied and body["userId"] == user_id
        )
        adjusted = sum(delta for user, delta in self.adjustments.values() if user == user_id)
        return earned + adjusted


# Each example replays its steps through the app: fewer of them than hypothesis's default 100.
ExactlyOnce.TestCase.settings = settings(max_examples=40, stateful_step_count=25)
test_exactly_once = ExactlyOnce.TestCase
