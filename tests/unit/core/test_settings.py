"""Settings.from_env: defaults, JWT keys, secrets and the production checks
(docs/api.md#auth-and-tenancy and #running)."""

from __future__ import annotations

import pytest

from core.settings import DEVELOPMENT_JWT_SECRET, ConfigError, Settings

SECRET_A = "a" * 32
SECRET_B = "b" * 40
ENV_NAMES = (
    "MONGO_URI",
    "MONGO_DB",
    "REDIS_URL",
    "JWT_SECRET",
    "JWT_KEYS",
    "RATE_LIMIT",
    "REPORT_INTERVAL",
    "EXPORT_CRON",
    "EXPORT_DIR",
    "PORT",
    "LOG_LEVEL",
)


def test_an_empty_environment_gives_the_embedded_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings(
        mongo_uri=None,
        mongo_db="laurel",
        redis_url=None,
        jwt_secret=None,
        jwt_keys={},
        rate_limit="1200/minute",
        report_interval=300,
        export_cron="0 0 * * *",
        export_dir="exports",
        port=8000,
        log_level="INFO",
    )
    assert settings.embedded is True


def test_blank_values_count_as_unset() -> None:
    settings = Settings.from_env({name: "   " for name in ENV_NAMES})
    assert settings == Settings.from_env({})


def test_values_are_read_and_trimmed() -> None:
    settings = Settings.from_env(
        {
            "MONGO_URI": " mongodb://db:27017 ",
            "MONGO_DB": "rewards",
            "REDIS_URL": "redis://r:6379/0",
            "JWT_SECRET": SECRET_A,
            "RATE_LIMIT": "50/second",
            "REPORT_INTERVAL": "60",
            "EXPORT_CRON": "*/5 * * * *",
            "EXPORT_DIR": "/var/exports",
            "PORT": " 9000 ",
            "LOG_LEVEL": "debug",
        }
    )
    assert (settings.mongo_uri, settings.mongo_db, settings.redis_url) == (
        "mongodb://db:27017",
        "rewards",
        "redis://r:6379/0",
    )
    assert (settings.jwt_secret, settings.rate_limit, settings.report_interval) == (
        SECRET_A,
        "50/second",
        60,
    )
    assert (settings.export_cron, settings.export_dir, settings.port, settings.log_level) == (
        "*/5 * * * *",
        "/var/exports",
        9000,
        "DEBUG",
    )


def test_from_env_without_a_mapping_reads_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "9123")
    assert Settings.from_env().port == 9123


@pytest.mark.parametrize("name", ["PORT", "REPORT_INTERVAL"])
@pytest.mark.parametrize("raw", ["eighty", "80.5", "5m"])
def test_non_integer_numbers_are_rejected(name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: raw})


# --- JWT keys ----------------------------------------------------------------------------


def test_jwt_keys_keep_their_order_and_the_first_one_signs() -> None:
    settings = Settings.from_env({"JWT_KEYS": f"new:{SECRET_B}, old:{SECRET_A}"})
    assert list(settings.jwt_keys.items()) == [("new", SECRET_B), ("old", SECRET_A)]
    keys = settings.signing_keys()
    assert keys.for_signing() == ("new", SECRET_B)
    assert keys.for_verification("old") == SECRET_A
    assert keys.for_verification("new") == SECRET_B
    assert keys.for_verification("gone") is None


def test_reordering_jwt_keys_changes_the_signing_key() -> None:
    keys = Settings.from_env({"JWT_KEYS": f"old:{SECRET_A},new:{SECRET_B}"}).signing_keys()
    assert keys.for_signing() == ("old", SECRET_A)


def test_jwt_keys_with_jwt_secret_verify_tokens_without_kid_with_the_secret() -> None:
    keys = Settings.from_env({"JWT_KEYS": f"k1:{SECRET_B}", "JWT_SECRET": SECRET_A}).signing_keys()
    assert keys.for_signing() == ("k1", SECRET_B)
    assert keys.for_verification(None) == SECRET_A


def test_jwt_secret_alone_signs_without_kid() -> None:
    keys = Settings.from_env({"JWT_SECRET": SECRET_A}).signing_keys()
    assert keys.for_signing() == (None, SECRET_A)
    assert keys.for_verification(None) == SECRET_A
    assert keys.for_verification("k1") is None


