"""`python -m bot localhub`: run the local GitHub alone, on loopback."""
from __future__ import annotations

import argparse
import asyncio
import errno
import sys
from pathlib import Path

from bot.commands.question_folder import CommandFailed

# The product can be installed without the local GitHub (the container image copies only `bot`).
LOCALHUB_MISSING = ("needs the local GitHub (the `localhub` package), which this installation lacks; "
                    "install the project from its source tree (pip install .)")


def localhub_missing(error: ModuleNotFoundError) -> CommandFailed:
    """The one-line failure for a command that needs `localhub`; re-raises any other missing module."""
    if (error.name or "").partition(".")[0] != "localhub":
        raise error
    return CommandFailed(2, LOCALHUB_MISSING)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("localhub", help="run the local GitHub (loopback only) for tests and demos")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port (0 = any free port; default 8001)")
    parser.add_argument("--app-id", type=int, help="register a GitHub App with this id")
    parser.add_argument("--app-public-key", type=Path, help="PEM public key of that App")
    parser.add_argument("--org", action="append", default=[], metavar="LOGIN",
                        help="create an organization (repeatable), e.g. for `setup --org`; before the repositories")
    parser.add_argument("--repo", action="append", default=[], metavar="OWNER/NAME",
                        help="create a repository (repeatable); the App is installed on its owner")
    parser.add_argument("--webhook-url", help="deliver the App's webhooks here")
    parser.add_argument("--webhook-secret", help="sign deliveries with this secret")
    parser.add_argument("--token-for", action="append", default=[], metavar="LOGIN",
                        help="create a user with a personal token and print it (repeatable)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import localhub  # noqa: F401  (loaded here, only when this command runs)
    except ModuleNotFoundError as error:
        raise localhub_missing(error) from None
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass
    except ValueError as error:  # a non-loopback host
        print(f"localhub: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f"localhub: port {args.port} is already in use on {args.host}; choose another with --port", file=sys.stderr)
        return 2
    return 0


async def _serve(args: argparse.Namespace) -> None:
    from localhub import LocalHub

    async with LocalHub.start(args.host, args.port) as hub:
        if args.app_id and args.app_public_key:
            hub.register_app(args.app_id, args.app_public_key.read_bytes())
        for org in args.org:
            hub.add_org(org)
        for full_name in args.repo:
            hub.create_repo(full_name)
            owner = full_name.split("/")[0]
            if args.app_id and not any(i.account == owner for i in hub.state.installations.values()):
                installation = hub.install_app(args.app_id, owner)
                print(f"installation {installation.id} on {owner}")
        if args.webhook_url:
            hub.set_webhook(args.webhook_url, args.webhook_secret)
        for login in args.token_for:
            print(f"token for {login}: {hub.personal_token(login)}")
        print(f"localhub listening on {hub.url}", flush=True)
        await asyncio.Event().wait()
