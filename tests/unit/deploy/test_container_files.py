"""The Dockerfile, docker-compose.yml and gunicorn.conf.py say what the README promises:
read as data (and linted by hadolint when its binary is installed, as `make lint` does)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobs.queue import JOB_TIMEOUT

ROOT = Path(__file__).resolve().parents[3]
LAUREL_SERVICES = ("init", "web", "worker", "scheduler")
# docs/architecture.md's environment: every one reaches the containers.
DOCUMENTED_ENV = (
    "MONGO_URI",
    "MONGO_DB",
    "REDIS_URL",
    "JWT_SECRET",
    "JWT_KEYS",
    "RATE_LIMIT",
    "REPORT_INTERVAL",
    "EXPORT_CRON",
    "EXPORT_DIR",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "METRICS_TOKEN",
    "CORS_ORIGINS",
)
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|build-essential|make|apt-get install)\b")


def stages(dockerfile: str) -> list[list[str]]:
    """The instructions of each stage, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile)
    result: list[list[str]] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            result.append([])
        result[-1].append(line)
    return result


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)s", value)
    assert match, value
    return int(match.group(1))


def test_the_image_is_built_in_two_stages_and_runs_slim_and_unprivileged() -> None:
    build, final = stages((ROOT / "Dockerfile").read_text())

    assert re.fullmatch(r"FROM python:3\.11-slim\S* AS build", build[0])
    assert re.fullmatch(r"FROM python:3\.11-slim\S*", final[0])
    assert any("pip install" in line for line in build)
    assert not any(BUILD_TOOLS.search(line) or "pip install" in line for line in final)
    assert "COPY --from=build /opt/laurel /opt/laurel" in final
    user = next(line for line in final if line.startswith("USER "))
    assert user.split()[1].split(":")[0] not in ("0", "root")
    healthcheck = next(line for line in final if line.startswith("HEALTHCHECK "))
    assert "/health/live" in healthcheck
    assert final[-1] == 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]'


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (pip install -e '.[dev]' brings it)")

    result = subprocess.run(
        [hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_mongo_as_a_replica_set_that_initiates_itself(compose: Any) -> None:
    mongo = compose["services"]["mongo"]

    assert mongo["command"][:2] == ["--replSet", "rs0"]
    check = " ".join(mongo["healthcheck"]["test"])
    assert "rs.initiate" in check and "isWritablePrimary" in check
    for name in LAUREL_SERVICES:
        service = compose["services"][name]
        assert service["environment"]["MONGO_URI"].endswith("replicaSet=rs0")
        assert service["depends_on"]["mongo"] == {"condition": "service_healthy"}
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_compose_gives_every_laurel_service_the_environment_and_the_exports(
    compose: Any,
) -> None:
    services = compose["services"]

    assert set(services) == {"mongo", "redis", *LAUREL_SERVICES}
    for name in LAUREL_SERVICES:
        assert set(DOCUMENTED_ENV) <= set(services[name]["environment"]), name
        assert "exports:/data/exports" in services[name]["volumes"], name
        assert services[name]["environment"]["EXPORT_DIR"] == "/data/exports"
    assert "exports" in compose["volumes"]
    assert services["web"]["depends_on"]["init"] == {"condition": "service_completed_successfully"}
    assert services["init"]["command"] == ["flask", "--app", "wsgi", "db", "init"]
    assert services["worker"]["command"] == ["python", "-m", "jobs.worker"]
    assert services["scheduler"]["command"] == ["flask", "--app", "wsgi", "scheduler"]


def test_compose_gives_shutdowns_the_time_they_need(compose: Any) -> None:
    services = compose["services"]

    # A warm shutdown waits for the running job, which may take JOB_TIMEOUT.
    assert seconds(services["worker"]["stop_grace_period"]) > JOB_TIMEOUT
    assert seconds(services["web"]["stop_grace_period"]) > 30  # gunicorn's graceful_timeout
    assert seconds(services["scheduler"]["stop_grace_period"]) > 20  # jobs.scheduler.STOP_GRACE


def test_gunicorn_config_sizes_workers_from_the_cores_and_shuts_down_gracefully(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR", "LOG_FORMAT"):
        # Set, then deleted: monkeypatch then also undoes what the config file sets.
        monkeypatch.setenv(name, "recorded")
        monkeypatch.delenv(name)
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 3)
    config: dict[str, Any] = {}

    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), config)

    created = Path(config["os"].environ["PROMETHEUS_MULTIPROC_DIR"])
    try:
        assert config["workers"] == 7
        assert config["graceful_timeout"] == 30 and config["timeout"] == 30
        assert config["worker_class"] == "gevent"  # web.serving: slow clients tie up no worker
        assert config["logconfig_dict"]["formatters"]["json"]["()"] == "core.logs.JsonFormatter"
        assert created.is_dir() and callable(config["child_exit"])
        settled: list[bool] = []
        monkeypatch.setattr("core.interpreter.settle", lambda: settled.append(True))
        config["post_worker_init"](None)  # each worker, once it has loaded the app
        assert settled == [True]
    finally:
        config["on_exit"](None)
    assert not created.exists()
