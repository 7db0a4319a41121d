"""The structured model of a threat-model document (what the parser returns).

Pure data: no I/O. Line numbers are 1-based; column spans are 0-based, end-exclusive,
measured on the line as it appears in the document text.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from enum import Enum


class TagKind(str, Enum):
    DOCUMENTED = "documented"
    INFERRED = "inferred"
    MAINTAINER = "maintainer"


class QuestionState(str, Enum):
    """The status of a §14 question as the document itself shows it."""

    OPEN = "open"
    ANSWERED = "answered"  # an answer is quoted inline (`> ...`, `[ANSWERED — login]`) but not marked resolved
    RESOLVED = "resolved"  # `~~question~~ **RESOLVED** *(maintainer: ...)* — answer`, or `**RESOLVED**` after it


@dataclass(frozen=True)
class Span:
    start_line: int
    end_line: int  # inclusive


@dataclass(frozen=True)
class Section:
    label: str  # "§1", "§5a", "§11a", "§14", "Appendix: SECURITY.md → §x back-map", ...
    title: str  # heading text without the label
    level: int  # markdown heading level (2 for "## §3 ...")
    span: Span  # the heading line to the line before the next heading of the same or higher level


@dataclass(frozen=True)
class Tag:
    """One provenance tag, e.g. `*(inferred — §14 Q11)*` or `*(maintainer: DaanHoogland, 2026-06-12)*`."""

    line: int
    col_start: int  # start of the whole tag including its emphasis markers
    col_end: int
    kind: TagKind
    raw: str  # the tag exactly as written, markers included
    source: str | None = None  # cited source for documented tags: `documented — README` -> "README"
    questions: tuple[str, ...] = ()  # back-links, normalised to "Q11" (from "§14 Q11", "Q5/Q10", ...)
    maintainers: tuple[str, ...] = ()  # logins named in a maintainer tag
    date: str | None = None  # ISO date if the tag carries one
    section: str | None = None  # label of the innermost numbered section the tag sits in ("§5a")
    # A tag may wrap across a line break: `line`/`col_start` are on its first line, `col_end` is
    # measured on `end_line` (None = same line as `line`, for tags built by hand).
    end_line: int | None = None
    also: tuple[TagKind, ...] = ()  # other kinds of a combined tag: `documented + inferred` -> (DOCUMENTED,)


@dataclass(frozen=True)
class Question:
    """One §14 open question."""

    id: str  # as the document writes it, normalised without trailing dot: "Q8", "Q14.R1", "1"
    wave: str | None  # "Wave 3 — adjacent insecure defaults and admin-only surfaces", or None
    span: Span
    text: str  # the question text (strike-through markers removed), single-spaced
    proposed_answer: str | None
    maps_to: tuple[str, ...]  # section references, normalised: ("§3 item 4", "§9")
    state: QuestionState
    answered_by: tuple[str, ...] = ()  # maintainers named in the inline answer / RESOLVED note
    answer: str | None = None  # the inline answer text, if any


@dataclass(frozen=True)
class Tally:
    counted: dict[str, int]  # {"documented": n, "inferred": n, "maintainer": n}
    stated: dict[str, int] | None  # from "Draft stats" / provenance summary, if the document states one
    stated_line: int | None  # where the stated figures are
    disagreements: tuple[str, ...] = ()  # stated vs claims, e.g. "inferred: stated 64, counted 5"
    # Tags on the document's claims: everything outside §14, whose RESOLVED notes record
    # answers rather than make claims. What a stated tally counts; None: same as counted.
    claims: dict[str, int] | None = None

    @property
    def claim_counts(self) -> dict[str, int]:
        return self.claims if self.claims is not None else self.counted


@dataclass(frozen=True)
class ParseIssue:
    """A shape the parser did not understand; reported, never silently dropped."""

    line: int
    message: str
    excerpt: str = ""


@dataclass(frozen=True)
class EntryReading:
    """What the reader made of one §14 entry that started on line `start`."""

    start: int
    questions: tuple[Question, ...]
    issues: tuple[ParseIssue, ...]


@dataclass(frozen=True)
class Document:
    path: str
    title: str | None
    sections: tuple[Section, ...]
    tags: tuple[Tag, ...]
    questions: tuple[Question, ...]
    tally: Tally
    issues: tuple[ParseIssue, ...] = ()
    has_open_questions_section: bool = False  # True when a §14 (or equivalent) section exists
    # Each §14 entry's reading, keyed by everything it depends on (see document.py): the
    # planner's read-back of §14 reuses those of entries a plan leaves as written. A cache of
    # the parse, not part of what the document says: left out of comparisons and repr.
    entry_readings: Mapping[Hashable, EntryReading] = field(default_factory=dict, compare=False, repr=False)

    def question(self, question_id: str) -> Question | None:
        for question in self.questions:
            if question.id == question_id:
                return question
        return None

    def section(self, label: str) -> Section | None:
        for section in self.sections:
            if section.label == label:
                return section
        return None


class DocumentError(ValueError):
    """The document cannot be used for the requested purpose (e.g. no §14 to import)."""
