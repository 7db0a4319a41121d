"""Plan the edit that folds confirmed answers into the document. Pure: text + records in, a plan out.

For each question whose record is confirmed, the plan
  1. flips the *(inferred)* tags linked to it to *(maintainer …)*, in the spelling the document
     already uses (see tagstyle.py), keeping the tag's cited detail;
  2. for a tag with no back-link, uses the question's `maps_to` sections, but hands every
     tag that more than one question could own to a human instead of guessing;
  3. marks the question resolved in §14 the way the document marks resolved questions, or, with
     `ResolveStyle.REMOVE` (a repository's `retire: remove`), deletes its whole entry from §14;
  4. moves the stated tally ("Draft confidence: …") by the number of promotions.
Corrections and strikes change meaning, so they are never rewritten by machine: the plan lists
them, with the maintainer's words, for a human.

Applying a plan and planning again with the same records changes nothing: every step looks at
what the document already shows (tags already maintainer, questions already resolved or gone).
"""
from __future__ import annotations

import difflib
import functools
import io
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from itertools import accumulate

from markdown_it import MarkdownIt

from bot.core import dialect
from bot.core.document import parse_document, parse_questions
from bot.core.entries import block_parser
from bot.core.model import Document, Question, QuestionState, Section, Span, Tag, TagKind
from bot.core.records import Answer, ProposalState, Record, Status, canonical_question_id
from bot.core.tags import parse_tag_text
from bot.core.tags import question_key as _spelling_key
from bot.core.tagstyle import (
    EM_DASH_SEPARATOR,
    InferredTagParts,
    TagStyle,
    detect_tag_style,
    render_maintainer_tag,
    render_plain_maintainer_tag,
    split_inferred_tag,
)

DEFAULT_PATH = "THREAT-MODEL.md"
TALLY_KINDS = ("documented", "maintainer", "inferred")


class ResolveStyle(str, Enum):
    """How a document marks a §14 question resolved."""

    STRIKE = "strike"  # cloudstack: `~~question~~ **RESOLVED** *(maintainer: login)* — answer`
    MARK = "mark"  # `question **RESOLVED** *(maintainer: login)* — answer` (no strike-through)
    LABEL = "label"  # kvrocks: `**[ANSWERED — login]** question — answer`
    REPLY = "reply"  # db-jdo: a reply line under the question, `*(maintainer)* answer`
    QUOTE = "quote"  # a quoted answer paragraph under the question, `> answer *(maintainer: login)*`
    # The entry is deleted from §14. Chosen by configuration only: a removed question leaves
    # nothing behind to detect.
    REMOVE = "remove"


class HumanKind(str, Enum):
    AMBIGUOUS_TAG = "ambiguous-tag"
    CORRECTION = "correction"
    STRIKE = "strike"
    UNPARSED = "unparsed"
    TALLY = "tally"  # the stated tally disagreed with the tags before this plan
    SHARED_ENTRY = "shared-entry"  # a question to remove shares its §14 entry with one still open


@dataclass(frozen=True)
class PlanOptions:
    only: frozenset[str] | None = None  # fold just these questions (the accepted ones)
    style: TagStyle | None = None  # explicit tag style; None: detect from the document
    with_date: bool | None = None  # override the detected style's date ("dated"/"undated")
    keep_backlink: bool | None = None  # override the style's back-link keeping
    date: str | None = None  # the date dated tags carry; None: the latest binding answer's date
    resolve_style: ResolveStyle | None = None  # None: detect from resolved questions
    path: str | None = None  # the document's path, for the diff headers


@dataclass(frozen=True)
class MaintainerWords:
    author: str
    excerpt: str
    url: str | None = None


@dataclass(frozen=True)
class Promotion:
    question: str  # "Q8", or "Q5/Q10" for a tag linked to several confirmed questions
    line: int
    old_tag: str
    new_tag: str


@dataclass(frozen=True)
class HumanItem:
    kind: HumanKind
    line: int
    message: str
    question: str | None = None
    words: tuple[MaintainerWords, ...] = ()


@dataclass(frozen=True)
class Plan:
    path: str
    new_text: str
    diff: str
    promotions: tuple[Promotion, ...]
    resolved: tuple[str, ...]  # questions this plan marks resolved in §14
    for_humans: tuple[HumanItem, ...]
    folded: tuple[str, ...]  # confirmed questions the commit carries (resolved or removed, now or already)
    tally: dict[str, int] | None = None  # the stated tally after the plan, if one is stated
    removed: tuple[str, ...] = ()  # questions whose §14 entry this plan deletes (ResolveStyle.REMOVE)

    @property
    def changed(self) -> bool:
        return bool(self.diff)


@dataclass(frozen=True)
class _Confirmation:
    """A confirmed question, ready to fold."""

    question: Question
    logins: tuple[str, ...]
    excerpt: str
    date: str | None
    in_section: bool = True  # False: already removed from §14 (ResolveStyle.REMOVE only)


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    replacement: str


# ---------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------


def plan_promotions(
    document_text: str, records: Sequence[Record], options: PlanOptions = PlanOptions()
) -> Plan:
    path = _path(records, options)
    return plan_document(parse_document(document_text, path), document_text, records, options)


def plan_document(
    document: Document, document_text: str, records: Sequence[Record], options: PlanOptions = PlanOptions()
) -> Plan:
    """`plan_promotions` for a document already parsed from `document_text` (the service parses once)."""
    path = _path(records, options)
    humans: list[HumanItem] = []
    resolve_style = options.resolve_style or detect_resolve_style(document, document_text)
    confirmations = _select_confirmations(document, records, options, resolve_style, humans)
    style = _tag_style(document, options)

    original = _Lines.of(document_text)
    tag_edits, promotions = _plan_tag_flips(document, original, records, confirmations, style, options, humans)
    tally_edits, tally_after = _plan_tally(document, original, len(promotions), humans)
    # Tag flips and the tally change no line count, so the question spans still hold after them.
    first_edits: list[_Edit] = []
    text_after_tags = _apply(document_text, tag_edits + tally_edits, humans, first_edits)
    after_tags = _Lines.of(text_after_tags)

    resolved: list[str] = []
    removed: list[str] = []
    if resolve_style is ResolveStyle.REMOVE:
        settled = _settled(records, confirmations)
        question_edits, removed, folded = _plan_removals(document, after_tags, confirmations, settled, humans)
        second_edits: list[_Edit] = []
        new_text = _apply(text_after_tags, question_edits, humans, second_edits)
    else:
        new_text, resolved, folded, second_edits = _resolve_checked(
            document, after_tags, records, confirmations, style, resolve_style, options, humans
        )
    humans.extend(_issues_near(document, confirmations))
    return Plan(
        path=path,
        new_text=new_text,
        diff=_diff_from_edits(original, new_text, [(original, first_edits), (after_tags, second_edits)], path),
        promotions=tuple(promotions),
        resolved=tuple(resolved),
        for_humans=tuple(sorted(humans, key=lambda item: (item.line, item.kind.value, item.message))),
        folded=tuple(folded),
        tally=tally_after,
        removed=tuple(removed),
    )


