"""Settings read from the environment (docs/api.md#running): the one place that reads os.environ."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC

from apscheduler.triggers.cron import CronTrigger
from limits import parse_many

# The embedded default (neither MONGO_URI nor REDIS_URL) signs tokens with this well-known key
# so that tokens printed by `make run` and minted by `flask token create` in another shell
# agree. Any other setup refuses to start without JWT_SECRET or JWT_KEYS.
DEVELOPMENT_JWT_SECRET = "laurel-embedded-development-secret-do-not-use-in-production"
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash


class ConfigError(Exception):
    """The environment describes a configuration Laurel cannot run with."""


@dataclass(frozen=True)
class Settings:
    mongo_uri: str | None = None
    mongo_db: str = "laurel"
    redis_url: str | None = None
    jwt_secret: str | None = None
    jwt_keys: Mapping[str, str] = field(default_factory=dict)
    rate_limit: str = "1200/minute"
    report_interval: int = 300
    reconcile_interval: int = 3600
    export_cron: str = "0 0 * * *"
    export_dir: str = "exports"
    export_retention: int = 30  # days an export is kept; 0 keeps every export
    port: int = 8000
    log_level: str = "INFO"
    # Webhooks to loopback, private or link-local addresses (None: only in the embedded default).
    webhook_allow_private: bool | None = None
    jwt_max_age: int = 365 * 24 * 3600  # seconds a token may live (exp - iat), RFC 8725
    # Operations (docs/architecture.md): log lines, /metrics, browsers of other origins.
    log_format: str = "text"  # text | json
    metrics_token: str | None = None  # when set, /metrics wants `Authorization: Bearer <it>`
    metrics_port: int | None = None  # RQ worker and scheduler: serve /metrics on this port
    cors_origins: tuple[str, ...] = ()  # origins allowed to call the API from a browser

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, serving: bool = True
    ) -> Settings:
        """`serving=False` for processes that verify no token (RQ workers): they need no key."""
        env = os.environ if environ is None else environ

        def text(name: str, default: str | None = None) -> str | None:
            value = env.get(name, "").strip()
            return value or default

        def integer(name: str, default: int) -> int:
            raw = text(name)
            if raw is None:
                return default
            try:
                return int(raw)
            except ValueError:
                raise ConfigError(f"{name} must be an integer, got {raw!r}") from None

        def flag(name: str) -> bool | None:
            raw = (text(name) or "").lower()
            if not raw:
                return None
            if raw not in ("1", "true", "yes", "0", "false", "no"):
                raise ConfigError(f"{name} must be true or false, got {raw!r}")
            return raw in ("1", "true", "yes")

        settings = cls(
            mongo_uri=text("MONGO_URI"),
            mongo_db=text("MONGO_DB", "laurel") or "laurel",
            redis_url=text("REDIS_URL"),
            jwt_secret=text("JWT_SECRET"),
            jwt_keys=parse_jwt_keys(text("JWT_KEYS") or ""),
            rate_limit=text("RATE_LIMIT", cls.rate_limit) or cls.rate_limit,
            report_interval=integer("REPORT_INTERVAL", cls.report_interval),
            reconcile_interval=integer("RECONCILE_INTERVAL", cls.reconcile_interval),
            export_cron=text("EXPORT_CRON", cls.export_cron) or cls.export_cron,
            export_dir=text("EXPORT_DIR", cls.export_dir) or cls.export_dir,
            export_retention=integer("EXPORT_RETENTION", cls.export_retention),
            port=integer("PORT", cls.port),
            log_level=(text("LOG_LEVEL", cls.log_level) or cls.log_level).upper(),
            webhook_allow_private=flag("WEBHOOK_ALLOW_PRIVATE"),
            jwt_max_age=integer("JWT_MAX_AGE", cls.jwt_max_age),
            log_format=(text("LOG_FORMAT", cls.log_format) or cls.log_format).lower(),
            metrics_token=text("METRICS_TOKEN"),
            metrics_port=integer("METRICS_PORT", 0) or None,
            cors_origins=tuple(
                origin.strip().rstrip("/")
                for origin in (text("CORS_ORIGINS") or "").split(",")
                if origin.strip()
            ),
        )
        settings.validate(serving=serving)
        return settings

    @property
    def embedded(self) -> bool:
        """True for the one-process default: in-memory MongoDB and Redis."""
        return self.mongo_uri is None and self.redis_url is None

    @property
    def webhooks_may_reach_private(self) -> bool:
        if self.webhook_allow_private is not None:
            return self.webhook_allow_private
        return self.embedded

    def validate(self, *, serving: bool = True) -> None:
        secrets = list(self.jwt_keys.values())
        if self.jwt_secret:
            secrets.append(self.jwt_secret)
        for secret in secrets:
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(
                    f"JWT secrets must be at least {MIN_SECRET_BYTES} bytes long "
                    "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')"
                )
        if serving and not self.embedded and not secrets:
            raise ConfigError(
                "MONGO_URI or REDIS_URL is set, so JWT_SECRET or JWT_KEYS must be too "
                "(the built-in development key is for the in-memory default only)"
            )
        for name, seconds in (
            ("JWT_MAX_AGE", self.jwt_max_age),
            ("REPORT_INTERVAL", self.report_interval),
            ("RECONCILE_INTERVAL", self.reconcile_interval),
        ):
            if seconds < 1:
                raise ConfigError(f"{name} must be a positive number of seconds, got {seconds}")
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"LOG_FORMAT must be text or json, got {self.log_format!r}")
        if self.export_retention < 0:
            raise ConfigError(
                f"EXPORT_RETENTION must be a number of days (0: keep every export), "
                f"got {self.export_retention}"
            )
        try:
            CronTrigger.from_crontab(self.export_cron, timezone=UTC)
        except ValueError as error:
            raise ConfigError(
                f"EXPORT_CRON must be a crontab line such as '0 0 * * *', "
                f"got {self.export_cron!r} ({error})"
            ) from None
        try:
            parse_many(self.rate_limit)
        except ValueError:
            raise ConfigError(
                f"RATE_LIMIT must look like 1200/minute or 20/second;100/hour, "
                f"got {self.rate_limit!r}"
            ) from None

    def signing_keys(self) -> SigningKeys:
        if self.jwt_keys:
            return SigningKeys(by_kid=dict(self.jwt_keys), default=self.jwt_secret)
        development = DEVELOPMENT_JWT_SECRET if self.embedded else None
        return SigningKeys(by_kid={}, default=self.jwt_secret or development)


@dataclass(frozen=True)
class SigningKeys:
    """HS256 keys: tokens with a `kid` header use that key; tokens without one, the default.

    New tokens are signed with the first `JWT_KEYS` entry (rotation: prepend the new key, keep
    the old one until its tokens expire), or with the default key when there are none.
    """

    by_kid: Mapping[str, str]
    default: str | None

    def for_verification(self, kid: str | None) -> str | None:
        if kid is None:
            return self.default
        return self.by_kid.get(kid)

    def for_signing(self) -> tuple[str | None, str]:
        for kid, secret in self.by_kid.items():
            return kid, secret
        if self.default is None:
            raise ConfigError("no JWT key configured")
        return None, self.default


def parse_jwt_keys(raw: str) -> dict[str, str]:
    """Parse `kid1:secret1,kid2:secret2`, keeping the order (the first one signs)."""
    keys: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        kid, sep, secret = item.partition(":")
        if not sep or not kid.strip() or not secret.strip():
            raise ConfigError("JWT_KEYS must look like kid1:secret1,kid2:secret2")
        keys[kid.strip()] = secret.strip()
    return keys
