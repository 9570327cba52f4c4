"""HTTP benchmark of the embedded server: `make bench` (or `python -m tests.bench.http`).

Starts, each in its own process and in the server `make run` uses (werkzeug, threaded, on
127.0.0.1, in an interpreter settled by core.interpreter):

- Laurel's embedded default with 100 users stored ("small"),
- Laurel's embedded default with `--users` users stored ("large"), stored through
  POST /events/batch (timed: that is the "storing users through batches" figure),
- a minimal flask-smorest app that validates an event body with a marshmallow schema and
  echoes it (POST /event, and POST /events/batch for up to 100 of them): the framework's own
  floor on this machine.

Then drives each with the same load generator (`--connections` clients, one thread each,
http.client; werkzeug's server closes the connection after each answer, so each request
opens a new one) for `--seconds` per phase, the phases interleaved round by round in
rotating order so that a busy machine slows all alike, and prints the medians: requests/s and
latency p50/p99 per target, events/s for batches, and the ratios. Only the ratios mean
anything across machines.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BATCH = 100
SMALL_USERS = 100
METADATA = {"platform": "ios", "appVersion": "2.1.4", "sessionLength": 183}
# High enough never to refuse a request here: the limiter still counts every one of them.
RATE_LIMIT = "100000000/minute"


# --- the servers (each in its own process) ------------------------------------------------


def echo_app() -> Any:
    """The floor: flask-smorest validating and echoing an event, nothing else."""
    from flask import Flask
    from flask.views import MethodView
    from flask_smorest import Api, Blueprint
    from marshmallow import Schema, fields, validate

    class EchoEvent(Schema):
        eventId = fields.String(required=True, validate=validate.Length(1, 64))
        userId = fields.String(required=True, validate=validate.Length(1, 128))
        metadata = fields.Dict(load_default=dict)
        timestamp = fields.Raw(load_default=None)
        idempotencyKey = fields.String(load_default=None)

    class EchoBatch(Schema):
        events = fields.List(
            fields.Nested(EchoEvent), required=True, validate=validate.Length(1, BATCH)
        )

    app = Flask("echo")
    app.config.update(API_TITLE="echo", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    blp = Blueprint("echo", "echo")

    @blp.route("/event")
    class Echo(MethodView):
        @blp.arguments(EchoEvent)
        @blp.response(200, EchoEvent)
        def post(self, payload: dict[str, Any]) -> dict[str, Any]:
            return payload

    @blp.route("/events/batch")
    class EchoBatchResource(MethodView):
        @blp.arguments(EchoBatch)
        @blp.response(200, EchoBatch)
        def post(self, payload: dict[str, Any]) -> dict[str, Any]:
            return payload

    api.register_blueprint(blp)
    return app


def serve(kind: str) -> None:
    """Run one server on a free port of 127.0.0.1 and print the port on stdout."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    from core import interpreter

    handler: type[WSGIRequestHandler] = WSGIRequestHandler
    if kind == "echo":
        app = echo_app()
    else:
        from core.settings import Settings
        from web import create_app
        from web.requestlimits import EnvelopeRequestHandler

        app = create_app(Settings.from_env({"RATE_LIMIT": RATE_LIMIT}))
        handler = EnvelopeRequestHandler
    # What `make run` does (web.cli.serve_demo): werkzeug's run_simple, threaded, in an
    # interpreter settled by core.interpreter; Laurel with its request handler, the echo app
    # with werkzeug's.
    interpreter.settle()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=handler)
    print(server.server_port, flush=True)
    server.serve_forever()


@dataclass
class Server:
    name: str
    process: subprocess.Popen[str]
    port: int

    @classmethod
    def start(cls, name: str, kind: str, checkout: str | None = None) -> Server:
        """`checkout`: serve the code of another checkout (tests.bench.compare)."""
        environment = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "REDIS_URL")}
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.http", "--serve", kind],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=environment,
            cwd=checkout,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.strip().isdigit():
            process.kill()
            raise SystemExit(f"the {name} server did not start (got {line!r})")
        return cls(name, process, int(line))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# --- the load generator -------------------------------------------------------------------


