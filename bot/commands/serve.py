"""`python -m bot serve [--port N]`: run the GitHub App's webhook service.

Configuration comes from the environment (see bot/service/config.py); the command refuses to
start, naming the missing variables, rather than run without a webhook secret.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from bot.service.config import LOG_FORMAT, ConfigError, ServiceConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the webhook service (POST /webhook, GET /health)",
        description="Run the GitHub App's webhook service. Environment: GITHUB_APP_ID, GITHUB_PRIVATE_KEY "
        "(PEM text) or GITHUB_PRIVATE_KEY_PATH, GITHUB_WEBHOOK_SECRET, GITHUB_API_URL (default "
        "https://api.github.com), BOT_STATE_DIR (default ./.bot-state).",
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")),
                        help="TCP port (default: $PORT or 8080)")
    parser.add_argument("--host", default="0.0.0.0", help="interface to listen on (default: all)")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"),
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="default: $LOG_LEVEL or INFO")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = ServiceConfig.from_env()
    except ConfigError as error:
        print(f"serve: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level, format=LOG_FORMAT)
    # Imported late so `--help` and config errors stay instant.
    from bot.service.app import create_app
    from bot.service.serving import connection_limit, serve

    limit = connection_limit(config.max_connections)
    asyncio.run(serve(create_app(config), args.host, args.port, max_connections=limit))
    return 0
