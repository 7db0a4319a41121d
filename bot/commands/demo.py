"""`python -m bot demo`: play a scripted threat-model review against the real service, locally."""
from __future__ import annotations

import argparse
from pathlib import Path

from bot.commands.localhub import localhub_missing


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="play a scripted review on a local GitHub and print what the bot did",
        description="Start the local GitHub and the bot on loopback, open a threat-model PR, play a "
        "scripted review conversation and print the answers recorded, the fold commit's diff, the "
        "issues opened, the status table and the weekly digest. No network, no credentials. Exits 0 "
        "only if every step did what it should.",
    )
    parser.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                        help="keep the service's state (records, inbox) in DIR for inspection (default: a temporary folder)")
    parser.add_argument("--quiet", action="store_true", help="print only the step lines and the verdict")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # The sandbox (aiohttp, the service, the local GitHub) loads only when the demo runs.
    try:
        from bot.demo_review import run_demo
    except ModuleNotFoundError as error:
        raise localhub_missing(error) from None

    return run_demo(state_dir=args.state_dir, quiet=args.quiet)