@functools.lru_cache(maxsize=4096)
def question_key(question_id: str) -> str:
    """One key for every spelling of an id: `1` (numbered §14), `§14 Q1`, `Q01` -> "Q1"."""
    return canonical_question_id(_spelling_key(question_id))


def _path(records: Sequence[Record], options: PlanOptions) -> str:
    return options.path or next((record.document for record in records if record.document), DEFAULT_PATH)


def unified_diff(old: str, new: str, path: str) -> str:
    return "".join(
        difflib.unified_diff(
            _split_lines(old), _split_lines(new), fromfile=f"a/{path}", tofile=f"b/{path}"
        )
    )


# ---------------------------------------------------------------------------------------
# Which questions fold, and what goes to a human
# ---------------------------------------------------------------------------------------


def is_ready_to_fold(record: Record) -> bool:
    """Confirmed, with a binding confirmation, and nobody still awaited."""
    return record.status is Status.CONFIRMED and not record.awaiting and bool(_confirming_answers(record))


def _confirming_answers(record: Record) -> list[Answer]:
    """Binding confirmations, and the replies behind promotions a maintainer accepted."""
    accepted = {
        proposal.comment_id
        for proposal in record.proposals
        if proposal.kind == "promote" and proposal.state in (ProposalState.ACCEPTED, ProposalState.APPLIED)
    }
    return [
        answer
        for answer in record.answers
        if answer.stance == "confirm" and (answer.binding or (answer.comment_id is not None and answer.comment_id in accepted))
    ]


def _select_confirmations(
    document: Document,
    records: Sequence[Record],
    options: PlanOptions,
    resolve_style: ResolveStyle,
    humans: list[HumanItem],
) -> dict[str, _Confirmation]:
    questions = {question_key(question.id): question for question in document.questions}
    confirmations: dict[str, _Confirmation] = {}
    for record in records:
        if options.only is not None and question_key(record.id) not in {question_key(q) for q in options.only}:
            continue
        question = questions.get(question_key(record.id))
        if record.status in (Status.CORRECTED, Status.STRUCK):
            humans.append(_meaning_change(record, question))
            continue
        if not is_ready_to_fold(record):
            continue  # open, answered, already folded, or not yet binding: nothing to fold
        if question is None and resolve_style is ResolveStyle.REMOVE:
            # Removal leaves nothing in §14 to find. A confirmed question already gone (our own
            # fold seen again before its records were saved, or an entry deleted by hand) still
            # folds: its tags flip if they have not yet, and there is no entry left to edit.
            removed = _question_from_record(record)
            confirmations[question_key(record.id)] = _confirmation(removed, record, options, in_section=False)
            continue
        if question is None:
            humans.append(
                HumanItem(HumanKind.UNPARSED, 0, f"{record.id} is confirmed but the document has no such question", record.id)
            )
            continue
        confirmations[question_key(record.id)] = _confirmation(question, record, options)
    return confirmations


def _question_from_record(record: Record) -> Question:
    """A question no longer in §14, as its record last saw it (span 0-0: no lines in the text)."""
    return Question(
        id=record.id,
        wave=record.wave,
        span=Span(0, 0),
        text=record.question,
        proposed_answer=record.proposed_answer,
        maps_to=record.maps_to,
        state=QuestionState.RESOLVED,
    )


def _settled(records: Sequence[Record], confirmations: Mapping[str, _Confirmation]) -> set[str]:
    """Questions that need no more answers: folded now or folded before (keys, see question_key)."""
    return set(confirmations) | {question_key(record.id) for record in records if record.status is Status.FOLDED}


def _confirmation(question: Question, record: Record, options: PlanOptions, *, in_section: bool = True) -> _Confirmation:
    binding = _confirming_answers(record)
    logins = tuple(dict.fromkeys(answer.author for answer in binding))
    dates = sorted(answer.at[:10] for answer in binding if answer.at)
    excerpt = " ".join(binding[0].excerpt.split()) or "confirmed"
    if excerpt[-1] not in ".!?)":
        excerpt += "."  # the note is a sentence; a trailing `*(maps to …)*` follows it
    return _Confirmation(question, logins, excerpt, options.date or (dates[-1] if dates else None), in_section)


def _meaning_change(record: Record, question: Question | None) -> HumanItem:
    """A correction or strike, listed for a human with the maintainer's own words."""
    stance = "correct" if record.status is Status.CORRECTED else "strike"
    kind = HumanKind.CORRECTION if stance == "correct" else HumanKind.STRIKE
    answers = [answer for answer in record.answers if answer.stance == stance]
    binding = [answer for answer in answers if answer.binding]
    words = tuple(MaintainerWords(a.author, " ".join(a.excerpt.split()), a.url) for a in (binding or answers))
    line = question.span.start_line if question else (record.lines[0] if record.lines else 0)
    verb = "corrected" if stance == "correct" else "struck"
    who = ", ".join(dict.fromkeys(word.author for word in words)) or "a maintainer"
    message = f"{record.id} was {verb} by {who}: rewrite the claim and its tags by hand"
    return HumanItem(kind, line, message, record.id, words)


def _issues_near(document: Document, confirmations: Mapping[str, _Confirmation]) -> list[HumanItem]:
    """Parser issues inside a question being folded: the plan may be missing something there."""
    spans = [
        (c.question.span.start_line, c.question.span.end_line, c.question.id) for c in confirmations.values() if c.in_section
    ]
    return [
        HumanItem(HumanKind.UNPARSED, issue.line, f"parser: {issue.message}", question_id, ())
        for issue in document.issues
        for start, end, question_id in spans
        if start <= issue.line <= end
    ]


# ---------------------------------------------------------------------------------------
# Tag flips
# ---------------------------------------------------------------------------------------


def _tag_style(document: Document, options: PlanOptions) -> TagStyle:
    style = options.style or detect_tag_style(document.tags)
    # A promotion always says who confirmed it, even where the document's own maintainer tags
    # name nobody (`*(maintainer, 2026-06-12 — §14 Q8)*`): the login is the provenance.
    style = replace(style, name_maintainers=True)
    if options.with_date is not None:
        style = replace(style, with_date=options.with_date)
    if options.keep_backlink is not None:
        style = replace(style, keep_backlink=options.keep_backlink)
    return style


def _plan_tag_flips(
    document: Document,
    source: _Lines,
    records: Sequence[Record],
    confirmations: Mapping[str, _Confirmation],
    style: TagStyle,
    options: PlanOptions,
    humans: list[HumanItem],
) -> tuple[list[_Edit], list[Promotion]]:
    if not confirmations:
        return [], []
    lines, line_starts = source.lines, source.starts
    regions = _QuestionRegions(document, lines)
    settled = _settled(records, confirmations)
    skipped_lines = _tally_lines(document, lines)
    edits: list[_Edit] = []
    promotions: list[Promotion] = []
    for tag in document.tags:
        if tag.kind is not TagKind.INFERRED:
            continue
        if tag.questions:
            owners = _linked_owners(tag, confirmations, settled, humans)
        elif tag.line in skipped_lines or _is_legend_entry(tag, lines):
            continue
        else:
            owners = _mapped_owner(tag, document, confirmations, settled, regions, humans)
        if not owners:
            continue
        edit = _flip(tag, owners, confirmations, style, lines, line_starts, humans)
        if edit is not None:
            edits.append(edit)
            promotions.append(Promotion("/".join(c.question.id for c in owners), tag.line, tag.raw, edit.replacement))
    return edits, promotions