@dataclass
class Run:
    requests: int = 0
    events: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def event_rate(self) -> float:
        return self.events / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def json_headers(bearer: str) -> dict[str, str]:
    """The headers of every request the benchmarks send: a JSON body and the bearer token."""
    return {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"}


Body = Callable[[random.Random], tuple[bytes, int]]  # (request body, events it carries)


def drive(port: int, path: str, body: Body, token: str, connections: int, seconds: float) -> Run:
    """`connections` clients posting `body()` to `path` for `seconds` (http.client opens a new
    connection when the server has closed the last one, as werkzeug's does after each answer)."""
    headers = json_headers(token)
    results: list[Run] = []
    failures: list[str] = []
    start = threading.Barrier(connections + 1)
    lock = threading.Lock()

    def worker(seed: int) -> None:
        generator = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        run = Run()
        start.wait()
        deadline = time.monotonic() + seconds
        while (now := time.monotonic()) < deadline:
            payload, events = body(generator)
            connection.request("POST", path, payload, headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200:
                failures.append(f"{path}: {response.status} {answer[:200]!r}")
                break
            run.latencies.append(time.monotonic() - now)
            run.requests += 1
            run.events += events
        connection.close()
        with lock:
            results.append(run)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(failures[0])
    total = Run(seconds=time.monotonic() - started)
    for run in results:
        total.requests += run.requests
        total.events += run.events
        total.latencies += run.latencies
    return total


def event(user_count: int) -> Body:
    def body(generator: random.Random) -> tuple[bytes, int]:
        user = f"u{generator.randrange(user_count)}"
        item = {"eventId": "daily_login", "userId": user, "metadata": METADATA}
        return json.dumps(item).encode(), 1

    return body


def batch(user_count: int, keyed: bool = False) -> Body:
    """Batches of BATCH events; `keyed`: each with its own idempotencyKey, as the SDK's
    track_many sends them."""

    def body(generator: random.Random) -> tuple[bytes, int]:
        items: list[dict[str, Any]] = [
            {"eventId": "daily_login", "userId": f"u{generator.randrange(user_count)}"}
            for _ in range(BATCH)
        ]
        if keyed:
            for item in items:
                item["idempotencyKey"] = uuid.uuid4().hex  # (never a replay: seeds repeat)
        return json.dumps({"events": items}).encode(), BATCH

    return body


def store_users(server: Server, token: str, count: int, connections: int) -> float:
    """Create users u0..u{count-1} through batches of new users; returns users/s."""
    headers = json_headers(token)
    next_start = iter(range(0, count, BATCH))
    lock = threading.Lock()
    failures: list[str] = []

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        while not failures:
            with lock:
                first = next(next_start, None)
            if first is None:
                break
            items = [
                {"eventId": "daily_login", "userId": f"u{n}", "metadata": METADATA}
                for n in range(first, min(first + BATCH, count))
            ]
            connection.request("POST", "/events/batch", json.dumps({"events": items}), headers)
            response = connection.getresponse()
            answer = json.loads(response.read())
            bad = [r for r in answer.get("data", {}).get("results", []) if r["status"] != 200]
            if response.status != 200 or bad:
                failures.append(f"storing users: {response.status} {str(answer)[:300]}")
            if first % 10_000 == 0 and first:
                print(f"  stored {first:,} users", file=sys.stderr)
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(failures[0])
    return count / (time.monotonic() - started)


# --- the report -------------------------------------------------------------------------------


def token() -> str:
    from core.settings import Settings
    from web.auth import mint_token
    from web.demo import DEMO_PROJECT

    keys = Settings.from_env({}).signing_keys()
    return mint_token(keys, DEMO_PROJECT, ["events:write"], subject="bench", ttl=3600)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", choices=["laurel", "echo"], help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, default=100_000, help="users of the large server")
    parser.add_argument("--seconds", type=float, default=3.0, help="per phase and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return

    print(
        f"$ python -m tests.bench.http --users {args.users} --seconds {args.seconds:g} "
        f"--rounds {args.rounds} --connections {args.connections}"
    )
    bearer = token()
    servers = {
        name: Server.start(name, kind)
        for name, kind in (("echo", "echo"), ("small", "laurel"), ("large", "laurel"))
    }
    try:
        store_users(servers["small"], bearer, SMALL_USERS, 1)
        users_per_second = store_users(servers["large"], bearer, args.users, args.connections)
        print(
            f"stored {args.users:,} users through POST /events/batch: "
            f"{users_per_second:,.0f} users/s ({args.users / users_per_second:,.0f} s)"
        )
        phases: dict[str, Callable[[], Run]] = {
            "echo /event": lambda: run_on("echo", "/event", event(SMALL_USERS)),
            "laurel /event, 100 users": lambda: run_on("small", "/event", event(SMALL_USERS)),
            f"laurel /event, {args.users:,} users": lambda: run_on(
                "large", "/event", event(args.users)
            ),
            "echo /events/batch": lambda: run_on("echo", "/events/batch", batch(SMALL_USERS)),
            "laurel /events/batch, 100 users": lambda: run_on(
                "small", "/events/batch", batch(SMALL_USERS)
            ),
            "laurel /events/batch keyed, 100 users": lambda: run_on(
                "small", "/events/batch", batch(SMALL_USERS, keyed=True)
            ),
        }

        def run_on(name: str, path: str, body: Body) -> Run:
            server = servers[name]
            return drive(server.port, path, body, bearer, args.connections, args.seconds)

        runs: dict[str, list[Run]] = {name: [] for name in phases}
        names = list(phases)
        for round_number in range(args.rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                runs[name].append(phases[name]())
            print(f"  round {round_number + 1}/{args.rounds}", file=sys.stderr)
    finally:
        for server in servers.values():
            server.stop()

    def median(name: str, events: bool = False) -> float:
        return statistics.median(r.event_rate if events else r.rate for r in runs[name])

    for name in names:
        latencies = Run(latencies=[t for r in runs[name] for t in r.latencies])
        events = "batch" in name
        rate = median(name, events)
        print(
            f"{name:40} {rate:9,.0f} {'events' if events else 'requests'}/s"
            f"   p50 {latencies.percentile(0.5):7.1f} ms   p99 {latencies.percentile(0.99):7.1f} ms"
        )
    single, large = names[1], names[2]
    print(f"  POST /event vs echo floor:                {median(single) / median(names[0]):6.2f}x")
    print(
        f"  POST /events/batch vs echo floor (events/s): "
        f"{median(names[4], True) / median(names[3], True):6.2f}x"
    )
    scaling = median(large) / median(single)
    print(f"  {args.users:,} users vs 100 users (events/s):  {scaling:6.2f}x")
    print(
        f"  batch of {BATCH} vs single requests (events/s): "
        f"{median(names[4], True) / median(single):6.2f}x"
    )
    print(
        f"  keyed batch of {BATCH} vs single requests (events/s): "
        f"{median(names[5], True) / median(single):6.2f}x"
    )


if __name__ == "__main__":
    main()