def test_without_any_secret_the_embedded_default_uses_the_development_key() -> None:
    keys = Settings.from_env({}).signing_keys()
    assert keys.for_signing() == (None, DEVELOPMENT_JWT_SECRET)


def test_a_secret_may_contain_colons() -> None:
    secret = "x:" * 20
    assert Settings.from_env({"JWT_KEYS": f"k1:{secret}"}).jwt_keys == {"k1": secret}


@pytest.mark.parametrize(
    "raw", ["justasecret", f":{SECRET_A}", "k1:", "k1:   ", f"k1:{SECRET_A},k2"]
)
def test_malformed_jwt_keys_are_rejected(raw: str) -> None:
    with pytest.raises(ConfigError, match="JWT_KEYS"):
        Settings.from_env({"JWT_KEYS": raw})


@pytest.mark.parametrize(
    "env",
    [
        {"JWT_SECRET": "short"},
        {"JWT_SECRET": "s" * 31},
        {"JWT_KEYS": f"k1:{SECRET_A},k2:{'s' * 31}"},
        {"JWT_KEYS": f"k1:{SECRET_A}", "JWT_SECRET": "short"},
    ],
    ids=["secret-5", "secret-31", "second-key-31", "keys-ok-secret-short"],
)
def test_secrets_shorter_than_32_bytes_are_rejected(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="32 bytes"):
        Settings.from_env(env)


def test_secret_length_is_counted_in_bytes() -> None:
    assert Settings.from_env({"JWT_SECRET": "é" * 16}).jwt_secret == "é" * 16  # 32 bytes
    with pytest.raises(ConfigError):
        Settings.from_env({"JWT_SECRET": "é" * 15 + "e"})  # 16 characters, 31 bytes


# --- production ---------------------------------------------------------------------------


def test_mongo_uri_without_any_jwt_secret_is_rejected() -> None:
    with pytest.raises(ConfigError, match="MONGO_URI"):
        Settings.from_env({"MONGO_URI": "mongodb://db:27017"})


def test_redis_url_without_any_jwt_secret_is_rejected() -> None:
    # Only the all-in-memory default may sign with the development key printed in the repo.
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        Settings.from_env({"REDIS_URL": "redis://r:6379/0"})


def test_the_development_key_signs_nothing_outside_the_embedded_default() -> None:
    settings = Settings(mongo_uri="mongodb://db:27017")

    assert settings.signing_keys().default is None
    with pytest.raises(ConfigError):
        settings.validate()


@pytest.mark.parametrize("raw", ["lots", "10 per nothing", "/minute"])
def test_unparsable_rate_limit_is_rejected(raw: str) -> None:
    with pytest.raises(ConfigError, match="RATE_LIMIT"):
        Settings.from_env({"RATE_LIMIT": raw})


@pytest.mark.parametrize("raw", ["1200/minute", "20/second;100/hour", "5 per 10 seconds"])
def test_rate_limits_in_limits_notation_are_accepted(raw: str) -> None:
    assert Settings.from_env({"RATE_LIMIT": raw}).rate_limit == raw


@pytest.mark.parametrize("secret_env", [{"JWT_SECRET": SECRET_A}, {"JWT_KEYS": f"k1:{SECRET_A}"}])
def test_mongo_uri_with_a_jwt_secret_is_production(secret_env: dict[str, str]) -> None:
    settings = Settings.from_env({"MONGO_URI": "mongodb://db:27017", **secret_env})
    assert settings.mongo_uri == "mongodb://db:27017"
    assert settings.embedded is False


@pytest.mark.parametrize(
    ("mongo_uri", "redis_url", "embedded"),
    [
        (None, None, True),
        ("mongodb://db:27017", None, False),
        (None, "redis://r:6379/0", False),
        ("mongodb://db:27017", "redis://r:6379/0", False),
    ],
)
def test_embedded_means_neither_mongo_nor_redis_is_configured(
    mongo_uri: str | None, redis_url: str | None, embedded: bool
) -> None:
    settings = Settings(mongo_uri=mongo_uri, redis_url=redis_url, jwt_secret=SECRET_A)
    assert settings.embedded is embedded