def _linked_owners(
    tag: Tag, confirmations: Mapping[str, _Confirmation], settled: set[str], humans: list[HumanItem]
) -> list[_Confirmation]:
    """A back-linked tag flips once every question it cites is settled (`Q5/Q10`: both)."""
    keys = [question_key(question_id) for question_id in tag.questions]
    owners = [confirmations[key] for key in dict.fromkeys(keys) if key in confirmations]
    if not owners:
        return []
    unsettled = [question_id for question_id, key in zip(tag.questions, keys, strict=True) if key not in settled]
    if unsettled:
        humans.append(
            HumanItem(
                HumanKind.AMBIGUOUS_TAG,
                tag.line,
                f"{tag.raw} also cites {', '.join(unsettled)}, which {_is_are(unsettled)} not confirmed: left inferred",
                owners[0].question.id,
            )
        )
        return []
    return owners


def _mapped_owner(
    tag: Tag,
    document: Document,
    confirmations: Mapping[str, _Confirmation],
    settled: set[str],
    regions: _QuestionRegions,
    humans: list[HumanItem],
) -> list[_Confirmation]:
    """An unlinked tag belongs to a confirmed question only if no other question could claim it."""
    candidates = [c for c in confirmations.values() if regions.contains(c.question, tag.line)]
    if not candidates:
        return []
    contenders = [
        question.id
        for question in document.questions
        if question_key(question.id) not in settled
        and question.state is not QuestionState.RESOLVED
        and regions.contains(question, tag.line)
    ]
    if len(candidates) == 1 and not contenders:
        return candidates
    claimants = [c.question.id for c in candidates]
    reasons = []
    if len(claimants) > 1:
        reasons.append(f"confirmed {', '.join(claimants)} all map here")
    if contenders:
        reasons.append(f"{', '.join(contenders)} (not confirmed) also map{'s' if len(contenders) == 1 else ''} here")
    humans.append(
        HumanItem(
            HumanKind.AMBIGUOUS_TAG,
            tag.line,
            f"{tag.raw} has no back-link and {'; '.join(reasons)}: add a back-link or promote by hand",
            claimants[0],
        )
    )
    return []


def _flip(
    tag: Tag,
    owners: Sequence[_Confirmation],
    confirmations: Mapping[str, _Confirmation],
    style: TagStyle,
    lines: Sequence[str],
    line_starts: Sequence[int],
    humans: list[HumanItem],
) -> _Edit | None:
    parts = split_inferred_tag(tag.raw)
    start = _locate(tag, lines, line_starts)
    if parts is None or start is None:
        why = "is not spelled `*(inferred …)*`" if parts is None else "is not where the parser put it"
        humans.append(HumanItem(HumanKind.UNPARSED, tag.line, f"{tag.raw} {why}: promote by hand", owners[0].question.id))
        return None
    logins = tuple(dict.fromkeys(login for owner in owners for login in owner.logins))
    dates = sorted(owner.date for owner in owners if owner.date)
    date = dates[-1] if dates else None
    # The document's own spelling first; if the tag reader could not read that back with the
    # logins and back-links, the plain `*(maintainer: login — detail)*` spelling every reader knows.
    spellings = (
        lambda: render_maintainer_tag(parts, style, logins, date),
        lambda: render_maintainer_tag(_plain_parts(parts), _plain_style(style), logins, date),
        lambda: render_maintainer_tag(_plain_parts(parts), replace(_plain_style(style), kind_word="maintainer"), logins, date),
    )
    for spelling in spellings:  # built one at a time: the first almost always reads back
        candidate = spelling()
        if _reads_back(candidate, tag, logins):
            return _Edit(start, start + len(tag.raw), candidate)
    humans.append(
        HumanItem(HumanKind.UNPARSED, tag.line, f"{tag.raw} cannot be rewritten as a well-formed maintainer tag: promote by hand", owners[0].question.id)
    )
    return None


def _plain_parts(parts: InferredTagParts) -> InferredTagParts:
    detail = re.sub(r"^→\s*", "", parts.detail)
    separator = parts.separator if "\n" in parts.separator else EM_DASH_SEPARATOR
    return replace(parts, detail=detail, separator=separator)


def _plain_style(style: TagStyle) -> TagStyle:
    return replace(style, name_maintainers=True, login_lead=": ")


def _reads_back(new_tag: str, old: Tag, logins: Sequence[str]) -> bool:
    """The rewritten tag reads as a maintainer tag naming every login, citing the same questions."""
    parsed = parse_tag_text(new_tag)
    if parsed is None:
        return False
    kind, details = parsed
    if kind is TagKind.INFERRED or TagKind.MAINTAINER not in (kind, *details["also"]):
        return False
    named = {name.lower() for name in details["maintainers"]}
    return {login.lower() for login in logins} <= named and tuple(details["questions"]) == tuple(old.questions)


def _locate(tag: Tag, lines: Sequence[str], line_starts: Sequence[int]) -> int | None:
    """The offset of the tag's text, checked against the document (never trust a stale column)."""
    if not 1 <= tag.line <= len(lines):
        return None
    text_from_line = "".join(lines[tag.line - 1 : tag.line - 1 + tag.raw.count("\n") + 1])
    if text_from_line[tag.col_start : tag.col_start + len(tag.raw)] == tag.raw:
        return line_starts[tag.line - 1] + tag.col_start
    if text_from_line.count(tag.raw) == 1:
        return line_starts[tag.line - 1] + text_from_line.index(tag.raw)
    return None


def _is_legend_entry(tag: Tag, lines: Sequence[str]) -> bool:
    """`*(inferred)* = synthesized by …` defines the tag; it is not a claim."""
    line = lines[tag.line - 1] if 1 <= tag.line <= len(lines) else ""
    return line[tag.col_end :].lstrip().startswith("=")


class _QuestionRegions:
    """The line ranges a question's `maps_to` references cover (`§3 item 4` is just item 4 of §3)."""

    def __init__(self, document: Document, lines: Sequence[str]) -> None:
        self._document = document
        self._lines = lines
        self._cache: dict[str, tuple[tuple[int, int], ...]] = {}

    def contains(self, question: Question, line: int) -> bool:
        if question.id not in self._cache:
            self._cache[question.id] = tuple(
                region for reference in question.maps_to if (region := self._region(reference)) is not None
            )
        return any(start <= line <= end for start, end in self._cache[question.id])

    def _region(self, reference: str) -> tuple[int, int] | None:
        match = re.match(r"(§\d+[a-z]?)\b\s*(.*)$", reference.strip())
        if match is None:
            return None
        section = self._document.section(match.group(1))
        if section is None:
            return None
        region = (section.span.start_line, section.span.end_line)
        refinement = match.group(2).strip()
        item = re.match(r"items?\s+(\d+)", refinement)
        if item:
            return self._list_item(region, item.group(1)) or region
        if refinement:
            return self._subsection(section.level, region, refinement.split()[0]) or region
        return region

    def _list_item(self, region: tuple[int, int], number: str) -> tuple[int, int] | None:
        start, end = region
        for index in range(start, end + 1):
            opening = re.match(rf"^(\s*){number}[.)]\s", self._lines[index - 1])
            if opening is None:
                continue
            indent = len(opening.group(1))
            last = index
            for following in range(index + 1, end + 1):
                text = self._lines[following - 1]
                if text.strip() and len(text) - len(text.lstrip()) <= indent:
                    break
                if text.strip():
                    last = following
            return index, last
        return None

    def _subsection(self, level: int, region: tuple[int, int], token: str) -> tuple[int, int] | None:
        for section in self._document.sections:
            inside = region[0] < section.span.start_line <= region[1] and section.level > level
            if inside and (section.label == token or section.title.split()[:1] == [token]):
                return section.span.start_line, section.span.end_line
        return None


