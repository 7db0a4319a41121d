"""`python -m bot status`: where every question stands, one table per wave (or JSON)."""
from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.commands.question_folder import read_question_records
from bot.core.answers import instant
from bot.core.records import (
    UNNAMED_ANSWERER,
    FollowUpState,
    Record,
    Status,
    question_sort_key,
)

DEFAULT_QUESTIONS_DIR = Path("questions")
NO_WAVE = "(no wave)"
TITLE_WIDTH = 48
COLUMNS = ("id", "title", "status", "awaiting", "last answer", "open follow-ups")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show each question's status, who is awaited and open follow-ups",
        description="One table per wave: id, title, status, who is awaited, days since the "
        "last answer, and follow-ups not yet closed.",
    )
    parser.add_argument(
        "--questions", type=Path, default=DEFAULT_QUESTIONS_DIR, help="folder of question records (default: ./questions)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list of objects instead of tables")
    parser.add_argument("--now", type=parse_now, default=None, metavar="ISO", help="measure ages from this time (default: now)")
    parser.set_defaults(func=run)


def parse_now(text: str) -> datetime:
    moment = instant(text)
    if moment is None:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}")
    return moment


def run(args: argparse.Namespace) -> int:
    records = read_question_records(args.questions)
    now = args.now or datetime.now(UTC)
    rows = [status_row(record, now) for record in records]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif not rows:
        inside = args.questions / "questions"  # a service PR folder holds its records one level down
        hint = f" (a PR's records are in {inside}: pass --questions {inside})" if inside.is_dir() else ""
        print(f"{args.questions}: no question records{hint}")
    else:
        print(render_tables(rows))
    return 0


def status_row(record: Record, now: datetime) -> dict:
    """One question's line of the report (also the `--json` object)."""
    times = [moment for moment in (instant(answer.at) for answer in record.answers) if moment is not None]
    last = max(times) if times else None
    return {
        "id": record.id,
        "wave": record.wave,
        "title": record.title,
        "status": record.status.value,
        "answered_by": answered_by(record),
        "answered_in_document": any(answer.source == "document" for answer in record.answers),
        "awaiting": list(record.awaiting),
        "last_answer_at": last.isoformat().replace("+00:00", "Z") if last else None,
        "last_answer_age_days": max(0, (now - last).days) if last else None,
        "open_followups": [followup.title for followup in record.followups if followup.state is not FollowUpState.CLOSED],
    }


def answered_by(record: Record) -> list[str]:
    """Who answered, in order; an answer written in the document that names nobody is left out."""
    names: dict[str, None] = {}
    for answer in record.answers:
        if not (answer.source == "document" and answer.author == UNNAMED_ANSWERER):
            names.setdefault(answer.author, None)
    return list(names)


def _status_cell(row: dict) -> str:
    """`answered (by quillon)`, `answered (in the document)`: who answered, beside the status.

    Most useful for answers written in the document, which carry no date, so no "last answer".
    """
    if row["status"] == Status.OPEN.value:
        return row["status"]
    if row.get("answered_by"):
        return f"{row['status']} (by {', '.join(row['answered_by'])})"
    return f"{row['status']} (in the document)" if row.get("answered_in_document") else row["status"]


def render_tables(rows: list[dict]) -> str:
    waves: dict[str, list[dict]] = {}
    for row in rows:
        waves.setdefault(row["wave"] or NO_WAVE, []).append(row)
    blocks = []
    for wave in sorted(waves, key=_wave_order):
        cells = [
            (
                row["id"],
                _clip(row["title"], TITLE_WIDTH),
                _status_cell(row),
                ", ".join(row["awaiting"]) or "—",
                f"{row['last_answer_age_days']}d ago" if row["last_answer_age_days"] is not None else "—",
                "; ".join(row["open_followups"]) or "—",
            )
            for row in sorted(waves[wave], key=lambda row: question_sort_key(row["id"]))
        ]
        blocks.append(f"{wave}\n{_table(cells)}")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    blocks.append(f"{len(rows)} questions: {summary}")
    return "\n\n".join(blocks)


def _table(cells: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(str(row[column])) for row in [COLUMNS, *cells]) for column in range(len(COLUMNS))]
    lines = ["  ".join(str(value).ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() for row in [COLUMNS, *cells]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _wave_order(wave: str) -> tuple[int, int, str]:
    """Wave 2 before Wave 10; waves without a number, then "(no wave)", last."""
    if wave == NO_WAVE:
        return (2, 0, wave)
    match = re.search(r"\d+", wave)
    return (0, int(match.group()), wave) if match else (1, 0, wave)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
