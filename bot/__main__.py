"""The one command line: `python -m bot <command> ...`."""
from __future__ import annotations

import argparse
import importlib
import sys

# Each name is a module in bot/commands/ exposing `register(subparsers)`.
COMMANDS = ("serve", "demo", "localhub", "import_", "status", "explain", "plan", "digest", "sync")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Carry a security threat model through maintainer review.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"bot.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