# ---------------------------------------------------------------------------------------
# The stated tally
# ---------------------------------------------------------------------------------------


def _tally_window(document: Document, lines: Sequence[str]) -> tuple[int, int] | None:
    """The stated tally's lines: from `stated_line` to the end of its paragraph or list item."""
    start = document.tally.stated_line
    if not document.tally.stated or not start or not 1 <= start <= len(lines):
        return None
    end = start
    while end < len(lines) and end - start < 5:
        following = lines[end]
        if not following.strip() or re.match(r"^\s*(?:[-*+]|\d+[.)])\s|^#", following):
            break
        end += 1
    return start, end


def _tally_lines(document: Document, lines: Sequence[str]) -> set[int]:
    window = _tally_window(document, lines)
    return set(range(window[0], window[1] + 1)) if window else set()


def _plan_tally(
    document: Document, source: _Lines, promoted: int, humans: list[HumanItem]
) -> tuple[list[_Edit], dict[str, int] | None]:
    stated = document.tally.stated
    if not stated:
        return [], None
    after = dict(stated)
    if promoted == 0:
        return [], after
    lines, line_starts = source.lines, source.starts
    window = _tally_window(document, lines)
    if window is None:
        return [], after
    base = line_starts[window[0] - 1]
    window_text = "".join(lines[window[0] - 1 : window[1]])
    after = _shifted_tally(stated, promoted)
    edits = []
    for kind in ("maintainer", "inferred"):
        figure = re.search(rf"(?<![\w.])(\d+)(?=\s*(?:[*_]?\()?\s*{kind}\b)", window_text, re.IGNORECASE)
        if figure is None or kind not in stated:
            humans.append(HumanItem(HumanKind.TALLY, window[0], f"the stated tally has no {kind} figure to update"))
            continue
        edits.append(_Edit(base + figure.start(1), base + figure.end(1), str(after[kind])))
    counted = document.tally.claim_counts
    if any(stated.get(kind) != counted.get(kind) for kind in ("maintainer", "inferred") if kind in stated):
        humans.append(
            HumanItem(
                HumanKind.TALLY,
                window[0],
                f"the stated tally ({_figures(stated)}) already disagreed with the tags counted "
                f"({_figures(counted)}); moved it by the {promoted} promotion(s) only",
            )
        )
    return edits, after


def _shifted_tally(stated: Mapping[str, int], promoted: int) -> dict[str, int]:
    after = dict(stated)
    after["maintainer"] = after.get("maintainer", 0) + promoted
    after["inferred"] = max(0, after.get("inferred", 0) - promoted)
    return after


def _figures(tally: Mapping[str, int]) -> str:
    return " / ".join(f"{tally[kind]} {kind}" for kind in TALLY_KINDS if kind in tally)


# ---------------------------------------------------------------------------------------
# Marking questions resolved in §14
# ---------------------------------------------------------------------------------------

# A list marker before an entry's label: `- `, `1. `, `8a. `.
_LIST_LEAD = re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[a-h]?[.)])[ \t]+")


def _lead_length(line: str) -> int:
    """Where an entry's words start: after its list marker and its bold id label (`**Q5/Q10.**`,
    `**Q6–Q13.**`, `**(Q2)**`, `**Q-transport.**`), as the dialect reads labels. A label that is
    not bold (`Q8: …`) and a bold title without an id (`1. **Audit:** …`) stay in the words."""
    marker = _LIST_LEAD.match(line)
    start = marker.end() if marker else len(line) - len(line.lstrip(" \t"))
    label = dialect.question_label(line[start:].rstrip("\r\n")) if line[start:].startswith(("**", "__")) else None
    if label is None:
        return start
    end = start + label.end
    return end + len(line[end:]) - len(line[end:].lstrip(" \t"))


# A trailing cross-reference on a question: `*(maps to §3 item 5, §7, §9)*`, `*(meta — §11a)*`.
_TRAILER = re.compile(
    r"(?<!\s)(?:\s*(?:[*_]\((?:maps to|meta|backs|lands in)\b[^()]*\)[*_]|\(→[^()]*\)))+\s*$", re.IGNORECASE
)
# How a reply line starts before its words (`  - `, `> `): replies themselves are `dialect.ANSWER_LINE`.
_REPLY_PREFIX = re.compile(r"^[ \t]*(?:[-*+][ \t]+|>[ \t]*)?")


def detect_resolve_style(document: Document, text: str) -> ResolveStyle:
    """The way most already-answered questions are marked; strike-through when none are."""
    lines = text.split("\n")  # as the parser splits: its line numbers index this list
    votes: dict[ResolveStyle, int] = {}
    for question in document.questions:
        if question.state is QuestionState.OPEN:
            continue
        block = "\n".join(lines[question.span.start_line - 1 : question.span.end_line])
        style = _style_of_block(block)
        if style is not None:
            votes[style] = votes.get(style, 0) + 1
    if not votes or ResolveStyle.STRIKE in votes:
        # Documents that strike some resolved questions and merely mark others (cloudstack)
        # struck the ones they folded with care: follow the careful form.
        return ResolveStyle.STRIKE
    return max(votes, key=lambda style: (votes[style], style is ResolveStyle.MARK))


def _style_of_block(block: str) -> ResolveStyle | None:
    """How one answered entry is marked, by the dialect's answer markers."""
    if dialect.RESOLVED_MARK.search(block):
        return ResolveStyle.STRIKE if "~~" in block else ResolveStyle.MARK
    if dialect.ANSWERED_BRACKET.search(block):
        return ResolveStyle.LABEL
    later_lines = block.splitlines()[1:]
    if any(dialect.ANSWER_LINE.match(line) for line in later_lines):
        return ResolveStyle.REPLY
    if any(dialect.QUOTE_LINE.match(line) for line in later_lines):
        return ResolveStyle.QUOTE
    return None


@dataclass(frozen=True)
class _Entry:
    """Where a question's first paragraph sits, as offsets into the text."""

    content_start: int  # after the list marker / bold id
    lead: str  # the list marker / bold id before the words, as written
    content_end: int  # end of the question words (before a trailing `*(maps to …)*`)
    paragraph_end: int  # end of the first paragraph (after the trailer)
    block_end: int  # end of the last non-blank line of the entry
    content: str
    trailer: str
    indent: str  # indentation a reply line under this entry needs
    content_indent: str  # the column the entry's words start at (for a quoted answer paragraph)
    followed_by_text: bool  # the entry is not followed by a blank line


