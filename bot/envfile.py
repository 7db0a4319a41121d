"""`.env` files: `setup` writes the App's credentials to one, `serve` reads it when present.

Values are written unquoted on one line (a PEM's newlines as literal `\\n`, which the service's
configuration turns back into newlines), so the same file works for python-dotenv, `docker run
--env-file` and systemd's `EnvironmentFile=`, none of which agree on quoting.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_ENV_FILE = Path(".env")
OWNER_ONLY = 0o600  # the file holds a private key and the webhook secret


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Create (or replace) `path` readable and writable by its owner only, from the start."""
    lines = [f"{name}={value.strip().replace(chr(10), chr(92) + 'n')}" for name, value in values.items()]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        os.fchmod(file.fileno(), OWNER_ONLY)  # an existing file keeps its mode through O_CREAT
        file.write("\n".join(lines) + "\n")


def load_env_file(path: Path, environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Set every variable of `path` that the environment does not set already (the real
    environment wins, as on every platform that injects configuration). Returns the names set."""
    env = os.environ if environ is None else environ
    loaded = []
    for name, value in dotenv_values(path, interpolate=False).items():
        if value is not None and name not in env:
            env[name] = value
            loaded.append(name)
    return loaded


def load_default_env_file() -> None:
    """`./.env`, when there is one (the batch jobs use the App credentials `setup` wrote)."""
    if DEFAULT_ENV_FILE.is_file():
        load_env_file(DEFAULT_ENV_FILE)


def env_file_values(path: Path) -> dict[str, str]:
    return {name: value for name, value in dotenv_values(path, interpolate=False).items() if value is not None}
