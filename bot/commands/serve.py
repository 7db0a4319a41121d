"""`python -m bot serve [--port N]`: run the GitHub App's webhook service.

Configuration comes from the environment (see bot/service/runtime/service_config.py); the command refuses to
start, naming the missing variables, rather than run without a webhook secret.
"""
from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import sys
from pathlib import Path

from bot.service.runtime.service_config import LOG_FORMAT, ConfigError, ServiceConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the webhook service (POST /webhook, GET /health)",
        description="Run the GitHub App's webhook service. Environment: GITHUB_APP_ID, GITHUB_PRIVATE_KEY "
        "(PEM text) or GITHUB_PRIVATE_KEY_PATH, GITHUB_WEBHOOK_SECRET, GITHUB_API_URL (default "
        "https://api.github.com), BOT_STATE_DIR (default ./.bot-state).",
    )
    parser.add_argument("--port", type=int, default=None,
                        help="TCP port (default: $PORT, from the environment or .env, or 8080)")
    parser.add_argument("--host", default="0.0.0.0", help="interface to listen on (default: all)")
    parser.add_argument("--log-level", default=None,
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="default: $LOG_LEVEL (from the environment or .env) or INFO")
    parser.add_argument("--env-file", type=Path, default=None, metavar="PATH",
                        help="read settings from this file when it exists (default: ./.env, as `setup` writes it); "
                        "variables already in the environment win")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.envfile import DEFAULT_ENV_FILE, load_env_file
    from bot.service.runtime.startup_checks import (
        CredentialsError,
        GitHubStatus,
        check_credentials,
        watch_github,
    )

    if args.env_file is not None and not args.env_file.is_file():
        print(f"serve: no such file: {args.env_file}", file=sys.stderr)
        return 1
    env_file = args.env_file or DEFAULT_ENV_FILE
    if env_file.is_file():
        load_env_file(env_file)
    try:
        config = ServiceConfig.from_env()
        check_credentials(config, os.environ)
    except ConfigError as error:
        # Settings missing, and no file read: say where one was looked for and what writes it.
        hint = "" if env_file.is_file() else (f" (no {env_file} in {Path.cwd()}: `python -m bot setup` writes one, "
                                              "or set them in the environment)")
        print(f"serve: {error}{hint}", file=sys.stderr)
        return 2
    except CredentialsError as error:
        print(f"serve: {error}", file=sys.stderr)
        return 2
    # Read after .env, so PORT and LOG_LEVEL may come from it as well.
    port = args.port if args.port is not None else _port_from_environment()
    if port is None:
        print(f"serve: PORT must be a port number, not {os.environ['PORT']!r}", file=sys.stderr)
        return 2
    args.port = port
    level = (args.log_level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(level=level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO", format=LOG_FORMAT)
    # Imported late so `--help` and config errors stay instant.
    from bot.service.runtime.app import create_app
    from bot.service.runtime.server_loop import connection_limit, serve

    app = create_app(config)
    watch_github(app, config, GitHubStatus(config.api_url),
                 on_first_answer=lambda github: print(f"serve: {github.describe()}", file=sys.stderr, flush=True))
    limit = connection_limit(config.max_connections)

    def listening(host: str, bound_port: int) -> None:
        print(f"serve: listening on {host}:{bound_port} (POST /webhook, GET /health)", flush=True)

    try:
        asyncio.run(serve(app, args.host, args.port, max_connections=limit, on_listening=listening))
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f"serve: port {args.port} is already in use on {args.host}; stop what holds it or choose "
              "another with --port (or PORT)", file=sys.stderr)
        return 2
    return 0


def _port_from_environment() -> int | None:
    text = os.environ.get("PORT", "8080").strip()
    return int(text) if text.isdigit() else None
