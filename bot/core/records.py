"""Question records: the schema, pure validation and the typed view of a record.

The store (bot/store/) reads and writes these as YAML in round-trip mode; this module never
touches files. A record's mapping is the source of truth so that unknown keys and comments a
maintainer added survive; `Record` is a typed, validated snapshot of it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal, overload

from bot.core.model import Question, QuestionState
from bot.core.reader_output import Stance

SCHEMA_VERSION = 1


class Status(str, Enum):
    OPEN = "open"
    ANSWERED = "answered"  # someone answered; not yet binding, or awaiting more people
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"
    STRUCK = "struck"
    FOLDED = "folded"  # the promotion is committed into the document
    RETIRED = "retired"  # no longer tracked; never set by the fold (a question it removes from §14 stays FOLDED)


class ProposalState(str, Enum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    APPLIED = "applied"


class FollowUpState(str, Enum):
    PROPOSED = "proposed"
    OPEN = "open"
    CLOSED = "closed"


# Fields the document owns: `import` overwrites them. Every other field is workflow-owned
# and import never touches it.
DOCUMENT_OWNED = ("document", "wave", "question", "proposed_answer", "maps_to", "document_state", "lines")


class RecordError(ValueError):
    """A malformed record: reported with file and line, and never overwritten."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Answer:
    author: str
    association: str
    stance: str  # a reading.Stance value
    excerpt: str
    url: str | None = None
    at: str | None = None  # ISO 8601
    binding: bool = False
    comment_id: int | None = None
    source: str = "github"  # github | mailing-list | document
    asks: tuple[str, ...] = ()  # logins this answer asked to weigh in (delegation, /ask)


@dataclass(frozen=True)
class Proposal:
    id: str
    kind: str  # promote | resolve | correct | followup
    state: ProposalState
    summary: str
    comment_id: int | None = None
    stance: str | None = None  # the reading.Stance the proposal would make binding
    author: str | None = None  # whose reply produced it
    at: str | None = None  # when that reply was last written
    decided_by: str | None = None  # who accepted or rejected it
    decided_at: str | None = None


@dataclass(frozen=True)
class FollowUp:
    title: str
    kind: str  # test | process | docs | issue
    state: FollowUpState
    url: str | None = None
    number: int | None = None
    comment_id: int | None = None  # the reply that asked for it (null when added by hand)


@dataclass(frozen=True)
class Thread:
    comment_id: int | None = None
    node_id: str | None = None
    path: str | None = None
    line: int | None = None
    bot_comment_id: int | None = None


@dataclass(frozen=True)
class Record:
    """A typed snapshot of one question record (see docs/records.md)."""

    id: str
    document: str
    wave: str | None
    title: str
    question: str
    proposed_answer: str | None
    maps_to: tuple[str, ...]
    document_state: str
    lines: tuple[int, int] | None
    status: Status
    awaiting: tuple[str, ...] = ()
    answers: tuple[Answer, ...] = ()
    proposals: tuple[Proposal, ...] = ()
    followups: tuple[FollowUp, ...] = ()
    thread: Thread | None = None
    updated_at: str | None = None
    schema: int = SCHEMA_VERSION
    retracted: tuple[int, ...] = ()  # deleted comments: a late replay of them must not come back


def record_filename(question_id: str) -> str:
    """`Q8` -> `Q08.yaml`; ids that are not `Q<number>` keep their spelling."""
    digits = question_id[1:] if question_id[:1] == "Q" else ""
    if digits.isdigit():
        return f"Q{int(digits):02d}.yaml"
    return f"{question_id}.yaml"


# ---------------------------------------------------------------------------------------
# Vocabulary shared by validation and the workflow rules
# ---------------------------------------------------------------------------------------

ANSWER_SOURCES = ("github", "mailing-list", "document")
PROPOSAL_KINDS = ("promote", "resolve", "correct", "followup")
FOLLOWUP_KINDS = ("test", "process", "docs", "issue")
TITLE_LIMIT = 60

# A key path into a record, e.g. ("answers", 0, "stance"); the store maps it to a line.
KeyPath = tuple[str | int, ...]
# A record as stored: its editable mapping (ruamel's CommentedMap read from YAML, a dict when new).
RecordMapping = MutableMapping[str, Any]
# The records of one PR by question id. The rules edit each record in place, never the collection,
# so it is read-only here and a dict of CommentedMaps or of dicts both fit.
RecordsById = Mapping[str, RecordMapping]
LineOf = Callable[[KeyPath], "int | None"]

