"""Settings, read from the environment or a `.env` file in the working directory.

Every setting is an environment variable of the same name in upper case. Invalid
settings are reported by `load_settings()` as one line naming the variable.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Root of the source checkout (or of the installed release).
PROJECT_DIR = Path(__file__).resolve().parent.parent


class LogFormat(StrEnum):
    HUMAN = "human"
    JSON = "json"


class ConfigError(Exception):
    """Raised with a one-line, user-facing explanation of a bad setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    #: External database (`postgresql+asyncpg://user:pass@host:5432/catalogage`).
    #: Empty means: run the embedded PostgreSQL cluster kept in `VAR_DIR/postgres`.
    database_url: str = ""
    #: Signs session cookies and CSRF tokens. Required with an external database;
    #: in embedded (development) mode a random key is generated and kept in `VAR_DIR`.
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=3579, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_format: LogFormat = LogFormat.HUMAN
    log_level: str = "info"
    #: Comma-separated proxies whose X-Forwarded-* headers are trusted.
    forwarded_allow_ips: str = "127.0.0.1"
    #: Where local state lives (embedded database, generated secret key).
    var_dir: Path = PROJECT_DIR / "var"
    #: API tokens issued by `POST /auth/token` live this many days.
    login_token_days: int = Field(default=30, ge=1, le=365)
    #: Failed logins allowed per email (and per client address) within the window.
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    #: Cookies get the Secure flag (set when served over TLS).
    secure_cookies: bool = False
    #: Database statement timeout and connection pool settings (fail fast, never pile up).
    db_statement_timeout_ms: int = Field(default=10_000, ge=100)
    db_pool_size: int = Field(default=10, ge=1)
    db_pool_timeout_seconds: float = Field(default=2.0, gt=0)
    #: A request that has not started its answer after this long gets 503 and its
    #: database connections are terminated (catalogage/deadline.py). Keep it above the
    #: statement timeout, so that a slow query on a healthy server ends with the server's
    #: own cancellation; it is what bounds a request on a frozen server.
    request_deadline_seconds: float = Field(default=12.0, gt=0)
    #: Search answers cached per worker, valid until the next catalog change (0 disables).
    search_cache_entries: int = Field(default=2000, ge=0)
    search_cache_megabytes: int = Field(default=32, ge=1)
    #: Mount `/_bench/ceiling` (constant JSON) for the benchmark harness only.
    bench_ceiling_endpoint: bool = False

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and not value.startswith("postgresql+asyncpg://"):
            raise ValueError("must start with postgresql+asyncpg://")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.lower() not in {"critical", "error", "warning", "info", "debug"}:
            raise ValueError("must be one of critical, error, warning, info, debug")
        return value.lower()

    @model_validator(mode="after")
    def _check_secret_key(self) -> Settings:
        if self.secret_key and len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY: must be at least 32 characters long")
        if self.database_url and not self.secret_key:
            raise ValueError("SECRET_KEY: required when DATABASE_URL is set")
        return self

    @property
    def embedded(self) -> bool:
        """True when the app runs its own PostgreSQL cluster (no DATABASE_URL)."""
        return not self.database_url


def load_settings() -> Settings:
    """Read the settings, turning validation errors into one readable line."""
    try:
        settings = Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "_".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        if ":" in message and message.split(":", 1)[0].isupper():
            raise ConfigError(f"invalid configuration: {message}") from None
        raise ConfigError(f"invalid configuration: {name}: {message}") from None
    if not settings.secret_key:
        settings = settings.model_copy(update={"secret_key": _local_secret_key(settings.var_dir)})
    return settings


def _local_secret_key(var_dir: Path) -> str:
    """A random key generated once for development and kept in `var_dir` (mode 0600)."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    return key
