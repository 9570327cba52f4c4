"""core.clock: the one clock, and a guard that nothing else reads the date."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core import clock

ROOT = Path(__file__).resolve().parents[3]
# Reading the date anywhere but core.clock makes a test's fixed or shifted moment leak.
FORBIDDEN = re.compile(
    r"datetime\.(now|utcnow|today)\(|date\.today\(|time\.time(_ns)?\(\)"
    r"|time\.(localtime|gmtime|ctime|asctime)\(\)|Timestamp\.(now|utcnow|today)\("
    r"|(Timestamp|datetime64)\(['\"](now|today)"
)
# Lines that must read the operating system's clock say so with this marker and a reason.
ALLOWED_MARKER = "# os clock:"
CHECKED = ("core", "rules", "reports", "web", "jobs", "tests")
SKIPPED = {ROOT / "core" / "clock.py", ROOT / "tests" / "conftest.py", Path(__file__).resolve()}


def test_frozen_clock_answers_its_moment_until_released() -> None:
    moment = datetime(2027, 1, 3, 23, 59, 59, tzinfo=UTC)
    with clock.using(clock.frozen(moment)):
        assert clock.now() == moment
        assert clock.timestamp() == moment.timestamp()
    assert clock.now() != moment


def test_shifted_clock_runs_on_from_its_offset() -> None:
    offset = timedelta(days=800)
    with clock.using(clock.shifted(offset)):
        first = clock.now()
        assert abs(first - datetime.now(UTC) - offset) < timedelta(minutes=1)
        assert clock.now() >= first


def test_frozen_clock_refuses_a_naive_moment() -> None:
    with pytest.raises(ValueError, match="aware"):
        clock.frozen(datetime(2027, 1, 1))


@pytest.mark.parametrize(
    "line",
    [
        "started = datetime.now(UTC)",
        "day = date.today()",
        "day = datetime.today()",
        "moment = datetime.utcnow()",
        "seconds = time.time()",
        "nanos = time.time_ns()",
        "parts = time.gmtime()",
        "stamp = pd.Timestamp.now(tz='UTC')",
        "stamp = pd.Timestamp('now')",
        "stamp = np.datetime64('today')",
    ],
)
def test_the_guard_knows_the_ways_to_read_the_date(line: str) -> None:
    assert FORBIDDEN.search(line)


def test_no_module_reads_the_date_around_the_clock() -> None:
    offenders = []
    for package in CHECKED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path in SKIPPED or "bench" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if FORBIDDEN.search(line) and ALLOWED_MARKER not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "read core.clock instead:\n" + "\n".join(offenders)