def _resolve_checked(
    document: Document,
    source: _Lines,
    records: Sequence[Record],
    confirmations: Mapping[str, _Confirmation],
    style: TagStyle,
    resolve_style: ResolveStyle,
    options: PlanOptions,
    humans: list[HumanItem],
) -> tuple[str, list[str], list[str], list[_Edit]]:
    """Mark entries resolved, then read §14 back the way the reader will on the next plan.

    - an entry the reader still sees open (a reply under a "partially answered" note) is marked
      `**RESOLVED**` instead, which the reader takes wherever it is written;
    - an entry that stays open even so (its group heading says "still open") is left alone and
      handed to a human;
    - if marking changed how the reader sees a question nobody confirmed (a §14 intro that
      answers every unmarked entry stops covering them), entries already answered in the
      document are left as they are: their answer is there already.
    Without this the next plan would mark the same entries again, or the plan would reopen
    questions it was never asked about.
    """
    before = {question_key(question.id): question.state for question in document.questions}
    plain: frozenset[str] = frozenset()
    left: dict[str, str] = {}  # question key -> why its entry is left as it is
    # Each round keeps what the last one learned: first the document's style, then `**RESOLVED**`
    # where that did not read, then `**RESOLVED**` everywhere (it changes no block structure),
    # then without the entries that still go wrong, and last no §14 edit at all.
    for round_number in range(5):
        attempt: list[HumanItem] = []
        applied: list[_Edit] = []
        edits, resolved, folded = _plan_resolutions(
            document, source, records, confirmations, style, resolve_style, options, attempt, plain, frozenset(left)
        )
        new_text = _apply(source.text, edits, attempt, applied)
        if not resolved:
            break
        after = _states_after(document, source, new_text)
        resolved_keys = {question_key(question_id) for question_id in resolved}
        spans = {question.span for question in document.questions if question_key(question.id) in resolved_keys}
        marked = {question_key(question.id) for question in document.questions if question.span in spans} | resolved_keys
        unread = {key for key in marked if after.get(key, QuestionState.OPEN) is QuestionState.OPEN}
        disturbed = {key for key, state in before.items() if key not in marked and after.get(key) is not state}
        if not unread and not disturbed:
            break
        if disturbed:
            answered = {key for key in marked if before.get(key) is not QuestionState.OPEN}
            left.update(dict.fromkeys(answered or marked, f"marking it would change how {', '.join(sorted(disturbed))} read"))
        if round_number == 0:
            plain = frozenset(unread)
        elif round_number == 1:
            plain = frozenset(marked)
        elif round_number == 2:
            left.update(dict.fromkeys(unread, "the document would still read it as open"))
        else:
            left.update(dict.fromkeys(marked, "marking it would not read as resolved here"))
    for key, why in left.items():
        question = confirmations[key].question if key in confirmations else None
        if question is not None and before.get(key) is QuestionState.OPEN:
            attempt.append(
                HumanItem(
                    HumanKind.UNPARSED,
                    question.span.start_line,
                    f"{question.id} is confirmed but not marked resolved: {why}; mark it by hand",
                    question.id,
                )
            )
    humans.extend(attempt)
    return new_text, resolved, folded, applied


def _states_after(document: Document, source: _Lines, new_text: str) -> dict[str, QuestionState]:
    """How the reader sees every question once the entries are marked: §14 alone is read again.

    Every resolution edit is inside §14 and the edits before it change no line count, so §14
    starts on the same line and ends as many lines later as the text grew.
    """
    section = _questions_section(document)
    if section is None:
        return {question_key(question.id): question.state for question in parse_questions(new_text, document.entry_readings)}
    lines = new_text.split("\n")
    grown = len(lines) - source.text.count("\n") - 1
    # A title line first, so a §14 written as a level-1 heading is still read as a section.
    snippet = "\n".join(["# §14 read back", *lines[section.span.start_line - 1 : section.span.end_line + grown]])
    # Entries the plan left as written read as they did in the parse: their readings are reused.
    return {question_key(question.id): question.state for question in parse_questions(snippet, document.entry_readings)}


def _questions_section(document: Document) -> Section | None:
    """The innermost section holding every §14 question."""
    if not document.questions:
        return None
    first = min(question.span.start_line for question in document.questions)
    last = max(question.span.end_line for question in document.questions)
    holding = [section for section in document.sections if section.span.start_line < first and last <= section.span.end_line]
    return min(holding, key=lambda section: section.span.end_line - section.span.start_line, default=None)


def _plan_resolutions(
    document: Document,
    source: _Lines,
    records: Sequence[Record],
    confirmations: Mapping[str, _Confirmation],
    style: TagStyle,
    resolve_style: ResolveStyle,
    options: PlanOptions,
    humans: list[HumanItem],
    plain: frozenset[str] = frozenset(),
    left: frozenset[str] = frozenset(),
) -> tuple[list[_Edit], list[str], list[str]]:
    """Mark each confirmed question's §14 entry resolved.

    An entry several ids share (`**Q5/Q10.**`, `Q6–Q13`) is one text: it is marked once, and only
    when every id in it is settled, with every confirmer named; until then it stays as it is
    and a human is told which ids it waits for. Marking it earlier would say the others are
    resolved too.
    """
    lines, line_starts = source.lines, source.starts
    reply_prefix = _reply_prefix(document, lines)
    settled = _settled(records, confirmations)
    edits: list[_Edit] = []
    resolved: list[str] = []
    folded: list[str] = []
    for entry_questions, confirmed in _entries(document, confirmations):
        folded.extend(confirmation.question.id for confirmation in confirmed)
        question = entry_questions[0]
        if not _needs_marking(question, resolve_style):
            continue
        keys = {question_key(other.id) for other in entry_questions}
        if keys & left:
            if question.state is QuestionState.OPEN:  # nothing in the document says it is answered
                folded = [question_id for question_id in folded if question_id not in {c.question.id for c in confirmed}]
            continue
        still_open = [other.id for other in entry_questions if question_key(other.id) not in settled]
        if still_open:
            humans.extend(_shared_entry_item(c.question, still_open, "marked resolved") for c in confirmed)
            continue
        entry = _entry(question, lines, line_starts)
        if entry is None:
            humans.append(
                HumanItem(HumanKind.UNPARSED, question.span.start_line, f"{question.id}: cannot find its text to mark resolved", question.id)
            )
            folded = [question_id for question_id in folded if question_id not in {c.question.id for c in confirmed}]
            continue
        note = _entry_confirmation(entry_questions, records, confirmations, options)
        entry_style = ResolveStyle.MARK if keys & plain else resolve_style
        edits.append(_resolution_edit(entry, question, note, style, entry_style, reply_prefix))
        resolved.extend(other.id for other in entry_questions if question_key(other.id) in confirmations)
    return edits, resolved, folded


def _entries(
    document: Document, confirmations: Mapping[str, _Confirmation]
) -> list[tuple[list[Question], list[_Confirmation]]]:
    """The §14 entries holding confirmed questions: (every question of the entry, the confirmed ones).

    Questions share an entry when the parser gave them the same span.
    """
    by_span: dict[Span, list[_Confirmation]] = {}
    for confirmation in confirmations.values():
        if confirmation.in_section:
            by_span.setdefault(confirmation.question.span, []).append(confirmation)
    sharing: dict[Span, list[Question]] = {}  # one pass, not one per entry (a span compare each)
    for question in document.questions:
        sharing.setdefault(question.span, []).append(question)
    return [
        (sharing.get(span) or [group[0].question], group)
        for span, group in sorted(by_span.items(), key=lambda item: item[0].start_line)
    ]