_QUESTION_NUMBER = re.compile(r"^[Qq]0*(\d+)((?:\.[Rr]\d+)?)$")


def canonical_question_id(question_id: str) -> str:
    """`Q09`, `q9` and `Q9` are one question: compare ids through this."""
    match = _QUESTION_NUMBER.match(question_id.strip())
    if match is None:
        return question_id.strip()
    return f"Q{int(match.group(1))}{match.group(2).upper()}"


def question_sort_key(question_id: str) -> tuple[int, str]:
    """Natural order: Q2 before Q10; ids that are not `Q<n>` sort after, by spelling."""
    match = _QUESTION_NUMBER.match(question_id)
    if match is None:
        return (1 << 30, question_id)
    return (int(match.group(1)), match.group(2).upper())


# ---------------------------------------------------------------------------------------
# Validation: mapping -> Record, or one RecordError naming the offending key's line
# ---------------------------------------------------------------------------------------


class _Checker:
    """Reads typed values out of a plain mapping, raising RecordError at the key's line."""

    def __init__(self, path: str, line_of: LineOf | None) -> None:
        self.path = path
        self.line_of = line_of

    def fail(self, key_path: KeyPath, message: str) -> RecordError:
        line = None
        if self.line_of is not None:
            # Fall back to the nearest enclosing key that has a known line.
            for depth in range(len(key_path), -1, -1):
                line = self.line_of(key_path[:depth])
                if line is not None:
                    break
        where = ".".join(str(part) for part in key_path)
        return RecordError(self.path, line, f"{where}: {message}" if where else message)

    def mapping(self, value: Any, key_path: KeyPath) -> Mapping:
        if not isinstance(value, Mapping):
            raise self.fail(key_path, f"expected a mapping, found {_kind(value)}")
        return value

    @overload
    def string(self, container: Mapping, key: str, key_path: KeyPath, *, required: Literal[True], empty_ok: bool = False) -> str: ...
    @overload
    def string(self, container: Mapping, key: str, key_path: KeyPath, *, required: bool, empty_ok: bool = False) -> str | None: ...
    def string(self, container: Mapping, key: str, key_path: KeyPath, *, required: bool, empty_ok: bool = False) -> str | None:
        if key not in container or container[key] is None:
            if required:
                raise self.fail(key_path, f"missing required key `{key}`") if key not in container else self.fail(
                    (*key_path, key), "must not be null"
                )
            return None
        value = container[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail((*key_path, key), f"expected text, found {_kind(value)}")
        text = str(value)
        if not empty_ok and not text.strip():
            raise self.fail((*key_path, key), "must not be empty")
        return text

    def timestamp(self, container: Mapping, key: str, key_path: KeyPath) -> str | None:
        value = container.get(key)
        if value is None:
            return None
        # An unquoted timestamp may be read back as a datetime; keep our ISO text form.
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
        if isinstance(value, date):
            return value.isoformat()
        if not isinstance(value, str):
            raise self.fail((*key_path, key), f"expected an ISO 8601 timestamp, found {_kind(value)}")
        return value

    def integer(self, container: Mapping, key: str, key_path: KeyPath) -> int | None:
        value = container.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail((*key_path, key), f"expected a whole number, found {_kind(value)}")
        return value

    def boolean(self, container: Mapping, key: str, key_path: KeyPath, default: bool) -> bool:
        value = container.get(key, default)
        if not isinstance(value, bool):
            raise self.fail((*key_path, key), f"expected true or false, found {_kind(value)}")
        return value

    # A required choice, or one with a default, always yields a value; only an optional one without a default may not.
    @overload
    def choice(
        self, container: Mapping, key: str, key_path: KeyPath, allowed: Sequence[str], *,
        required: Literal[True] = True, default: str | None = None,
    ) -> str: ...
    @overload
    def choice(
        self, container: Mapping, key: str, key_path: KeyPath, allowed: Sequence[str], *, required: bool = True, default: str
    ) -> str: ...
    @overload
    def choice(
        self, container: Mapping, key: str, key_path: KeyPath, allowed: Sequence[str], *, required: bool = True, default: None = None
    ) -> str | None: ...
    def choice(
        self, container: Mapping, key: str, key_path: KeyPath, allowed: Sequence[str], *, required: bool = True, default: str | None = None
    ) -> str | None:
        if key not in container or container[key] is None:
            if required and default is None:
                raise self.fail(key_path, f"missing required key `{key}`")
            return default
        value = container[key]
        if not isinstance(value, str) or value not in allowed:
            raise self.fail((*key_path, key), f"unknown value {value!r}; expected one of: {', '.join(allowed)}")
        return value

    def sequence(self, container: Mapping, key: str, key_path: KeyPath) -> list:
        value = container.get(key)
        if value is None:
            return []
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise self.fail((*key_path, key), f"expected a list, found {_kind(value)}")
        return list(value)

    def strings(self, container: Mapping, key: str, key_path: KeyPath) -> tuple[str, ...]:
        items = self.sequence(container, key, key_path)
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise self.fail((*key_path, key, index), f"expected non-empty text, found {_kind(item)}")
        return tuple(items)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def validate_record(mapping: Mapping, path: str, line_of: LineOf | None = None) -> Record:
    """The typed view of one record mapping, or RecordError(path, line, message).

    `line_of` maps a key path to its 1-based line (the store builds it from ruamel's
    position info); without it errors carry no line. Unknown keys are allowed and ignored.
    """
    check = _Checker(path, line_of)
    root = check.mapping(mapping, ())
    schema = root.get("schema", SCHEMA_VERSION)
    if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
        raise check.fail(("schema",), f"expected a positive schema version, found {_kind(schema)}")
    if schema > SCHEMA_VERSION:
        raise check.fail(("schema",), f"schema version {schema} is newer than this bot understands ({SCHEMA_VERSION}); upgrade the bot")
    lines = _lines(check, root)
    return Record(
        id=check.string(root, "id", (), required=True),
        document=check.string(root, "document", (), required=True),
        wave=check.string(root, "wave", (), required=False),
        title=check.string(root, "title", (), required=False, empty_ok=True) or "",
        question=check.string(root, "question", (), required=True),
        proposed_answer=check.string(root, "proposed_answer", (), required=False, empty_ok=True),
        maps_to=check.strings(root, "maps_to", ()),
        document_state=check.choice(root, "document_state", (), [state.value for state in QuestionState], default=QuestionState.OPEN.value),
        lines=lines,
        status=Status(check.choice(root, "status", (), [status.value for status in Status])),
        awaiting=check.strings(root, "awaiting", ()),
        answers=tuple(_answer(check, item, ("answers", index)) for index, item in enumerate(check.sequence(root, "answers", ()))),
        proposals=tuple(_proposal(check, item, ("proposals", index)) for index, item in enumerate(check.sequence(root, "proposals", ()))),
        followups=tuple(_followup(check, item, ("followups", index)) for index, item in enumerate(check.sequence(root, "followups", ()))),
        thread=_thread(check, root.get("thread")),
        updated_at=check.timestamp(root, "updated_at", ()),
        schema=schema,
        retracted=_retracted(check, root),
    )


def _lines(check: _Checker, root: Mapping) -> tuple[int, int] | None:
    value = root.get("lines")
    if value is None:
        return None
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, Sequence)
        or len(value) != 2
        or not all(isinstance(item, int) and not isinstance(item, bool) and item >= 1 for item in value)
        or value[0] > value[1]
    ):
        raise check.fail(("lines",), "expected [first, last] line numbers")
    return (value[0], value[1])


