"""POST /event of this checkout against another's, side by side in one run:
`python -m tests.bench.compare ../other-checkout` (for instance a clone of main before a
change).

Starts, each in its own process and as tests.bench.http starts them, the echo app, Laurel from
this checkout ("this") and Laurel from the other ("other", its own `tests.bench.http --serve`
run by this interpreter from that folder), with 100 users stored in each. Then drives the
three in turn, `--rounds` times, the order rotating from round to round, for `--seconds` each,
and prints the median requests/s of each, their ratios to the echo floor, this against other
round by round, and each server's CPU time per request (the servers run at one core, so that
is what their rates come from). On a shared machine the rates of consecutive phases move
together, so the round-by-round ratio of this to other is steadier than two separate runs.
"""

from __future__ import annotations

import argparse
import os
import statistics

from tests.bench.http import SMALL_USERS, Server, drive, event, store_users, token


def cpu_seconds(pid: int) -> float:
    """User and system time of process `pid` so far (Linux's /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", help="the other checkout's folder")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    print(
        f"$ python -m tests.bench.compare {args.other} --rounds {args.rounds} "
        f"--seconds {args.seconds:g} --connections {args.connections}"
    )
    bearer = token()
    servers = {
        "echo": Server.start("echo", "echo"),
        "this": Server.start("this", "laurel"),
        "other": Server.start("other", "laurel", checkout=args.other),
    }
    names = list(servers)
    rates: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    try:
        for name in ("this", "other"):
            store_users(servers[name], bearer, SMALL_USERS, 1)
        for number in range(args.rounds):
            for name in names[number % 3 :] + names[: number % 3]:
                server = servers[name]
                used = cpu_seconds(server.process.pid)
                body = event(SMALL_USERS)
                run = drive(server.port, "/event", body, bearer, args.connections, args.seconds)
                rates[name].append(run.rate)
                cpu[name].append((cpu_seconds(server.process.pid) - used) / run.requests)
            print(f"  round {number + 1}/{args.rounds}", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    median = {name: statistics.median(rates[name]) for name in names}
    for name in names:
        print(
            f"{name:6} {median[name]:7,.0f} requests/s   "
            f"{statistics.median(cpu[name]) * 1e6:6,.0f} µs of server CPU per request"
        )
    print(f"  this vs echo floor:  {median['this'] / median['echo']:.2f}x")
    print(f"  other vs echo floor: {median['other'] / median['echo']:.2f}x")
    by_round = [mine / theirs for mine, theirs in zip(rates["this"], rates["other"], strict=True)]
    print(
        f"  this vs other: {statistics.median(by_round):.3f}x (median of the rounds: "
        + " ".join(f"{ratio:.2f}" for ratio in by_round)
        + ")"
    )


if __name__ == "__main__":
    main()
