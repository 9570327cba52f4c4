"""Where the time of one request goes: `python -m tests.bench.profile` (cProfile).

Builds the embedded app in this process, stores `--users` users through POST /events/batch,
then profiles `--requests` POST /event requests (or `--batches` POST /events/batch of 100)
through the app's WSGI interface (Flask's test client: no sockets, so the frames are the
app's own), and prints the function calls per request and the top frames by own time and by
cumulative time. The echo app of tests.bench.http is profiled the same way as the floor.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
from typing import Any

from tests.bench.http import BATCH, METADATA, RATE_LIMIT, echo_app, json_headers, token


def laurel_app() -> Any:
    from core.settings import Settings
    from web import create_app

    return create_app(Settings.from_env({"RATE_LIMIT": RATE_LIMIT}))


def store_users(client: Any, headers: dict[str, str], count: int) -> None:
    for first in range(0, count, BATCH):
        items = [
            {"eventId": "daily_login", "userId": f"u{n}", "metadata": METADATA}
            for n in range(first, min(first + BATCH, count))
        ]
        answer = client.post("/events/batch", data=json.dumps({"events": items}), headers=headers)
        assert answer.status_code == 200, answer.data[:300]


def bodies(users: int, requests: int, batches: bool) -> list[tuple[str, bytes]]:
    generator = random.Random(7)
    if batches:
        return [
            (
                "/events/batch",
                json.dumps(
                    {
                        "events": [
                            {"eventId": "daily_login", "userId": f"u{generator.randrange(users)}"}
                            for _ in range(BATCH)
                        ]
                    }
                ).encode(),
            )
            for _ in range(requests)
        ]
    return [
        (
            "/event",
            json.dumps(
                {
                    "eventId": "daily_login",
                    "userId": f"u{generator.randrange(users)}",
                    "metadata": METADATA,
                }
            ).encode(),
        )
        for _ in range(requests)
    ]


def profile(app: Any, work: list[tuple[str, bytes]], headers: dict[str, str]) -> pstats.Stats:
    client = app.test_client()
    for path, body in work[:20]:  # warm up: caches, first compiles
        client.post(path, data=body, headers=headers)
    profiler = cProfile.Profile()
    profiler.enable()
    for path, body in work:
        answer = client.post(path, data=body, headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code} {answer.data[:300]!r}")
    profiler.disable()
    return pstats.Stats(profiler)


def report(title: str, stats: pstats.Stats, requests: int, top: int) -> None:
    calls = stats.total_calls  # type: ignore[attr-defined]
    seconds = stats.total_tt  # type: ignore[attr-defined]
    print(
        f"== {title}: {calls / requests:,.0f} function calls and "
        f"{seconds / requests * 1000:.2f} ms (under cProfile) per request"
    )
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats(order).print_stats(top)
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        print(f"-- by {order}")
        print("\n".join(lines[start:]).rstrip())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--batch", action="store_true", help="profile POST /events/batch")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-echo", action="store_true", help="skip the echo app")
    args = parser.parse_args(argv)
    headers = json_headers(token())

    app = laurel_app()
    store_users(app.test_client(), headers, args.users)
    work = bodies(args.users, args.requests, args.batch)
    report("laurel " + work[0][0], profile(app, work, headers), args.requests, args.top)
    if not args.no_echo:
        stats = profile(echo_app(), work, headers)
        report("echo " + work[0][0], stats, args.requests, args.top)


if __name__ == "__main__":
    main()
