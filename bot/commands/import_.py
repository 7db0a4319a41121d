"""`python -m bot import DOCUMENT`: create or refresh one question record per §14 question.

Import owns only the document's half of each record (text, wave, maps-to, lines, what the
document shows); status, answers, awaiting, proposals and follow-ups are the workflow's and
are never touched. Running it twice changes nothing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.core.document import parse_document
from bot.core.model import Document, DocumentError
from bot.core.records import RecordError
from bot.store.folder import FolderStore, ImportResult

DEFAULT_QUESTIONS_DIR = Path("questions")
EXIT_NO_QUESTIONS = 1
EXIT_BAD_RECORD = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="create or refresh question records from a threat-model document's §14",
        description="Create or refresh one YAML record per §14 question. Workflow state "
        "(status, answers, awaiting, follow-ups) is kept; a malformed record stops the import "
        "before anything is written.",
    )
    parser.add_argument("document", type=Path, help="the threat-model markdown file")
    parser.add_argument(
        "--questions", type=Path, default=DEFAULT_QUESTIONS_DIR, help="folder of question records (default: ./questions)"
    )
    parser.add_argument(
        "--as",
        dest="document_path",
        default=None,
        metavar="PATH",
        help="the document's path in its repository, recorded in each record "
        "(default: what the existing records say, else DOCUMENT as given)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        text = args.document.read_text(encoding="utf-8")
    except OSError as error:
        print(f"import: cannot read {args.document}: {error.strerror or error}", file=sys.stderr)
        return EXIT_NO_QUESTIONS
    document = parse_document(text, str(args.document))
    for warning in parse_warnings(document, str(args.document)):
        print(warning, file=sys.stderr)
    store = FolderStore(args.questions)
    try:
        recorded_as = args.document_path or recorded_document_path(store) or str(args.document)
        result = store.import_document(document, recorded_as)
    except DocumentError:
        print(no_questions_message(document, str(args.document)), file=sys.stderr)
        return EXIT_NO_QUESTIONS
    except RecordError as error:
        print(f"import: {error}; nothing written", file=sys.stderr)
        return EXIT_BAD_RECORD
    print(describe(result, args.questions))
    return 0


def parse_warnings(document: Document, shown_as: str) -> list[str]:
    """Every shape the parser could not read, one line each with its line number."""
    warnings = []
    for issue in document.issues:
        excerpt = f": {issue.excerpt[:80]}" if issue.excerpt else ""
        warnings.append(f"import: warning: {shown_as}:{issue.line}: {issue.message}{excerpt}")
    return warnings


def no_questions_message(document: Document, shown_as: str) -> str:
    if not document.has_open_questions_section:
        return f"import: {shown_as} has no §14 open-questions section; nothing written"
    if any("question" in issue.message for issue in document.issues):
        return (
            f"import: {shown_as}: §14 has question-like lines but no question id this reader accepts "
            "(see the warnings above; ids look like Q8, Q14.1, Q5a, Q-name, or a numbered list); nothing written"
        )
    return f"import: {shown_as} has no §14 open questions to import; nothing written"


def recorded_document_path(store: FolderStore) -> str | None:
    """The document the folder already tracks, if its records agree on one."""
    paths = {str(mapping.get("document")) for mapping in store.load().values() if mapping.get("document")}
    return paths.pop() if len(paths) == 1 else None


def describe(result: ImportResult, directory: Path) -> str:
    lines = [f"created {question_id}" for question_id in result.created]
    lines += [f"updated {question_id}" for question_id in result.updated]
    if result.not_in_document:
        lines.append(
            "not in the document (left as they are): " + ", ".join(result.not_in_document)
        )
    lines.append(
        f"{directory}: {len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged"
    )
    return "\n".join(lines)
