"""Webhook receivers cannot stall Laurel or reach inside its network (issue 19, findings 5
and 6): a total deadline per attempt, a cap on the answer read, one tenant's slow receiver
never delaying another's deliveries, and the connection going to the address that was
checked, with no internal address or error text in the tenant's delivery log."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from rq.job import Job

from core.clients import Clients
from jobs import http_post, webhooks
from jobs.delivery_slots import SLOTS, free_slot, take_slot
from jobs.queue import InProcessQueue, RedisQueue, use_queue
from jobs.runtime import running_with
from tests.support.definitions import TEN_POINTS
from tests.support.jobs import work
from tests.support.waiting import TIMEOUT, wait_for
from tests.support.webhooks import Receiver, subscribe

DRIP_AT_MOST = 60.0  # seconds a dripping receiver goes on before it finishes its answer


class RawServer:
    """A TCP server on 127.0.0.1 answering each connection with `answer(connection)`."""

    def __init__(self, answer: Callable[[socket.socket], None]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.sent = 0
        self.closed = threading.Event()
        self.answer = answer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)  # the request (small enough for one read here)
            try:
                self.answer(connection)
            except OSError:
                pass
            self.closed.set()

    def send(self, connection: socket.socket, data: bytes) -> None:
        connection.sendall(data)
        self.sent += len(data)


@pytest.fixture
def server_factory() -> Iterator[Callable[[Callable[[RawServer, socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def make(answer: Callable[[RawServer, socket.socket], None]) -> RawServer:
        holder: list[RawServer] = []
        server = RawServer(lambda connection: answer(holder[0], connection))
        holder.append(server)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.sock.close()


def post(port: int, *, deadline: float = 2.0, **options: Any) -> int:
    return http_post.post(
        f"http://127.0.0.1:{port}/hook",
        b"{}",
        {"Content-Type": "application/json"},
        may_reach_private=options.pop("may_reach_private", True),
        connect_timeout=2.0,
        deadline=deadline,
        **options,
    )


def test_a_receiver_dripping_its_answer_is_cut_at_the_deadline(server_factory: Any) -> None:
    def drip(server: RawServer, connection: socket.socket) -> None:
        # A byte every 0.2 s (each read is quick) until the client hangs up, which makes the
        # send fail; the whole answer comes only after DRIP_AT_MOST, far past the deadline.
        server.send(connection, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ")
        stop = time.monotonic() + DRIP_AT_MOST
        while time.monotonic() < stop:
            server.send(connection, b"x")
            time.sleep(0.2)
        server.send(connection, b"\r\n\r\n")

    server = server_factory(drip)

    with pytest.raises(http_post.PostFailed) as failure:
        post(server.port, deadline=1.5)

    assert failure.value.message == "no answer within 1.5 seconds"
    assert failure.value.retryable


def test_a_huge_answer_is_read_only_up_to_the_cap(server_factory: Any) -> None:
    def flood(server: RawServer, connection: socket.socket) -> None:
        server.send(connection, b"HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n")
        chunk = b"x" * 65536
        while server.sent < 209715200:
            server.send(connection, chunk)

    server = server_factory(flood)

    status = post(server.port, deadline=30)
    wait_for(server.closed.is_set, "the flooding server to see the client hang up")

    assert status == 200
    # The client hung up after MAX_RESPONSE_BYTES; what the kernel buffered is all that left.
    assert server.sent < 32 * 1024 * 1024


def test_the_delivery_log_shows_the_deadline_not_the_socket_error(
    server_factory: Any,
    login: Any,
    client: Any,
    auth: Any,
    send: Any,
    db: Any,
    queue: RedisQueue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def silent(server: RawServer, connection: socket.socket) -> None:
        connection.settimeout(TIMEOUT)
        while connection.recv(65536):  # answers nothing; returns when the client hangs up
            pass

    server = server_factory(silent)
    monkeypatch.setattr(webhooks, "DEADLINE", 1.0)
    subscribe(client, auth, f"http://127.0.0.1:{server.port}/hook")
    send("login", "ann")
    work(queue)

    attempts = db.deliveries.find_one()["attempts"]
    assert {a["error"] for a in attempts} == {"no answer within 1 seconds"}


@pytest.fixture
def login(define: Any) -> None:
    define("events", "login", TEN_POINTS)


def test_a_rebinding_resolver_cannot_reach_loopback(
    login: Any,
    client: Any,
    auth: Any,
    send: Any,
    db: Any,
    settings: Any,
    receiver: Receiver,
    queue: RedisQueue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The name answers a public address first (the check), then 127.0.0.1 (the connection)."""
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34"])
    asked: list[str] = []

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example":
            return real(host, *args, **kwargs)
        asked.append(host)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    connected: list[Any] = []
    real_connect = socket.socket.connect

    def recording_connect(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[1] == port:  # not Redis's connections
            connected.append(address)
        if address[0] == "93.184.216.34":
            raise OSError("network unreachable (test)")  # no outside network in tests
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    strict = Clients(replace(settings, webhook_allow_private=False))
    strict.__dict__["mongo"] = db
    subscribe(client, auth, f"http://rebind.example:{port}/hooks")
    send("login", "ann")

    with running_with(strict):
        work(queue)

    assert receiver.requests == []
    assert connected[0] == ("93.184.216.34", port)  # the address that was checked
    assert ("127.0.0.1", port) not in connected
    attempts = db.deliveries.find_one()["attempts"]
    assert all("127.0.0.1" not in a["error"] and "93.184" not in a["error"] for a in attempts)
    # Later attempts resolve again, get 127.0.0.1, and are refused before connecting.
    assert attempts[0]["error"] == "the connection failed"
    assert {a["error"] for a in attempts[1:]} <= {
        "the destination resolves to a non-public address"
    }


def test_a_refused_private_destination_is_logged_without_its_address(
    login: Any, client: Any, auth: Any, send: Any, db: Any, settings: Any, queue: RedisQueue
) -> None:
    strict = Clients(replace(settings, webhook_allow_private=False))
    strict.__dict__["mongo"] = db
    subscribe(client, auth, "http://10.20.30.40:8080/internal")
    send("login", "ann")

    with running_with(strict):
        work(queue)

    [attempt] = db.deliveries.find_one()["attempts"]
    assert attempt["error"] == "the destination resolves to a non-public address"


def test_one_tenants_slow_receiver_does_not_delay_anothers_deliveries(
    define: Any, client: Any, auth: Any, clients: Clients, receiver: Receiver, server_factory: Any
) -> None:
    release = threading.Event()

    def stalled(server: RawServer, connection: socket.socket) -> None:
        release.wait(30)
        server.send(connection, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    slow = server_factory(stalled)
    use_queue(clients, InProcessQueue(clients))
    for project, url in (("slowco", f"http://127.0.0.1:{slow.port}/h"), ("acme", receiver.url)):
        define("events", "login", {"points": {"fixed": 1}}, project=project)
        subscribe(client, auth, url, project=project)
    try:
        for user in ("a", "b", "c", "d", "e"):  # more than the queue has threads
            events = {"eventId": "login", "userId": user}
            assert (
                client.post("/event", json=events, headers=auth(project="slowco")).status_code
                == 200
            )
        client.post("/event", json={"eventId": "login", "userId": "z"}, headers=auth())

        wait_for(lambda: len(receiver.requests) == 1, "acme's delivery")
        assert not release.is_set()  # acme's delivery did not wait for slowco's
    finally:
        release.set()


def test_a_project_holding_its_delivery_slots_does_not_hold_the_workers(
    define: Any,
    client: Any,
    auth: Any,
    db: Any,
    receiver: Receiver,
    queue: RedisQueue,
    redis_client: Any,
) -> None:
    for project in ("busyco", "acme"):
        define("events", "login", {"points": {"fixed": 1}}, project=project)
        subscribe(client, auth, receiver.url, project=project)
    # busyco's slow deliveries occupy every slot it has (on other workers).
    for holder in range(SLOTS):
        assert take_slot(redis_client, "busyco", f"other-{holder}", timedelta(minutes=5))
    for project in ("busyco", "acme"):
        body = {"eventId": "login", "userId": "u"}
        assert client.post("/event", json=body, headers=auth(project=project)).status_code == 200

    work(queue)

    assert [b["project"] for b in receiver.bodies()] == ["acme"]
    busy = db.deliveries.find_one({"project": "busyco"})
    assert busy["attempts"] == [] and busy["status"] == "pending"
    scheduled = queue.rq.scheduled_job_registry
    assert len(scheduled.get_job_ids()) == 1  # deferred, not waiting on a worker

    for holder in range(SLOTS):
        free_slot(redis_client, "busyco", f"other-{holder}")
    for job_id in scheduled.get_job_ids():  # what RQ's scheduler does when they fall due
        scheduled.remove(job_id)
        queue.rq.enqueue_job(Job.fetch(job_id, connection=queue.rq.connection))
    work(queue)

    assert sorted(b["project"] for b in receiver.bodies()) == ["acme", "busyco"]
