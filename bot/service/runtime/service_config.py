"""The service's configuration, read once from the environment.

`ServiceConfig.from_env` refuses to build a configuration the service cannot run safely with —
above all one without a webhook secret, since unsigned deliveries are never accepted — and names
every missing variable in one message.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.github.keys import pem_from_setting

PUBLIC_API_URL = "https://api.github.com"
GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024  # GitHub never delivers a bigger payload
LOG_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s %(message)s"
_OFF = ("off", "0", "false", "no")


class ConfigError(ValueError):
    """The environment does not describe a runnable service; the message says what to set."""


@dataclass(frozen=True)
class ServiceConfig:
    app_id: str
    private_key: str  # PEM text
    webhook_secret: str
    api_url: str = PUBLIC_API_URL
    state_dir: Path = Path(".bot-state")
    database_url: str | None = None  # PostgreSQL: the inbox and all state there; the state dir is a working copy
    max_body_bytes: int = GITHUB_MAX_PAYLOAD_BYTES
    worker_concurrency: int = 8  # deliveries for different PRs handled at once
    max_attempts: int = 5  # a delivery that fails this often is marked failed and left alone
    retry_base_seconds: float = 2.0  # first retry delay; doubles per attempt, capped at retry_max_seconds
    retry_max_seconds: float = 300.0
    delivery_budget_seconds: float = 120.0  # one attempt at a delivery; over it, the attempt fails
    max_connections: int = 512  # open at once; `serve` keeps it below the file limit too
    body_timeout_seconds: float = 10.0  # to receive a request body; GitHub itself gives up after 10 s
    takeover_after_seconds: float = 30.0  # a claim whose instance was not seen this long is taken over
    scheduler_enabled: bool = True  # digests and reconcile inside the service (BOT_SCHEDULER=off disables)
    scheduler_tick_seconds: float = 300.0
    reconcile_every_hours: float = 6.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServiceConfig:
        env = os.environ if environ is None else environ
        missing: list[str] = []
        secret = env.get("GITHUB_WEBHOOK_SECRET", "")
        if not secret:
            missing.append("GITHUB_WEBHOOK_SECRET (deliveries are verified with it; unsigned ones are never accepted)")
        app_id = env.get("GITHUB_APP_ID", "").strip()
        if not app_id:
            missing.append("GITHUB_APP_ID")
        private_key = _read_private_key(env, missing)
        if missing:
            raise ConfigError("cannot start: set " + "; ".join(missing))
        return cls(
            app_id=app_id,
            private_key=private_key,
            webhook_secret=secret,
            api_url=(env.get("GITHUB_API_URL") or PUBLIC_API_URL).rstrip("/"),
            state_dir=Path(env.get("BOT_STATE_DIR") or ".bot-state"),
            database_url=env.get("DATABASE_URL", "").strip() or None,
            scheduler_enabled=(env.get("BOT_SCHEDULER") or "on").lower() not in _OFF,
            delivery_budget_seconds=_positive_seconds(env, "BOT_DELIVERY_BUDGET_SECONDS", 120.0),
            body_timeout_seconds=_positive_seconds(env, "BOT_BODY_TIMEOUT_SECONDS", 10.0),
            max_connections=int(_positive_seconds(env, "BOT_MAX_CONNECTIONS", 512)),
            takeover_after_seconds=_positive_seconds(env, "BOT_TAKEOVER_SECONDS", 30.0),
        )


def _positive_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number from the environment (seconds, or a count), or `default` if unset."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ConfigError(f"cannot start: {name} must be a number above 0, not {text!r}")
    return value


def _read_private_key(env: Mapping[str, str], missing: list[str]) -> str:
    text = env.get("GITHUB_PRIVATE_KEY", "")
    if text.strip():
        return pem_from_setting(text)
    path = env.get("GITHUB_PRIVATE_KEY_PATH", "").strip()
    if not path:
        missing.append("GITHUB_PRIVATE_KEY (PEM text) or GITHUB_PRIVATE_KEY_PATH")
        return ""
    try:
        return Path(path).read_text(encoding="ascii")
    except OSError as error:
        missing.append(f"GITHUB_PRIVATE_KEY_PATH to a readable PEM file ({path}: {error.strerror})")
        return ""
