"""The question-records folder as the read-only commands take it: one rule for its errors.

`status`, `plan`, `digest` (local) and `sync` each used to check the folder, load it and word the
same three failures on their own; they call `read_question_records` instead, and `__main__`
prints a `CommandFailed` as one line with the command's name.
"""
from __future__ import annotations

from pathlib import Path

from bot.core.records import Record, RecordError
from bot.store.folder import load_records

EXIT_MISSING = 1  # no folder, or no records where some are needed
EXIT_MALFORMED = 2  # a record that does not load (the message gives file:line)


class CommandFailed(Exception):
    """A failure a person can act on: printed as `command: message`, exit `code`."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def read_question_records(folder: Path, *, required: bool = False) -> list[Record]:
    """The validated records of `folder`; `required`: an empty folder is a failure too."""
    if not folder.is_dir():
        raise CommandFailed(EXIT_MISSING, f"no such folder: {folder}")
    try:
        records = load_records(folder)
    except RecordError as error:
        raise CommandFailed(EXIT_MALFORMED, str(error)) from None
    if required and not records:
        raise CommandFailed(EXIT_MISSING, f"no question records in {folder}: run `python -m bot import` first")
    return records