def _entry_confirmation(
    entry_questions: Sequence[Question],
    records: Sequence[Record],
    confirmations: Mapping[str, _Confirmation],
    options: PlanOptions,
) -> _Confirmation:
    """One note for an entry: every confirmer of its ids (folded earlier or now) and their words."""
    if len(entry_questions) == 1:
        return confirmations[question_key(entry_questions[0].id)]
    by_key = {question_key(record.id): record for record in records}
    parts: list[tuple[str, _Confirmation]] = []
    for question in entry_questions:
        key = question_key(question.id)
        if key in confirmations:
            parts.append((question.id, confirmations[key]))
        elif key in by_key and _confirming_answers(by_key[key]):
            parts.append((question.id, _confirmation(question, by_key[key], options)))
    logins = tuple(dict.fromkeys(login for _, part in parts for login in part.logins))
    dates = sorted(part.date for _, part in parts if part.date)
    excerpts = list(dict.fromkeys(part.excerpt for _, part in parts))
    excerpt = excerpts[0] if len(excerpts) == 1 else " ".join(f"{question_id}: {part.excerpt}" for question_id, part in parts)
    return _Confirmation(entry_questions[0], logins, excerpt, dates[-1] if dates else None)


def _needs_marking(question: Question, resolve_style: ResolveStyle) -> bool:
    if question.state is QuestionState.OPEN:
        return True
    # An inline answer without **RESOLVED**: styles that mark resolution still add the note.
    return question.state is QuestionState.ANSWERED and resolve_style in (ResolveStyle.STRIKE, ResolveStyle.MARK)