def _answer(check: _Checker, item: Any, key_path: KeyPath) -> Answer:
    entry = check.mapping(item, key_path)
    return Answer(
        author=check.string(entry, "author", key_path, required=True),
        association=check.string(entry, "association", key_path, required=False, empty_ok=True) or "NONE",
        stance=check.choice(entry, "stance", key_path, [stance.value for stance in Stance]),
        excerpt=check.string(entry, "excerpt", key_path, required=False, empty_ok=True) or "",
        url=check.string(entry, "url", key_path, required=False),
        at=check.timestamp(entry, "at", key_path),
        binding=check.boolean(entry, "binding", key_path, False),
        comment_id=check.integer(entry, "comment_id", key_path),
        source=check.choice(entry, "source", key_path, ANSWER_SOURCES, default="github"),
        asks=check.strings(entry, "asks", key_path),
    )


def _proposal(check: _Checker, item: Any, key_path: KeyPath) -> Proposal:
    entry = check.mapping(item, key_path)
    return Proposal(
        id=check.string(entry, "id", key_path, required=True),
        kind=check.choice(entry, "kind", key_path, PROPOSAL_KINDS),
        state=ProposalState(check.choice(entry, "state", key_path, [state.value for state in ProposalState])),
        summary=check.string(entry, "summary", key_path, required=False, empty_ok=True) or "",
        comment_id=check.integer(entry, "comment_id", key_path),
        stance=check.choice(entry, "stance", key_path, [stance.value for stance in Stance], required=False),
        author=check.string(entry, "author", key_path, required=False),
        at=check.timestamp(entry, "at", key_path),
        decided_by=check.string(entry, "decided_by", key_path, required=False),
        decided_at=check.timestamp(entry, "decided_at", key_path),
    )


