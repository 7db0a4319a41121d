"""Question records: the schema, pure validation and the typed view of a record.

The store (bot/store/) reads and writes these as YAML in round-trip mode; this module never
touches files. A record's mapping is the source of truth so that unknown keys and comments a
maintainer added survive; `Record` is a typed, validated snapshot of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

SCHEMA_VERSION = 1


class Status(str, Enum):
    OPEN = "open"
    ANSWERED = "answered"  # someone answered; not yet binding, or awaiting more people
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"
    STRUCK = "struck"
    FOLDED = "folded"  # the promotion is committed into the document
    RETIRED = "retired"  # removed from §14 / no longer tracked


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


@dataclass(frozen=True)
class Proposal:
    id: str
    kind: str  # promote | resolve | correct | followup
    state: ProposalState
    summary: str
    comment_id: int | None = None


@dataclass(frozen=True)
class FollowUp:
    title: str
    kind: str  # test | process | docs | issue
    state: FollowUpState
    url: str | None = None
    number: int | None = None


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


def record_filename(question_id: str) -> str:
    """`Q8` -> `Q08.yaml`; ids that are not `Q<number>` keep their spelling."""
    digits = question_id[1:] if question_id[:1] == "Q" else ""
    if digits.isdigit():
        return f"Q{int(digits):02d}.yaml"
    return f"{question_id}.yaml"
