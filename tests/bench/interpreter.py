"""The garbage collector's settings of core.interpreter against Python's defaults:
`python -m tests.bench.interpreter` (part of `make bench`).

Each run is a process of its own: it builds the embedded app, stores `--users` users, settles
the interpreter (core.interpreter.settle) or leaves Python's defaults, and times `--requests`
POST /event through the test client. Runs with and without alternate, `--pairs` times (so that
a busy machine slows both alike); the medians and their ratio are printed. The test client
runs one thread, so the switch interval, the other half of `settle`, plays no part here: the
HTTP benchmark (tests.bench.http) runs its servers settled.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from core import interpreter
from tests.bench.http import json_headers, token
from tests.bench.profile import bodies, laurel_app, store_users

SETTINGS = ("defaults", "settled")


def run(users: int, requests: int, settled: bool) -> float:
    """Seconds per request of one process's run."""
    headers = json_headers(token())
    app = laurel_app()
    store_users(app.test_client(), headers, users)
    if settled:
        interpreter.settle()
    client = app.test_client()
    work = bodies(users, requests + 200, False)
    for path, body in work[:200]:  # warm up: caches, first compiles
        client.post(path, data=body, headers=headers)
    started = time.perf_counter()
    for path, body in work[200:]:
        client.post(path, data=body, headers=headers)
    return (time.perf_counter() - started) / requests


def in_process(users: int, requests: int, setting: str) -> float:
    command = [sys.executable, "-m", "tests.bench.interpreter", "--run", setting]
    command += ["--users", str(users), "--requests", str(requests)]
    answer = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(answer.stdout.split()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100, 20_000])
    parser.add_argument("--requests", type=int, default=4000, help="timed, per run")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--run", choices=SETTINGS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        print(run(args.users[0], args.requests, args.run == "settled"))
        return
    print(
        f"$ python -m tests.bench.interpreter --users {' '.join(map(str, args.users))} "
        f"--requests {args.requests} --pairs {args.pairs}"
    )
    for users in args.users:
        seconds: dict[str, list[float]] = {setting: [] for setting in SETTINGS}
        for _ in range(args.pairs):
            for setting in SETTINGS:
                seconds[setting].append(in_process(users, args.requests, setting))
        default, settled = (statistics.median(seconds[setting]) for setting in SETTINGS)
        print(
            f"{users:>7,} users: POST /event {default * 1e6:6.0f} µs with Python's defaults, "
            f"{settled * 1e6:6.0f} µs settled (core.interpreter): {settled / default:.2f}x"
        )


if __name__ == "__main__":
    main()