def _followup(check: _Checker, item: Any, key_path: KeyPath) -> FollowUp:
    entry = check.mapping(item, key_path)
    return FollowUp(
        title=check.string(entry, "title", key_path, required=True),
        kind=check.choice(entry, "kind", key_path, FOLLOWUP_KINDS),
        state=FollowUpState(check.choice(entry, "state", key_path, [state.value for state in FollowUpState])),
        url=check.string(entry, "url", key_path, required=False),
        number=check.integer(entry, "number", key_path),
        comment_id=check.integer(entry, "comment_id", key_path),
    )


def _thread(check: _Checker, value: Any) -> Thread | None:
    if value is None:
        return None
    entry = check.mapping(value, ("thread",))
    return Thread(
        comment_id=check.integer(entry, "comment_id", ("thread",)),
        node_id=check.string(entry, "node_id", ("thread",), required=False),
        path=check.string(entry, "path", ("thread",), required=False),
        line=check.integer(entry, "line", ("thread",)),
        bot_comment_id=check.integer(entry, "bot_comment_id", ("thread",)),
    )


def _retracted(check: _Checker, root: Mapping) -> tuple[int, ...]:
    items = check.sequence(root, "retracted", ())
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, int):
            raise check.fail(("retracted", index), f"expected a comment id, found {_kind(item)}")
    return tuple(items)


# ---------------------------------------------------------------------------------------
# Import: the document-owned half of a record
# ---------------------------------------------------------------------------------------


def document_fields(question: Question, document_path: str) -> dict[str, Any]:
    """The values of DOCUMENT_OWNED for one §14 question, as plain YAML-ready data."""
    return {
        "document": document_path,
        "wave": question.wave,
        "question": question.text,
        "proposed_answer": question.proposed_answer,
        "maps_to": list(question.maps_to),
        "document_state": question.state.value,
        "lines": [question.span.start_line, question.span.end_line],
    }


def new_record_mapping(question: Question, document_path: str) -> dict[str, Any]:
    """A fresh record in the documented key order (docs/records.md).

    Status open; or folded, with the document's answer recorded, when the document already
    shows the question resolved: that answer is in the text, nothing is left to fold.
    """
    fields = document_fields(question, document_path)
    resolved = question.state is QuestionState.RESOLVED
    mapping = {
        "schema": SCHEMA_VERSION,
        "id": question.id,
        "document": fields["document"],
        "wave": fields["wave"],
        "title": derive_title(question.text),
        "question": fields["question"],
        "proposed_answer": fields["proposed_answer"],
        "maps_to": fields["maps_to"],
        "document_state": fields["document_state"],
        "lines": fields["lines"],
        "status": Status.FOLDED.value if resolved else Status.OPEN.value,
        "awaiting": [],
        "answers": _document_answers(question) if question.state is not QuestionState.OPEN else [],
        "proposals": [],
        "followups": [],
        "thread": None,
        "updated_at": None,
    }
    mapping["status"] = _derived_status(mapping).value
    return mapping


