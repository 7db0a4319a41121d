"""`python -m bot explain`: show what the bot understands from a comment body on stdin."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Collection
from pathlib import Path

from bot.core.commands_parser import ANY_QUESTION, normalise_question_id
from bot.core.dialect import question_key
from bot.core.reader import HELP_TEXT, is_maintainer_association, read_reply
from bot.core.reader_output import Command, CommandName, Reading, Stance


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="read a comment body on stdin and print what the bot understood",
        description="Read a reply (stdin) the way the bot would and print the reading.",
    )
    parser.add_argument("--question", metavar="QN", help="the question the reply is anchored to (its thread)")
    parser.add_argument("--author", default="reviewer", metavar="LOGIN", help="the reply's author (default: reviewer)")
    parser.add_argument(
        "--association",
        default="NONE",
        metavar="ASSOC",
        help="GitHub author_association: OWNER, MEMBER, COLLABORATOR bind (default: NONE)",
    )
    parser.add_argument(
        "--maintainers",
        metavar="A,B",
        help="comma-separated maintainer logins; when given, these decide binding instead of --association",
    )
    parser.add_argument(
        "--questions", metavar="DIR", type=Path, help="question records folder (QNN.yaml); default: any Qn is known"
    )
    parser.add_argument("--json", action="store_true", help="print the JSON reading instead of prose")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.questions is not None and not args.questions.is_dir():
        print(f"explain: no such folder: {args.questions}", file=sys.stderr)
        return 1
    try:
        known = known_question_ids(args.questions) if args.questions else ANY_QUESTION
        anchored = _anchored(args.question, known)
    except ValueError as error:
        print(f"explain: {error}", file=sys.stderr)
        return 2
    maintainer = is_maintainer(args.author, args.association, args.maintainers)
    reading = read_reply(
        sys.stdin.read(),
        author=args.author,
        association=args.association,
        is_maintainer=maintainer,
        anchored_question=anchored,
        known_questions=known,
    )
    if args.json:
        print(json.dumps(reading.to_json(), indent=2, ensure_ascii=False))
    else:
        print(describe(reading, author=args.author, maintainer=maintainer))
    return 0


def known_question_ids(folder: Path) -> set[str]:
    """Ids of the records in `folder`, from the file names only (`Q08.yaml` -> `Q8`)."""
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    ids = {normalise_question_id(path.name.removesuffix(".yaml")) for path in folder.glob("*.yaml")}
    return {question_id for question_id in ids if question_id}


def is_maintainer(author: str, association: str, maintainers: str | None) -> bool:
    """An explicit --maintainers list wins; otherwise GitHub's author_association decides."""
    if maintainers is not None:
        names = {name.strip().lower() for name in maintainers.split(",") if name.strip()}
        return author.lower() in names
    return is_maintainer_association(association)


def _anchored(question: str | None, known: Collection[str]) -> str | None:
    if question is None:
        return None
    # Every spelling the document reader takes, bare item numbers of numbered §14s ("7", "8a") too.
    normalised = normalise_question_id(question) or normalise_question_id(question_key(question))
    if normalised is None:
        raise ValueError(f"--question {question!r} is not a question id (Q9, Q14.1, Q5a, Q-clienttrust)")
    if normalised not in known:
        raise ValueError(f"--question {normalised} is not among the known questions")
    return normalised


def describe(reading: Reading, *, author: str, maintainer: bool) -> str:
    """The reading as a person would want it told."""
    lines = [f"Question: {reading.question or '(none)'}"]
    source = "free text (heuristic)" if reading.heuristic else "commands / bulk answer lines"
    lines.append(f"Read from: {source}, confidence {reading.confidence:.2f}")
    lines.append(_binding_line(reading, author, maintainer))
    lines.append(f"Stances: {', '.join(stance.value for stance in reading.stances) or '(none)'}")
    for answer in reading.answers:
        lines.append(f"  - {answer.question or '(no question)'} {answer.stance.value}: {answer.text or '(no text)'}")
    if Stance.UNCLEAR in reading.stances:
        lines.append("Unclear: the bot cannot tell confirm from correct here; its notice asks for /confirm or /correct")
    if Stance.ANSWER in reading.stances:
        lines.append("Answer: facts for a person to fold in (not a correction, not binding)")
    if reading.awaiting:
        lines.append("Awaiting: " + ", ".join(f"@{login}" for login in reading.awaiting))
    for cue in reading.followups:
        lines.append(f"Follow-up proposed{f' for {cue.question}' if cue.question else ''}: {cue.title}")
    lines += [f"Command (line {command.line}): {command_text(command)}" for command in reading.commands]
    if reading.unknown_questions:
        lines.append("Not tracked: " + ", ".join(reading.unknown_questions))
    lines.extend(f"Note: {problem}" for problem in reading.problems)
    if any(command.name is CommandName.HELP for command in reading.commands):
        lines += ["", HELP_TEXT]
    return "\n".join(lines)


def command_text(command: Command) -> str:
    """A command as it would be written: `/ask @bob Q10`, `/answer Q9 correct ...`."""
    if command.name is CommandName.HELP:
        return "/questions help"
    parts = [f"/{command.name.value}"]
    if command.login:
        parts.append(f"@{command.login}")
    if command.question:
        parts.append(command.question)
    if command.stance is not None:
        parts.append(command.stance.value)
    if command.text:
        parts.append(command.text)
    return " ".join(parts)


def _binding_line(reading: Reading, author: str, maintainer: bool) -> str:
    if reading.binding and reading.stances and all(stance is Stance.UNCLEAR for stance in reading.stances):
        return "Binding: no (an unclear line never binds; answer with /confirm or /correct)"
    if reading.binding:
        return f"Binding: yes ({author} is a maintainer)"
    if reading.heuristic:
        return "Binding: no (free text is only ever a proposal a maintainer can /accept)"
    return f"Binding: no ({author} is not a maintainer)" if not maintainer else "Binding: no"
