"""The one command line: `python -m bot <command> ...`.

Every command reports a failure as one line, `<command>: <what went wrong and what to do>`, on
stderr. What no command handles itself is caught here, so a person never sees a traceback: a
closed pipe (`status --json | head`) ends quietly, Ctrl-C ends with 130, and anything unexpected
gets one line (BOT_TRACEBACK=1 shows the traceback, for a bug report).
"""
from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from bot.commands import demo, digest, explain, import_, localhub, plan, serve, setup, status, sync
from bot.commands.question_folder import CommandFailed

# Each command module exposes `register(subparsers)`; this order is the order of `--help`.
COMMANDS = (setup, serve, demo, localhub, import_, status, explain, plan, digest, sync)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what `yes | head` reports for the writer
EXIT_BUG = 70  # EX_SOFTWARE: an error of ours, not of the input


def package_version() -> str:
    try:
        return version("threat-model-bot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class OneLineErrors(argparse.ArgumentParser):
    """argparse, with its usage errors in the one-line style of every other error."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("python -m bot").strip()
        prefix = command or "python -m bot"
        self.exit(2, f"{prefix}: {message} (see: python -m bot {command + ' ' if command else ''}--help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrors(
        prog="python -m bot",
        description="Carry a security threat model through maintainer review.",
    )
    parser.add_argument("--version", action="version", version=f"threat-model-bot {package_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at interpreter exit
        return code
    except CommandFailed as failure:
        print(f"{args.command}: {failure}", file=sys.stderr)
        return failure.code
    except BrokenPipeError:
        # The reader stopped reading (`| head`). Point stdout at /dev/null so the interpreter's
        # final flush does not fail a second time and print a warning.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print(f"\n{args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # a bug of ours: one line, the traceback on request
        if os.environ.get("BOT_TRACEBACK"):
            raise
        print(f"{args.command}: unexpected error: {type(error).__name__}: {error} "
              "(run again with BOT_TRACEBACK=1 to see where, and report it)", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