def _derived_status(mapping: Mapping) -> Status:
    # answers.py reads records; importing it here at module level would be circular.
    from bot.core.answers import derive_status

    return derive_status(mapping)


DOCUMENT_EXCERPT_LIMIT = 400
UNNAMED_ANSWERER = "maintainer"  # the document gives an answer but names nobody


def _document_answers(question: Question) -> list[dict[str, Any]]:
    """The answer a question carries in the document, one entry per maintainer it names.

    A RESOLVED note is a decision (binding, as when it was folded); any other answer written
    in the document is recorded as said but binds nothing until a maintainer confirms it.
    """
    resolved = question.state is QuestionState.RESOLVED
    fallback = "resolved in the document" if resolved else "answered in the document"
    excerpt = " ".join((question.answer or "").split())[:DOCUMENT_EXCERPT_LIMIT] or fallback
    return [
        {
            "author": login,
            "association": "MEMBER",
            "stance": "confirm",
            "excerpt": excerpt,
            "url": None,
            "at": None,
            "binding": resolved,
            "comment_id": None,
            "source": "document",
        }
        for login in question.answered_by or (UNNAMED_ANSWERER,)
    ]


def merge_import(mapping: MutableMapping, question: Question, document_path: str) -> bool:
    """Refresh the document-owned fields in place; True when anything changed.

    Workflow-owned fields are never touched, except that a missing title, schema, id or
    status is filled in (a hand-started record stays usable). Idempotent by construction:
    a value is written only when it differs from what is there.
    """
    changed = False
    for key, value in document_fields(question, document_path).items():
        if key not in mapping or plain_value(mapping[key]) != value:
            mapping[key] = value
            changed = True
    fill_ins = {
        "schema": SCHEMA_VERSION,
        "id": question.id,
        "title": derive_title(question.text),
        "status": Status.OPEN.value,
    }
    for key, value in fill_ins.items():
        if mapping.get(key) in (None, ""):
            mapping[key] = value
            changed = True
    if question.state is not QuestionState.OPEN and not mapping.get("answers"):
        # The document carries an answer and the record has none: record the document's, once.
        # A record with answers already knows who answered (a fold writes its answer into the
        # document too, and must not come back as a second answer).
        mapping["answers"] = _document_answers(question)
        if mapping.get("status") == Status.OPEN.value:
            mapping["status"] = _derived_status(mapping).value
        changed = True
    return changed


def plain_value(value: Any) -> Any:
    """Compare YAML container subclasses (CommentedSeq) as the plain values they hold."""
    if isinstance(value, Mapping):
        return {key: plain_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(item) for item in value]
    return value


_BOLD_LEAD = re.compile(r"^\*\*[^*]+[.!]\*\*\s+(?=\S)")  # "**Highest-leverage question.** Are ..."
_MARKUP = re.compile(r"\*\*|__|~~|`")
_LEAD_INS = re.compile(
    r"^(?:(?:please\s+)?confirm(?:\s+that)?|is it true that|do you agree that|should we)\s+", re.IGNORECASE
)
_CLAUSE_END = re.compile(r"(?<!\s)\s+[—–]\s+|[?!]|\.(?:\s|$)|:\s|;\s|\s\(")


def derive_title(question_text: str) -> str:
    """A short working title from the question's first clause: import's only say in `title`.

    Our heuristic: drop markdown emphasis and a leading "Confirm (that)", cut at the first
    dash, colon, question mark or sentence end, then shorten at a word boundary.
    """
    text = _BOLD_LEAD.sub("", " ".join(question_text.split()))
    text = _MARKUP.sub("", text)
    text = _LEAD_INS.sub("", text)
    match = _CLAUSE_END.search(text)
    clause = text[: match.start()] if match and match.start() >= 12 else text
    clause = clause.strip(" ,.;:—–-\"'")
    if len(clause) > TITLE_LIMIT:
        words, kept = clause.split(" "), ""
        for word in words:  # whole words only, leaving room for the ellipsis
            if len(kept) + len(word) + 1 > TITLE_LIMIT - 1:
                break
            kept = f"{kept} {word}" if kept else word
        clause = f"{(kept or clause[: TITLE_LIMIT - 1]).rstrip(' ,.;:—–-')}…"
    return clause[:1].upper() + clause[1:] if clause else "Untitled question"