def _entry(question: Question, lines: Sequence[str], line_starts: Sequence[int]) -> _Entry | None:
    first, last = question.span.start_line, min(question.span.end_line, len(lines))
    if not 1 <= first <= last:
        return None
    while last > first and not lines[last - 1].strip():
        last -= 1
    # The first paragraph as Markdown sees it: a fence, table, quote or heading right under the
    # question line ends it, and strike-through cannot cross into those.
    paragraph_last = min(last, first + _first_paragraph_lines("".join(lines[first - 1 : last])) - 1)
    for following_index in range(first, paragraph_last):  # a reply or sub-item line ends it too
        following = lines[following_index]
        if re.match(r"^\s*(?:[-*+]|\d+[.)])\s", following) or dialect.ANSWER_LINE.match(following):
            paragraph_last = following_index
            break
    content_start = line_starts[first - 1] + _lead_length(lines[first - 1])
    paragraph_end = line_starts[paragraph_last - 1] + len(lines[paragraph_last - 1].rstrip("\r\n"))
    paragraph = "".join(lines[first - 1 : paragraph_last])[content_start - line_starts[first - 1] :]
    paragraph = paragraph[: paragraph_end - content_start]
    trailer_match = _TRAILER.search(paragraph)
    trailer = trailer_match.group(0).strip() if trailer_match else ""
    content = paragraph[: trailer_match.start()] if trailer_match else paragraph
    if not content.strip():
        return None
    list_lead = re.match(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+", lines[first - 1])
    # A reply under a list entry sits at the entry's content column, or it would end the item.
    line = lines[first - 1]
    indent = " " * len(list_lead.group(0)) if list_lead else line[: len(line) - len(line.lstrip(" \t"))]
    return _Entry(
        content_start=content_start,
        lead=lines[first - 1][: content_start - line_starts[first - 1]],
        content_indent=" " * (len(list_lead.group(0)) if list_lead else 0),
        followed_by_text=last < len(lines) and bool(lines[last].strip()),
        content_end=content_start + len(content.rstrip()),
        paragraph_end=paragraph_end,
        block_end=line_starts[last - 1] + len(lines[last - 1].rstrip("\r\n")),
        content=content.rstrip(),
        trailer=trailer,
        indent=indent,
    )


# Block structure only, for where an entry's first paragraph ends: the §14 reader's parser.
_BLOCKS = block_parser()
# Inline too, with strike-through as GitHub renders it, to check that a strike takes.
_INLINE = MarkdownIt("commonmark", {"maxNesting": 40}).enable(["strikethrough"])


# A line that may start a block of its own inside a paragraph's run of lines (fence, table,
# heading, quote, HTML, thematic break or setext underline); without one, a blank line ends it.
_BLOCK_START = re.compile(r"^[ \t]*(?:[`~|#><=]|(?:[-*_][ \t]*){3,}$)")


def _first_paragraph_lines(entry_text: str) -> int:
    """How many lines the paragraph that opens the entry spans (1 when it opens with another block)."""
    run = entry_text.split("\n\n", 1)[0].split("\n")
    if not any(_BLOCK_START.match(line) for line in run[1:]):
        return len(run)  # plain lines up to the first blank one: Markdown reads them as one paragraph
    for token in _BLOCKS.parse(entry_text):
        if token.type in ("bullet_list_open", "ordered_list_open", "list_item_open"):
            continue
        if token.type == "paragraph_open" and token.map and token.map[0] == 0:
            return max(1, token.map[1])
        return 1
    return 1


# What can stop a strike from rendering, once balanced code spans are set aside: a stray
# backtick, HTML, a tilde in the words, or an escaped tilde at the strike's edge.
_CODE_SPAN = re.compile(r"(?<!`)(`++)[^`]*?\1(?!`)")
_STRIKE_RISKS = re.compile(r"[`<~]")


def _strike_renders(paragraph: str) -> bool:
    """The paragraph, as written, shows struck text and no `~~` left as literal characters."""
    if "\\~" not in paragraph and not _STRIKE_RISKS.search(_CODE_SPAN.sub("", paragraph.replace("~~", "", 2))):
        return True  # nothing but our own pair of tildes: the full inline parse would agree
    struck = False
    for token in _INLINE.parse(paragraph):
        for child in token.children or ():
            if child.type == "text" and "~~" in child.content:
                return False
            struck = struck or child.type == "s_open"
    return struck


def _resolution_edit(
    entry: _Entry,
    question: Question,
    confirmation: _Confirmation,
    style: TagStyle,
    resolve_style: ResolveStyle,
    reply_prefix: str | None,
) -> _Edit:
    tag = render_plain_maintainer_tag(style, confirmation.logins, confirmation.date)
    trailer = f" {entry.trailer}" if entry.trailer else ""
    answer = confirmation.excerpt
    if resolve_style is ResolveStyle.LABEL:
        label = f"**[ANSWERED — {', '.join(confirmation.logins) or 'maintainer'}]** "
        return _Edit(entry.content_start, entry.paragraph_end, f"{label}{entry.content} — {answer}{trailer}")
    if resolve_style is ResolveStyle.QUOTE:
        after = "\n" if entry.followed_by_text else ""  # keep the quote its own paragraph
        return _Edit(entry.block_end, entry.block_end, f"\n\n{entry.content_indent}> {answer} {tag}{after}")
    if resolve_style is ResolveStyle.REPLY:
        if reply_prefix is None:
            reply = f"\n\n{entry.indent}{tag} {answer}"
        else:
            reply = f"\n{entry.indent}{reply_prefix.lstrip()}{tag} {answer}"
        return _Edit(entry.block_end, entry.block_end, reply)
    marked = f"{entry.content} **RESOLVED** {tag} — {answer}{trailer}"
    if resolve_style is ResolveStyle.STRIKE and question.state is QuestionState.OPEN and "~~" not in entry.content:
        # Strike the question's own paragraph, where Markdown renders it; where it would not
        # (a code span or emphasis across the words), mark it without the strike.
        struck = f"~~{entry.content}~~ **RESOLVED** {tag} — {answer}{trailer}"
        if _strike_renders(entry.lead + struck):
            return _Edit(entry.content_start, entry.paragraph_end, struck)
    return _Edit(entry.content_start, entry.paragraph_end, marked)


def _reply_prefix(document: Document, lines: Sequence[str]) -> str | None:
    """How existing reply lines start (`  - `); None when replies are separate paragraphs."""
    for question in document.questions:
        if question.state is QuestionState.OPEN:
            continue
        for index in range(question.span.start_line, min(question.span.end_line, len(lines))):
            if dialect.ANSWER_LINE.match(lines[index]) and index > question.span.start_line - 1:
                previous_blank = not lines[index - 1].strip()
                reply_prefix = _REPLY_PREFIX.match(lines[index])  # always matches: every part is optional
                return None if previous_blank or reply_prefix is None else reply_prefix.group(0)
    return None


# ---------------------------------------------------------------------------------------
# Removing answered questions from §14 (retire: remove)
# ---------------------------------------------------------------------------------------


def _plan_removals(
    document: Document,
    source: _Lines,
    confirmations: Mapping[str, _Confirmation],
    settled: set[str],
    humans: list[HumanItem],
) -> tuple[list[_Edit], list[str], list[str]]:
    """Delete each confirmed question's whole entry (its span) from §14.

    Returns (edits, removed, folded). An entry several questions share (`**Q5/Q10.**`) goes only
    once all of them are settled: deleting it earlier would take a still-open question with it.
    """
    spans: set[Span] = set()
    folded: list[str] = []
    for confirmation in confirmations.values():
        question = confirmation.question
        folded.append(question.id)  # its answer is in the records and its tags are flipped
        if not confirmation.in_section:
            continue  # removed already: nothing left to delete
        still_open = [other.id for other in _sharing_entry(document, question) if question_key(other.id) not in settled]
        if still_open:
            humans.append(_shared_entry_item(question, still_open, "removed"))
            continue
        spans.add(question.span)
    lines = source.lines
    labels = _emptied_group_labels(document, lines, spans)
    ordered = sorted([(span.start_line, span.end_line) for span in spans] + labels)
    edits = [_removal_edit(first, last, source) for first, last in _runs(ordered, lines)]
    # Every question in a deleted entry, in document order (a shared entry takes all its ids).
    removed = [other.id for other in document.questions if other.span in spans]
    return edits, removed, folded


_LABEL_NOISE = re.compile(r"[*_#`\s]+")


def _emptied_group_labels(document: Document, lines: Sequence[str], removed: set[Span]) -> list[tuple[int, int]]:
    """The label lines (`**Wave 2 — …**`, `### Topic`) of groups whose every entry is removed.

    A label goes only when the group is nothing but the label and its entries: it sits right
    above the first entry (blank lines between at most) and what follows the last entry is a
    heading, another question or its group's label, or the end of §14. Anything else under the
    label (an intro, a closing note) keeps the label, so no text is left under the wrong group.
    """
    groups: dict[str, list[Question]] = {}
    for question in document.questions:
        if question.wave:
            groups.setdefault(question.wave, []).append(question)
    section = _questions_section(document)
    section_end = section.span.end_line if section else len(lines)
    starts = {question.span.start_line for question in document.questions}
    found: list[tuple[tuple[int, int], int]] = []  # (the label's lines, the group's last line)
    for wave, members in groups.items():
        first = min(question.span.start_line for question in members)
        label = _label_above(lines, first, wave)
        if label is not None and all(question.span in removed for question in members):
            found.append((label, max(question.span.end_line for question in members)))
    kept: list[tuple[int, int]] = []
    for label, last in found:
        following = _next_text_line(lines, last)
        if (
            following is None
            or following > section_end
            or following in starts
            or lines[following - 1].startswith("#")
            or any(_label_above(lines, following + 1, other) for other in groups)  # the next group's label
        ):
            kept.append(label)
    return kept


def _label_above(lines: Sequence[str], first: int, wave: str) -> tuple[int, int] | None:
    """The lines of the group label right above line `first`, if they read as `wave`."""
    end = first - 1
    while end >= 1 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 1 and lines[start - 2].strip():
        start -= 1
    if end < 1:
        return None
    written = _LABEL_NOISE.sub(" ", " ".join(lines[start - 1 : end])).strip().lower()
    expected = _LABEL_NOISE.sub(" ", wave).strip().lower()
    return (start, end) if expected and written.startswith(expected[:40]) else None


def _next_text_line(lines: Sequence[str], after: int) -> int | None:
    """The first non-blank line after line `after` (1-based), or None at the end."""
    for index in range(after, len(lines)):
        if lines[index].strip():
            return index + 1
    return None


def _is_are(items: Sequence[str]) -> str:
    return "is" if len(items) == 1 else "are"


def _sharing_entry(document: Document, question: Question) -> list[Question]:
    return [other for other in document.questions if other.span == question.span and other.id != question.id]


def _shared_entry_item(question: Question, still_open: Sequence[str], action: str) -> HumanItem:
    waiting = ", ".join(still_open)
    return HumanItem(
        HumanKind.SHARED_ENTRY,
        question.span.start_line,
        f"{question.id} shares its §14 entry with {waiting}, still open: the entry is {action} once {waiting} "
        f"{_is_are(still_open)} folded too (or edit it by hand)",
        question.id,
    )


def _runs(spans: Sequence[tuple[int, int]], lines: Sequence[str]) -> list[tuple[int, int]]:
    """Merge sorted line spans that only blank lines separate: one deletion per run of entries."""
    runs: list[tuple[int, int]] = []
    for first, last in spans:
        # 1-based lines runs[-1][1]+1 .. first-1 are 0-based indexes runs[-1][1] .. first-2.
        if runs and all(not lines[index].strip() for index in range(runs[-1][1], first - 1)):
            runs[-1] = (runs[-1][0], max(runs[-1][1], last))
        else:
            runs.append((first, last))
    return runs


def _removal_edit(first: int, last: int, source: _Lines) -> _Edit:
    """Delete lines first..last and one side's blank lines, keeping the wider gap.

    Keeping the wider of the two gaps leaves a loose list loose and a tight one tight, and
    never glues the text before the entry to what follows it (a `---` under a paragraph line
    would turn that line into a heading).
    """
    lines, line_starts = source.lines, source.starts
    blank_before = _blank_run(lines, first - 2, -1)
    blank_after = _blank_run(lines, last, +1)
    if last + blank_after >= len(lines):  # nothing follows: no trailing blank lines either
        first, last = first - blank_before, len(lines)
    elif blank_after > blank_before:
        first -= blank_before
    else:
        last += blank_after
    end = line_starts[last] if last < len(lines) else line_starts[-1] + len(lines[-1])
    return _Edit(line_starts[first - 1], end, "")


def _blank_run(lines: Sequence[str], index: int, step: int) -> int:
    """How many blank lines there are from 0-based `index` on, walking by `step`."""
    count = 0
    while 0 <= index < len(lines) and not lines[index].strip():
        count += 1
        index += step
    return count


# ---------------------------------------------------------------------------------------
# Text plumbing
# ---------------------------------------------------------------------------------------


def _split_lines(text: str) -> list[str]:
    """The lines with their endings, broken at "\n" only, as the parser numbers them.

    str.splitlines also breaks at a form feed, U+2028 and other separators: one of those in
    the prose would shift every later line, and the plan would edit the wrong question.
    A StringIO whose newline is "\n" breaks there alone, and keeps the endings.
    """
    return io.StringIO(text, newline="\n").readlines()


def _line_starts(lines: Sequence[str]) -> list[int]:
    """The offset where each line starts."""
    return list(accumulate(map(len, lines[:-1]), initial=0)) if lines else []


@dataclass(frozen=True)
class _Lines:
    """A text with its lines and their offsets, split once: every step of a plan reads them."""

    text: str
    lines: list[str]
    starts: list[int]

    @classmethod
    def of(cls, text: str) -> _Lines:
        lines = _split_lines(text)
        return cls(text, lines, _line_starts(lines))


def _apply(text: str, edits: Iterable[_Edit], humans: list[HumanItem], applied: list[_Edit] | None = None) -> str:
    """Apply non-overlapping edits; an overlapping one is dropped and reported.

    `applied` collects the edits kept, for the diff (see _diff_from_edits).
    """
    kept: list[_Edit] = []
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if kept and edit.start < kept[-1].end:
            line = text.count("\n", 0, edit.start) + 1
            humans.append(HumanItem(HumanKind.UNPARSED, line, f"two edits overlap here; left {text[edit.start:edit.end]!r} as is"))
            continue
        kept.append(edit)
    if applied is not None:
        applied.extend(kept)
    pieces: list[str] = []
    offset = 0
    for edit in kept:
        pieces += [text[offset : edit.start], edit.replacement]
        offset = edit.end
    pieces.append(text[offset:])
    return "".join(pieces)


# ---------------------------------------------------------------------------------------
# The diff
# ---------------------------------------------------------------------------------------

_CONTEXT = 3  # lines of context around a hunk, as `diff -u`


def _diff_from_edits(source: _Lines, new: str, stages: Sequence[tuple[_Lines, Sequence[_Edit]]], path: str) -> str:
    """The unified diff of `old` -> `new`, built from the edits that made it.

    `stages` are (text, edits applied to it) in order; every stage before the last keeps the
    line count, so an offset in any stage's text names the same old line. Matching the two
    texts line by line (difflib) costs far more on a long document, and is only the fallback
    when the edits do not account for every changed line.
    """
    old, old_lines, new_lines = source.text, source.lines, _split_lines(new)
    touched: list[tuple[int, int, int]] = []  # (first, last, lines added), 0-based old lines
    for stage, edits in stages:
        text, starts = stage.text, stage.starts or [0]
        for edit in edits:
            first = bisect_right(starts, edit.start) - 1
            last = bisect_right(starts, max(edit.start, edit.end - 1)) - 1
            grown = edit.replacement.count("\n") - text.count("\n", edit.start, edit.end)
            touched.append((first, last, grown))
    regions: list[list[int]] = []  # [first, last, grown]
    for first, last, grown in sorted(touched):
        if regions and first <= regions[-1][1] + 1:
            regions[-1][1] = max(regions[-1][1], last)
            regions[-1][2] += grown
        else:
            regions.append([first, last, grown])
    opcodes: list[tuple[int, int, int, int]] = []  # changed (i1, i2, j1, j2), half-open
    shift = 0
    for first, last, grown in regions:
        last = min(last, len(old_lines) - 1)
        size = last - first + 1
        opcodes.append((first, first + size, first + shift, first + shift + size + grown))
        shift += grown
    if not _accounts_for_changes(old_lines, new_lines, opcodes):
        return unified_diff(old, new, path)
    hunks = _hunks([change for opcode in opcodes for change in _line_changes(old_lines, new_lines, opcode)])
    if not hunks:
        return ""
    out = [f"--- a/{path}\n", f"+++ b/{path}\n"]
    for group in hunks:
        i1, j1 = max(0, group[0][0] - _CONTEXT), max(0, group[0][2] - _CONTEXT)
        i2 = min(len(old_lines), group[-1][1] + _CONTEXT)
        j2 = group[-1][3] + (i2 - group[-1][1])
        out.append(f"@@ -{_hunk_range(i1, i2)} +{_hunk_range(j1, j2)} @@\n")
        position = i1
        for a1, a2, b1, b2 in group:
            out += [" " + line for line in old_lines[position:a1]]
            out += ["-" + line for line in old_lines[a1:a2]]
            out += ["+" + line for line in new_lines[b1:b2]]
            position = a2
        out += [" " + line for line in old_lines[position:i2]]
    return "".join(out)


def _accounts_for_changes(old_lines: Sequence[str], new_lines: Sequence[str], opcodes: Sequence[tuple[int, int, int, int]]) -> bool:
    """Every line outside the changed ranges is the same in both texts."""
    i = j = 0
    for i1, i2, j1, j2 in opcodes:
        if i1 - i != j1 - j or old_lines[i:i1] != new_lines[j:j1]:
            return False
        i, j = i2, j2
    return len(old_lines) - i == len(new_lines) - j and old_lines[i:] == new_lines[j:]


def _line_changes(
    old_lines: Sequence[str], new_lines: Sequence[str], region: tuple[int, int, int, int]
) -> list[tuple[int, int, int, int]]:
    """The lines that differ inside one edited region (a reply added under an entry is an insertion)."""
    i1, i2, j1, j2 = region
    if i2 - i1 == 1 and j2 - j1 == 1:  # one line for one (a flipped tag): what difflib would say
        return [] if old_lines[i1] == new_lines[j1] else [region]
    matcher = difflib.SequenceMatcher(None, old_lines[i1:i2], new_lines[j1:j2], autojunk=False)
    return [(i1 + a1, i1 + a2, j1 + b1, j1 + b2) for op, a1, a2, b1, b2 in matcher.get_opcodes() if op != "equal"]


def _hunks(opcodes: Sequence[tuple[int, int, int, int]]) -> list[list[tuple[int, int, int, int]]]:
    """Changes close enough to share their context, grouped as `diff -u` groups them."""
    groups: list[list[tuple[int, int, int, int]]] = []
    for opcode in opcodes:
        if groups and opcode[0] - groups[-1][-1][1] <= 2 * _CONTEXT:
            groups[-1].append(opcode)
        else:
            groups.append([opcode])
    return groups


def _hunk_range(start: int, stop: int) -> str:
    """`start,length` as unified diff headers write it (1-based; a lone line has no length)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if length == 0 else start + 1},{length}"
