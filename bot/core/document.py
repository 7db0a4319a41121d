"""Parse a threat-model document into `bot.core.model.Document`. Pure: no I/O.

One pass over the lines finds code fences, headings (sections), the provenance legend and
the stated tally; one regex pass over the whole text finds tags (they may wrap across a line
break); §14 is then read block by block into questions. Shapes the parser does not understand
are reported in `Document.issues` with their line, never silently dropped.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import accumulate

from bot.core import dialect
from bot.core.entries import Entry, read_section
from bot.core.model import (
    Document,
    EntryReading,
    ParseIssue,
    Question,
    QuestionState,
    Section,
    Span,
    Tag,
    TagKind,
    Tally,
)
from bot.core.tags import (
    TAG_PATTERN,
    find_tag_like,
    flatten,
    is_bare,
    looks_like_provenance,
    maintainer_names,
    normalise_question_id,
    parse_tag_text,
    question_key,
)

__all__ = ["normalise_question_id", "parse_document", "parse_questions", "parse_tag_text", "question_key"]

# --- line shapes -------------------------------------------------------------------------------
_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]*(?P<fence>```|~~~)")
_SECTION_SIGN = re.compile(r"^(?:\*\*)?§\s?(?P<num>\d+[a-z]?(?:\.\d+)*)\.?(?:\*\*)?(?:\s+|$)(?P<title>.*)$")
_NUMBERED = re.compile(r"^(?P<num>\d+(?:\.\d+)+|\d+\.)\s+(?P<title>\S.*)$")
_APPENDIX = re.compile(r"^Appendix(?:\s+(?P<letter>[A-Z]|\d+))?\s*[:—–-]?\s*(?P<title>.*)$", re.IGNORECASE)
_LIST_ITEM_LABEL = re.compile(r"^[ \t]*[-*+][ \t]+\*\*")
_LEGEND_START = re.compile(r"provenance legend", re.IGNORECASE)
_TALLY_START = re.compile(
    r"\*\*(?:draft\s+)?(?:confidence|stats|statistics)\b[^*]*\*\*|\bdraft stats\b"
    r"|\bprovenance[- ](?:tag[- ])?(?:tally|summary)\b|\btag tally\b",
    re.IGNORECASE,
)
_LABEL_WORDS = re.compile(r"[Ll]egend|[Cc]onfidence|[Ss]tat(?:s|istics)\b|[Tt]ally|[Ss]ummary")
_LABEL_HINTS = ("egend", "onfidence", "tat", "ally", "ummary")  # each _LABEL_WORDS match holds one
_STATED_FIGURE = re.compile(
    r"(?P<approx>~|≈|about\s+|approx\.?\s+)?(?P<count>(?<!\d)\d++)\s*+(?:[*_]\(\s*)?(?P<kind>documented|maintainer|inferred)\b",
    re.IGNORECASE,
)
_KIND_CELL = re.compile(r"^[*_(\s]*(documented|maintainer|inferred)[)*_\s]*$", re.IGNORECASE)
_COUNT_CELL = re.compile(r"^(~|≈)?\s*(\d+)$")

# --- §14 shapes --------------------------------------------------------------------------------
_MALFORMED_QUESTION = re.compile(r"^[ \t]*(?:[-*+][ \t]+|\d+[.)][ \t]+)?\*\*(?:Q(?![\d-])|Question\s*\d)", re.IGNORECASE)
_LABEL_TAIL = re.compile(r"^\s*[:.)][ \t]+")
_SUB_ITEM = re.compile(r"^[ \t]+[-*+][ \t]")
# `[*_]?\((?:maps to|→|lands in) refs\)[*_]?` or `[*_]\(meta …\)[*_]`, written to open with one
# character class: the regex engine then skips to the candidates instead of trying every
# position (3-5x faster on §14 entries, which are cleaned of these markers several times).
_MAPS_MARKER = re.compile(
    r"[*_(](?:(?:(?<=[*_])\(|(?<=\())(?:maps\s+to|→|lands\s+in)\s*(?P<refs>[^()]*)\)[*_]?"
    r"|(?<=[*_])\(meta\b(?P<meta>[^()]*)\)[*_])",
    re.IGNORECASE,
)
_PAREN = re.compile(r"(?<![*_])\((?P<inner>[^()]*)\)")
_REF = re.compile(
    r"§\s?(?P<num>\d+(?:\.\d+)*[a-z]?)"
    r"(?:\s+(?P<qual>items?\s+\d+(?:\s*[–-]\s*\d+)?|[PBS]\d+(?:/[PBS]?\d+)*|#\d+|false[- ]friends?|row\s+\"[^\"]*\"))?"
    r"(?P<rubric>\s+of the rubric)?"
)
_ONLY_REFS = re.compile(
    r"^(?:(?:see|lands in)\s+)?(?:§\s?\d+(?:\.\d+)*[a-z]?"
    r"(?:\s+(?:items?\s+\d+(?:\s*[–-]\s*\d+)?|[PBS]\d+(?:/[PBS]?\d+)*|#\d+))?[\s,/;]*)+\.?$",
    re.IGNORECASE,
)
_PROPOSED_PAREN = re.compile(r"\(proposed:\s*", re.IGNORECASE)
_PROPOSED_LEAD = re.compile(r"\bproposed(?:\s+[\w§-]+){0,3}:\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z*(`\"])")
_AT_LOGIN = re.compile(r"`?@(?P<login>[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})`?")
_DIGIT = re.compile(r"\d")
_ANSWER_LEAD = re.compile(r"^(?:[-*+]\s+)?>?\s*")
_TAG_NOTE = re.compile(r"\s[—–]\s(?P<note>.*)$")
_NOT_A_REPLY = re.compile(r"^(?:§14|`?https?:|PR\b|see\b)", re.IGNORECASE)
_PLAIN_MAINTAINER = re.compile(r"^\((?:\*\*)?maintainer(?:\*\*)?\)")
_LEADING_PUNCTUATION = re.compile(r"^[\s:—–.-]+")

# A bare tag that is talked about rather than attached to a claim: `Every *(inferred)* tag ...`,
# `promoted from *(inferred)* to *(maintainer)*`, `folded above as *(maintainer)*`.
_MENTION_BEFORE = re.compile(
    r"(?:\b(?:from|promoted?|promotes|every|each|remaining|as|tagged|the|an?|all|any)|→|=|/)\s*$", re.IGNORECASE
)
_MENTION_AFTER = re.compile(r"^\s*(?:=|→|/|tags?\b|claims?\b|citations?\b|(?:to|and|or)\s+[*_]\()", re.IGNORECASE)
_UNCLOSED_TAG = re.compile(r"[*_]\((?:documented|inferred|maintainer)\b", re.IGNORECASE)


@dataclass
class _Heading:
    line: int
    level: int
    label: str
    title: str


def parse_document(text: str, path: str = "") -> Document:
    """Read a threat-model document; never raises on a document shape it does not know."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    reader = _Reader(text, lines, path)
    return reader.read()


def parse_questions(text: str, known: Mapping[Hashable, EntryReading] | None = None) -> tuple[Question, ...]:
    """The §14 questions of a text, exactly as `parse_document` reads them, and nothing else.

    Questions depend only on the lines, fences and headings, never on tags, the legend or the
    tally, so a caller that needs only the questions (the planner's read-back) skips those.
    `known`: entry readings from an earlier parse (`Document.entry_readings`); an entry read
    there is not read again.
    """
    lines = [line.rstrip("\r") for line in text.split("\n")]
    return _Reader(text, lines, "", known).read_questions()


class _Reader:
    def __init__(self, text: str, lines: list[str], path: str, known: Mapping[Hashable, EntryReading] | None = None) -> None:
        self.text = text
        self.lines = lines
        self.path = path
        self.issues: list[ParseIssue] = []
        self.known: Mapping[Hashable, EntryReading] = known or {}
        self.readings: dict[Hashable, EntryReading] = {}  # what this reading adds, for Document.entry_readings
        self.line_starts = list(accumulate((len(line) + 1 for line in text.split("\n")[:-1]), initial=0))
        # Each distinct tag text read once: a document repeats its tags (`*(maintainer: login)*`
        # dozens of times) and §14 replies repeat them again. Kept for this one reading only.
        self._tag_readings: dict[str, tuple[TagKind, dict] | None] = {}

    # --- driver ---
    def read_questions(self) -> tuple[Question, ...]:
        skipped = self._skipped_lines()
        headings, _ = self._headings(skipped)
        open_section = self._open_questions_section(self._sections(headings))
        return self._questions(open_section, skipped) if open_section is not None else ()

    def read(self) -> Document:
        skipped = self._skipped_lines()
        headings, title = self._headings(skipped)
        sections = self._sections(headings)
        section_of_line = self._innermost_numbered(sections)
        quiet = self._legend_and_tally_lines(skipped, headings)
        tags, _mentions = self._tags(skipped, section_of_line, quiet)
        open_section = self._open_questions_section(sections)
        questions: tuple[Question, ...] = ()
        if open_section is not None:
            questions = self._questions(open_section, skipped)
        tags = _without_unknown_named_links(tags, questions)
        self._check_backlinks(tags, questions)
        tally = self._tally(tags, skipped, headings, open_section)
        return Document(
            path=self.path,
            title=title,
            sections=sections,
            tags=tags,
            questions=questions,
            tally=tally,
            issues=tuple(sorted(self.issues, key=lambda issue: issue.line)),
            has_open_questions_section=open_section is not None,
            entry_readings=self.readings,
        )

    def _issue(self, line: int, message: str, excerpt: str = "") -> None:
        self.issues.append(ParseIssue(line=line, message=message, excerpt=excerpt[:160]))

    # --- lines, headings, sections ---
    def _skipped_lines(self) -> list[bool]:
        """Lines inside code fences or HTML comments (index = 1-based line number)."""
        skipped = [False] * (len(self.lines) + 1)
        fence: str | None = None
        in_comment = False
        for number, line in enumerate(self.lines, start=1):
            # A fence line holds a run of backticks or tildes: most lines hold neither.
            fence_match = _FENCE.match(line) if "`" in line or "~" in line else None
            if fence is not None:
                skipped[number] = True
                if fence_match and fence_match.group("fence") == fence:
                    fence = None
                continue
            if fence_match:
                fence = fence_match.group("fence")
                skipped[number] = True
                continue
            if in_comment or ("<!--" in line and line.lstrip().startswith("<!--")):
                skipped[number] = True
                in_comment = "-->" not in line
        return skipped

    def _headings(self, skipped: list[bool]) -> tuple[list[_Heading], str | None]:
        raw: list[tuple[int, int, str]] = []
        for number, line in enumerate(self.lines, start=1):
            if skipped[number] or not line.startswith("#"):
                continue
            match = _HEADING.match(line)
            if match:
                raw.append((number, len(match.group("hashes")), match.group("text").strip()))
        # Plain `## 3. Out of scope` numbering counts only when the document clearly uses it.
        numbered = sum(1 for _, _, heading in raw if _NUMBERED.match(heading))
        title: str | None = None
        headings: list[_Heading] = []
        for number, level, heading in raw:
            if level == 1 and title is None:
                title = heading
                continue
            label, heading_title = _label(heading, numbered >= 2)
            headings.append(_Heading(number, level, label, heading_title))
        return headings, title

    def _sections(self, headings: list[_Heading]) -> tuple[Section, ...]:
        sections = []
        last_line = len(self.lines)
        while last_line > 1 and not self.lines[last_line - 1].strip():
            last_line -= 1
        for index, heading in enumerate(headings):
            end = last_line
            for later in headings[index + 1 :]:
                if later.level <= heading.level:
                    end = later.line - 1
                    break
            sections.append(Section(heading.label, heading.title, heading.level, Span(heading.line, max(end, heading.line))))
        return tuple(sections)

    def _innermost_numbered(self, sections: tuple[Section, ...]) -> list[str | None]:
        labels: list[str | None] = [None] * (len(self.lines) + 2)
        for section in sorted(sections, key=lambda section: section.level):
            if section.label.startswith("§"):
                for number in range(section.span.start_line, section.span.end_line + 1):
                    labels[number] = section.label
        return labels

    def _open_questions_section(self, sections: tuple[Section, ...]) -> Section | None:
        for section in sections:
            if section.label == "§14":
                return section
        for section in sections:
            if section.level <= 3 and dialect.OPEN_QUESTIONS_TITLE.search(section.title):
                return section
        return None

    # --- legend and stated tally ---
    def _block_end(self, start: int, headings_at: set[int]) -> int:
        """The last line of the list item / paragraph that starts at `start`."""
        number = start
        while number < len(self.lines):
            following = self.lines[number]  # line number + 1
            if not following.strip() or (number + 1) in headings_at or _LIST_ITEM_LABEL.match(following):
                break
            number += 1
        return number

    def _label_block_end(self, number: int, headings_at: set[int]) -> int:
        """Last line of a legend/tally label's block; a label on its own line may head a table."""
        end = self._block_end(number, headings_at) if number not in headings_at else number
        probe = end + 1
        while probe <= len(self.lines) and not self.lines[probe - 1].strip():
            probe += 1
        if probe <= len(self.lines) and self.lines[probe - 1].lstrip().startswith("|"):
            end = probe
            while end < len(self.lines) and self.lines[end].lstrip().startswith("|"):
                end += 1
        return end

    def _candidate_lines(self, skipped: list[bool]) -> list[int]:
        """Lines that may hold a legend or tally label: a cheap word test before the regexes.

        `_LABEL_WORDS` on every line costs more than the rest of the line pass; a substring
        search over the whole text finds the few lines holding a fragment of a label word.
        """
        if not hasattr(self, "_candidates"):
            hinted = {self._position(offset)[0] for hint in _LABEL_HINTS for offset in _occurrences(self.text, hint)}
            self._candidates = [
                number for number in sorted(hinted) if not skipped[number] and _LABEL_WORDS.search(self.lines[number - 1])
            ]
        return self._candidates

    def _legend_and_tally_lines(self, skipped: list[bool], headings: list[_Heading]) -> list[bool]:
        """Lines of the provenance legend and of the stated tally: tags there are talked about, not claims."""
        quiet = [False] * (len(self.lines) + 2)
        headings_at = {heading.line for heading in headings}
        for number in self._candidate_lines(skipped):
            line = self.lines[number - 1]
            if not (_LEGEND_START.search(line) or _TALLY_START.search(line)):
                continue
            for covered in range(number, self._label_block_end(number, headings_at) + 1):
                quiet[covered] = True
        return quiet

    def _tally(
        self, tags: tuple[Tag, ...], skipped: list[bool], headings: list[_Heading], open_section: Section | None
    ) -> Tally:
        counted = {kind.value: 0 for kind in TagKind}
        claims = {kind.value: 0 for kind in TagKind}
        for tag in tags:
            counted[tag.kind.value] += 1
            if open_section is None or not open_section.span.start_line <= tag.line <= open_section.span.end_line:
                claims[tag.kind.value] += 1
        stated, stated_line, approximate = self._stated_tally(skipped, headings)
        disagreements = []
        if stated is not None:
            for kind, figure in stated.items():
                if claims.get(kind, 0) != figure:
                    marker = "~" if kind in approximate else ""
                    disagreements.append(f"{kind}: stated {marker}{figure}, counted {claims.get(kind, 0)}")
        return Tally(counted=counted, stated=stated, stated_line=stated_line, disagreements=tuple(disagreements), claims=claims)

    def _stated_tally(
        self, skipped: list[bool], headings: list[_Heading]
    ) -> tuple[dict[str, int] | None, int | None, set[str]]:
        headings_at = {heading.line for heading in headings}
        for number in self._candidate_lines(skipped):
            if not _TALLY_START.search(self.lines[number - 1]):
                continue
            end = self._label_block_end(number, headings_at)
            stated: dict[str, int] = {}
            approximate: set[str] = set()
            # Prose figures may wrap (`51 *(documented)* / 42\n *(maintainer)*`): read the block as one.
            block = self.lines[number - 1 : end]
            prose = flatten("\n".join(line for line in block if not line.lstrip().startswith("|")))
            figures = _prose_figures(prose)
            for line in block:
                if line.lstrip().startswith("|"):
                    figures.extend(_table_figures(line))
            for kind, count, approx in figures:
                if kind not in stated:
                    stated[kind] = count
                    if approx:
                        approximate.add(kind)
            first_line = next((n for n in range(number, end + 1) if _DIGIT.search(self.lines[n - 1])), number)
            if stated:
                return stated, first_line, approximate
        return None, None, set()

    # --- tags ---
    def _position(self, offset: int) -> tuple[int, int]:
        line_index = bisect_right(self.line_starts, offset) - 1
        return line_index + 1, offset - self.line_starts[line_index]

    def _tags(
        self, skipped: list[bool], section_of_line: list[str | None], quiet: list[bool]
    ) -> tuple[tuple[Tag, ...], int]:
        tags: list[Tag] = []
        mentions = 0
        covered: list[tuple[int, int]] = []
        for found in find_tag_like(self.text):
            line, col_start = self._position(found.start)
            end_line, col_end = self._position(found.end)
            if skipped[line]:
                continue
            covered.append((found.start, found.end))
            raw = self.text[found.start : found.end]
            parsed = self._read_tag(raw)
            if parsed is None:
                if looks_like_provenance(found.body):
                    self._issue(line, "tag-like note reads like provenance but names no known kind", flatten(raw))
                continue
            kind, details = parsed
            if is_bare(found.body) and (quiet[line] or self._is_mention(found.start, found.end)):
                mentions += 1
                continue
            if quiet[line]:
                mentions += 1
                continue
            tags.append(
                Tag(
                    line=line,
                    col_start=col_start,
                    col_end=col_end,
                    kind=kind,
                    raw=raw,
                    source=details["source"],
                    questions=details["questions"],
                    maintainers=details["maintainers"],
                    date=details["date"],
                    section=section_of_line[line],
                    end_line=end_line,
                    also=details["also"],
                )
            )
        tags.extend(self._check_unclosed(skipped, covered, section_of_line))
        tags.sort(key=lambda tag: (tag.line, tag.col_start))
        return tuple(tags), mentions

    def _read_tag(self, raw: str) -> tuple[TagKind, dict] | None:
        """`parse_tag_text`, once per distinct text in this document."""
        if raw not in self._tag_readings:
            self._tag_readings[raw] = parse_tag_text(raw)
        return self._tag_readings[raw]

    def _is_mention(self, start: int, end: int) -> bool:
        before = self.text[max(0, start - 30) : start]
        after = self.text[end : end + 30]
        return bool(_MENTION_BEFORE.search(before) or _MENTION_AFTER.match(after))

    def _check_unclosed(
        self, skipped: list[bool], covered: list[tuple[int, int]], section_of_line: list[str | None]
    ) -> list[Tag]:
        """Openers the flat pattern missed: an outer tag around a nested one, or a tag never closed.

        `*(documented: X; *(inferred — §14 Q5)*)*` holds two tags: the inner one is already
        found; the outer one is closed here by counting nesting. Anything else is reported.
        """
        starts = {start for start, _ in covered}
        outer_tags: list[Tag] = []
        for match in _UNCLOSED_TAG.finditer(self.text):
            if match.start() in starts:
                continue
            line, col_start = self._position(match.start())
            if skipped[line]:
                continue
            end = _nested_close(self.text, match.start())
            parsed = parse_tag_text(_without_nested(self.text[match.start() : end])) if end else None
            if end is None or parsed is None:
                self._issue(line, "provenance tag is opened but not closed within its paragraph", self.lines[line - 1])
                continue
            kind, details = parsed
            end_line, col_end = self._position(end)
            outer_tags.append(
                Tag(
                    line=line,
                    col_start=col_start,
                    col_end=col_end,
                    kind=kind,
                    raw=self.text[match.start() : end],
                    source=details["source"],
                    questions=details["questions"],
                    maintainers=details["maintainers"],
                    date=details["date"],
                    section=section_of_line[line],
                    end_line=end_line,
                    also=details["also"],
                )
            )
        return outer_tags

    def _check_backlinks(self, tags: tuple[Tag, ...], questions: tuple[Question, ...]) -> None:
        if not questions:
            return
        known = {question_key(question.id) for question in questions}
        reported: set[str] = set()
        for tag in tags:
            for ref in tag.questions:
                if question_key(ref) not in known and ref not in reported:
                    reported.add(ref)
                    self._issue(tag.line, f"tag links §14 {ref}, which §14 does not contain", flatten(tag.raw))

    # --- §14 questions ---
    def _questions(self, section: Section, skipped: list[bool]) -> tuple[Question, ...]:
        reading = read_section(self.lines, section.span.start_line + 1, section.span.end_line, skipped)
        section_says = dialect.section_state(section.title)
        if section_says is not None and self._any_marked(reading.entries):
            # Entries that carry their own answers say which are answered; the heading does not.
            section_says = None
        resolvers = tuple(dict.fromkeys(match.group("login") for match in _AT_LOGIN.finditer(" ".join(reading.intro))))
        # `All questions below have been answered …`: the intro settles every entry without its own word.
        intro_says = dialect.intro_state(" ".join(reading.intro))
        first_entry = reading.entries[0].start if reading.entries else section.span.end_line + 1
        for number, paragraph in reading.orphans:
            if number > first_entry or not reading.entries:  # an intro may ask things of its reader
                self._report_orphan(number, paragraph)
        entry_starts = {entry.start for entry in reading.entries}
        unaccepted = False
        for number in range(section.span.start_line + 1, section.span.end_line + 1):
            if not skipped[number] and number not in entry_starts and _MALFORMED_QUESTION.match(self.lines[number - 1]):
                unaccepted = True
                self._issue(number, "looks like a §14 question but has no id it accepts", self.lines[number - 1].strip())
        questions: list[Question] = []
        seen: dict[str, int] = {}
        for entry in reading.entries:
            for question in self._entry_questions(entry, section_says or intro_says, resolvers):
                if question.id in seen:
                    self._issue(entry.start, f"question {question.id} appears again (first at line {seen[question.id]})")
                    continue
                seen[question.id] = entry.start
                questions.append(question)
        if not questions and (unaccepted or any("?" in paragraph for _, paragraph in reading.orphans)):
            self._issue(
                section.span.start_line,
                "§14 has question-like lines but no question id this reader accepts "
                "(Q8, Q14.1, Q5a, Q-name, or a numbered list)",
            )
        return tuple(questions)

    def _any_marked(self, entries: list[Entry]) -> bool:
        reported = list(self.issues)
        marked = any(
            question.state is not QuestionState.OPEN
            for entry in entries
            for question in self._entry_questions(entry, None, ())
        )
        self.issues = reported  # a trial reading reports nothing
        return marked

    def _report_orphan(self, number: int, paragraph: str) -> None:
        """A §14 paragraph outside every question that still asks something is reported."""
        flat = flatten(paragraph)
        if "?" in flat and not _MALFORMED_QUESTION.match(paragraph):
            self._issue(number, "§14 paragraph reads like a question but has no question id", flat)

    def _entry_questions(self, entry: Entry, section_says: str | None, resolvers: tuple[str, ...]) -> list[Question]:
        """The entry's questions, read once per entry as written (see `_entry_key`)."""
        key = _entry_key(entry, section_says, resolvers)
        reading = self.known.get(key) or self.readings.get(key)
        if reading is None:
            first_issue = len(self.issues)
            questions = self._read_entry_questions(entry, section_says, resolvers)
            self.readings[key] = EntryReading(entry.start, tuple(questions), tuple(self.issues[first_issue:]))
            return questions
        moved = entry.start - reading.start
        if not moved:
            self.issues.extend(reading.issues)
            return list(reading.questions)
        self.issues.extend(replace(issue, line=issue.line + moved) for issue in reading.issues)
        return [_moved(question, moved) for question in reading.questions]

    def _read_entry_questions(self, entry: Entry, section_says: str | None, resolvers: tuple[str, ...]) -> list[Question]:
        span = Span(entry.start, entry.end)
        state = QuestionState.OPEN
        answered_by: tuple[str, ...] = ()
        answer: str | None = None
        question_lines = entry.lines
        answer_lines: list[str] = []
        title = entry.title

        # `(answered, Claudenw)` / `— answered.` inside the bold label: the bold is the question.
        title_state = dialect.title_answered(title)
        # A numbered item's bold title (`1. **HMAC passphrase — answered.** …`) says it too.
        lead = dialect.bold_prefix(entry.lines[0].lstrip()) if entry.lines and not title else None
        lead_state = dialect.title_answered(lead[0]) if lead else None
        # `1. **Topic:** *resolved* — …` / `**Q4.** *Answered* — …`: a status stamped after the label.
        after_label = entry.lines[0].lstrip()[lead[1] :] if lead else (entry.lines[0] if entry.lines and title else "")
        stamped = dialect.status_after_label(after_label) if after_label else None
        for index, line in enumerate(entry.lines[1:], start=1):
            # An answer starts a paragraph, a sub-item or a quote, never mid-sentence.
            paragraph_start = not entry.lines[index - 1].strip() or _SUB_ITEM.match(line)
            if dialect.QUOTE_LINE.match(line) or (dialect.ANSWER_LINE.match(line) and paragraph_start):
                question_lines, answer_lines = entry.lines[:index], entry.lines[index:]
                break
        block_flat = flatten("\n".join(entry.lines))
        question_flat = block_flat if question_lines is entry.lines else flatten("\n".join(question_lines))
        arrow = dialect.arrow_answer(question_flat)
        if arrow is not None and not answer_lines:
            # `… ? → **Confirmed.** …`: the question is what comes before the arrow.
            said = question_flat[arrow.end() :]
            answer_lines = [said.replace(arrow.group(0).strip("→ \t"), "", 1)]  # `→ **Yes.** …` -> `Yes. …`
            question_flat = question_flat[: arrow.start()].rstrip()
        # `**Q14.R1** (§1a B5/B6) — ...` and a closing `... ? (§2/§7.)` map the question too.
        question_flat, edge_refs = _edge_refs(question_flat)
        maps_to = tuple(dict.fromkeys(edge_refs + _maps_to(" ".join(part for part in (title, block_flat) if part))))

        resolved = dialect.RESOLVED_MARK.search(question_flat)
        bracket = dialect.ANSWERED_BRACKET.search(question_flat) if "[" in question_flat else None
        inline = dialect.INLINE_ANSWER.match(question_flat)
        # "still open" counts where the question is asked and in the latest reply, not in an earlier
        # reply a later one settled (`*(maintainer)* Discussion needed.` then `*(maintainer)* Confirmed.`).
        latest_reply = "\n".join(answer_lines).rsplit("\n\n", 1)[-1] if answer_lines else ""
        still_open = entry.open_status or dialect.says_still_open(f"{title} {question_flat} {flatten(latest_reply)}")
        if resolved:
            state = QuestionState.RESOLVED
            text = question_flat[: resolved.start()]
            answer, answered_by = _answer_after_marker(
                question_flat[resolved.end() :] + " " + flatten("\n".join(answer_lines)), self._read_tag
            )
        elif title_state:
            state = QuestionState.RESOLVED if dialect.title_word(title_state) == "resolved" else QuestionState.ANSWERED
            answered_by = maintainer_names(title_state.group("who") or "")
            text = (title[: title_state.start()] + title[title_state.end() :]).strip(" .—–-:")
            answer = _clean(block_flat) or None
        elif bracket:
            state = QuestionState.ANSWERED
            answered_by = maintainer_names(bracket.group("who") or "")
            rest = (question_flat[: bracket.start()] + " " + question_flat[bracket.end() :]).strip()
            asked, mark, reply = rest.partition("?")
            text = asked + mark if mark else rest
            answer = _clean(reply + " " + flatten("\n".join(answer_lines))) or None
        elif inline:
            # `*(Answered — PMC, PR #677: no bound ...)*` before the question; "Partially" keeps it open.
            state = QuestionState.OPEN if inline.group("partial") else QuestionState.ANSWERED
            who, _, said = inline.group("detail").partition(":")
            answered_by = maintainer_names(who)
            answer = _clean(said or inline.group("detail")) or None
            text = question_flat[inline.end() :]
        elif answer_lines:
            answer_flat = flatten("\n".join(answer_lines))
            # A RESOLVED note after the answer (what a fold appends) settles it.
            state = QuestionState.RESOLVED if dialect.RESOLVED_MARK.search(answer_flat) else QuestionState.ANSWERED
            text = question_flat
            answer, answered_by = _answer_after_marker(answer_flat, self._read_tag)
        elif lead_state:
            state = QuestionState.RESOLVED if dialect.title_word(lead_state) == "resolved" else QuestionState.ANSWERED
            answered_by = maintainer_names(lead_state.group("who") or "")
            text = question_flat
            answer = _clean(question_flat[lead[1] :]) or None  # type: ignore[index]  # lead_state implies the lead was found
        elif stamped:
            state = QuestionState.RESOLVED if stamped == "resolved" else QuestionState.ANSWERED
            text = question_flat
            answer = _clean(question_flat) or None
        elif dialect.rewritten_as_answer(question_flat):
            state = QuestionState.ANSWERED
            text = question_flat
            answer = _clean(question_flat) or None
        elif _check_mark(block_flat):
            state = QuestionState.ANSWERED
            text, _, said = question_flat.partition(_check_mark(question_flat) or "\0")
            answer = _clean(said) or None
        else:
            text = question_flat
            if "~~" in question_flat:
                state = QuestionState.RESOLVED
                self._issue(entry.start, "question is struck through but carries no RESOLVED note", question_flat)
        if state is QuestionState.OPEN and dialect.unmarked_reply(question_flat):
            # Ambiguous: an answer or the draft's own recommendation. Open is the safe reading.
            self._issue(entry.start, "question ends in a reply with no answer marker; read as open", question_flat)
        said_status = dialect.status_line_state("\n".join(entry.lines))
        if said_status == "open":
            still_open = True
        elif said_status is not None and state is QuestionState.OPEN:
            state = QuestionState.RESOLVED if said_status == "resolved" else QuestionState.ANSWERED
        if entry.checked and state is QuestionState.OPEN:
            state = QuestionState.ANSWERED  # `- [x] **Q8.** …`: ticked off in the document
        settled = state is QuestionState.RESOLVED  # a RESOLVED note is final
        if state is not QuestionState.OPEN and (still_open or entry.group_state == "open") and not settled:
            # "Partially answered", "still open", a group "(still with the PMC)": not answered yet.
            strong = bool(
                title_state or lead_state or stamped or bracket or inline or answer_lines or _check_mark(block_flat)
                or said_status or entry.checked
            )
            if still_open or not strong:
                state = QuestionState.OPEN
        elif state is QuestionState.OPEN and not still_open and entry.group_state != "open":
            covering = entry.group_state or section_says
            if covering is not None:
                # The group's or the section's heading answers every question under it.
                state = QuestionState.RESOLVED if covering == "resolved" else QuestionState.ANSWERED
                answer = answer or _clean(question_flat) or None
                answered_by = answered_by or _heading_names(entry.wave) or resolvers

        if state is not QuestionState.OPEN and not answered_by:
            # `→ **Confirmed.** … *(maintainer: login)*`: the tag on the answer names who gave it.
            answered_by = _tag_names(flatten("\n".join(answer_lines)) if answer_lines else block_flat)
            answered_by = answered_by or (_heading_names(entry.wave) if entry.group_state else ())
        text = _LABEL_TAIL.sub("", text)  # `**Q1**: Is …` leaves the colon outside the bold
        if title and not title_state:
            text = f"{title.strip(' .—–-:')} {text}".strip()
        proposed = _proposed_answer(text)
        cleaned_text = _clean(text)
        if not cleaned_text and answer:
            # An entry that keeps only its resolution (`- **Q-csi.** *(Answered — …)*`): its words stand in.
            cleaned_text = answer
            self._issue(entry.start, "question has an id but no text; its answer stands in for it", block_flat)
        elif not cleaned_text:
            self._issue(entry.start, "question has an id but no text", block_flat)
        return [
            Question(
                id=question_id,
                wave=entry.wave,
                span=span,
                text=_clean(flatten(entry.segments[question_id])) if question_id in entry.segments else cleaned_text,
                proposed_answer=proposed,
                maps_to=maps_to,
                state=state,
                answered_by=answered_by,
                answer=answer,
            )
            for question_id in entry.ids
        ]


# --- helpers -----------------------------------------------------------------------------------
def _entry_key(entry: Entry, section_says: str | None, resolvers: tuple[str, ...]) -> Hashable:
    """Everything an entry's reading depends on but where it sits: same key, same questions.

    `_read_entry_questions` reads the entry's words, ids, group and flags, and its first and
    last line only to place its span and issues, which a reuse moves by the distance it moved.
    """
    return (
        entry.ids,
        entry.wave,
        entry.group_state,
        entry.listy,
        entry.title,
        entry.open_status,
        entry.checked,
        entry.heading_level,
        tuple(entry.lines),
        tuple(entry.segments.items()),
        entry.end - entry.start,
        section_says,
        resolvers,
    )


def _moved(question: Question, lines: int) -> Question:
    """The question with its span moved down by `lines`."""
    span = question.span
    return replace(question, span=Span(span.start_line + lines, span.end_line + lines))


def _occurrences(text: str, fragment: str) -> Iterator[int]:
    """Every offset where `fragment` starts in `text` (str.find: no regex scan)."""
    offset = text.find(fragment)
    while offset >= 0:
        yield offset
        offset = text.find(fragment, offset + 1)


_NESTING = re.compile(r"[*_]\(|\)[*_]|\n[ \t>]*\n")


def _nested_close(text: str, start: int) -> int | None:
    """End offset of the tag opened at `start`, counting nested tags; None if its paragraph ends first."""
    depth = 0
    for match in _NESTING.finditer(text, start):
        token = match.group(0)
        if token.startswith("\n"):
            return None
        depth += 1 if token.endswith("(") else -1
        if depth == 0:
            return match.end()
    return None


def _without_nested(raw: str) -> str:
    """The outer tag with its nested tags taken out, so their back-links are not read twice."""
    inner = raw[2:-2]
    return raw[:2] + TAG_PATTERN.sub("", inner) + raw[-2:]


def _label(heading: str, numbered_document: bool) -> tuple[str, str]:
    """("§5a", "Build-time ...") from `§5a Build-time ...`; ("Appendix: X", "X"); ("", heading)."""
    match = _SECTION_SIGN.match(heading)
    if match:
        return f"§{match.group('num')}", match.group("title").strip(" —–-:")
    if numbered_document:
        match = _NUMBERED.match(heading)
        if match:
            return f"§{match.group('num').rstrip('.')}", match.group("title").strip()
    match = _APPENDIX.match(heading)
    if match and heading[:8].lower() == "appendix":
        letter = f" {match.group('letter')}" if match.group("letter") else ""
        title = match.group("title").strip()
        return f"Appendix{letter}: {title}".rstrip(": "), title
    return "", heading


def _table_figures(line: str) -> list[tuple[str, int, bool]]:
    """(kind, count, approximate) from a table row like `| *(inferred)* | ~12 |`."""
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    kind = next((m.group(1).lower() for cell in cells if (m := _KIND_CELL.match(cell))), None)
    count = next((m for cell in cells if (m := _COUNT_CELL.match(cell))), None)
    return [(kind, int(count.group(2)), bool(count.group(1)))] if kind and count else []


def _prose_figures(text: str) -> list[tuple[str, int, bool]]:
    """(kind, count, approximate) from prose like `~54 *(documented)* citations / 0 maintainer`."""
    return [
        (match.group("kind").lower(), int(match.group("count")), bool(match.group("approx")))
        for match in _STATED_FIGURE.finditer(text)
    ]


def _refs(fragment: str) -> list[str]:
    refs = []
    for match in _REF.finditer(fragment):
        if match.group("rubric"):
            continue  # `§3.1a of the rubric` cites the drafting rubric, not this document
        qualifier = f" {match.group('qual')}" if match.group("qual") else ""
        refs.append(f"§{match.group('num')}{qualifier}")
    return refs


def _maps_to(flat: str) -> tuple[str, ...]:
    """Section references from `*(maps to ...)*`, `(→ ...)`, `*(meta — §11a)*`, `(Lands in ...)`, `(§2/§7.)`."""
    refs: list[str] = []
    for match in _MAPS_MARKER.finditer(flat):
        refs.extend(_refs(match.group("refs") if match.group("refs") is not None else match.group("meta") or ""))
    return tuple(dict.fromkeys(refs))


_LEADING_REFS = re.compile(r"^\s*\((?P<inner>[^()]*)\)\s*[—–-]?\s*")
_TRAILING_REFS = re.compile(r"(?<!\s)\s*\((?P<inner>[^()]*)\)\s*$")


def _edge_refs(flat: str) -> tuple[str, tuple[str, ...]]:
    """Pure section-reference parentheses at the very start or end of a question, taken off the text."""
    refs: list[str] = []
    for pattern in (_LEADING_REFS, _TRAILING_REFS):
        if pattern is _TRAILING_REFS and not flat.rstrip().endswith(")"):
            continue  # it cannot match, and its search tries every position of a long entry
        match = pattern.search(flat)
        if match and _ONLY_REFS.match(match.group("inner").strip()):
            refs.extend(_refs(match.group("inner")))
            flat = flat[: match.start()] + " " + flat[match.end() :]
    return flat.strip(), tuple(refs)


def _clean(text: str) -> str:
    """Question/answer text: strike-through and mapping markers removed, single-spaced."""
    text = text.replace("~~", "")
    text = _MAPS_MARKER.sub(" ", text)
    return " ".join(text.split()).strip(" —–")


def _without_unknown_named_links(tags: tuple[Tag, ...], questions: tuple[Question, ...]) -> tuple[Tag, ...]:
    """Drop named back-links (`Q-confirmed`) that name no question of §14.

    Prose like "the exact set is Q-confirmed in §14" reads as a named id; a numbered back-link
    that §14 lacks is still reported (a typo or a removed question), a named one that matches
    nothing is taken for prose.
    """
    known = {question.id for question in questions}

    def kept(ref: str) -> bool:
        return not ref.startswith("Q-") or ref in known

    return tuple(
        tag if all(kept(ref) for ref in tag.questions) else replace(tag, questions=tuple(filter(kept, tag.questions)))
        for tag in tags
    )


def _check_mark(text: str) -> str | None:
    """The check mark (`✅`, `✔`, `☑`) a text carries, if any."""
    return next((mark for mark in dialect.CHECK_MARKS if mark in text), None)


def _tag_names(flat: str) -> tuple[str, ...]:
    """The maintainers named by the maintainer tags in a fragment, in order."""
    names: dict[str, None] = {}
    for found in find_tag_like(flat):
        parsed = parse_tag_text(flat[found.start : found.end])
        if parsed is not None and parsed[0] is TagKind.MAINTAINER:
            names.update(dict.fromkeys(parsed[1]["maintainers"]))
    return tuple(names)


_HEADING_PARENTHESIS = re.compile(r"\((?P<inner>[^()]{1,120})\)")


def _heading_names(heading: str | None) -> tuple[str, ...]:
    """Who a group heading says answered: `… — answered (benweidig, PR #61):` -> ("benweidig",)."""
    for match in _HEADING_PARENTHESIS.finditer(heading or ""):
        names = maintainer_names(match.group("inner"))
        if names:
            return names
    return ()


def _answer_after_marker(
    flat: str, read_tag: Callable[[str], tuple[TagKind, dict] | None] = parse_tag_text
) -> tuple[str | None, tuple[str, ...]]:
    """The answer after `**RESOLVED**` / `*(maintainer: x)*` / `(**maintainer**)` / `>`: text and names."""
    rest = flat.strip()
    rest = _ANSWER_LEAD.sub("", rest)
    names: tuple[str, ...] = ()
    note = ""
    tag = TAG_PATTERN.match(rest)
    if tag:
        parsed = read_tag(tag.group(0))
        if parsed is not None:
            names = parsed[1]["maintainers"]
            rest = rest[tag.end() :]
            # `*(maintainer: DaanHoogland — yes, out of scope)*`: the tag itself carries the reply.
            said = _TAG_NOTE.search(flatten(tag.group("body")))
            if said and not _NOT_A_REPLY.match(said.group("note")):
                note = said.group("note").strip()
    else:
        rest = _PLAIN_MAINTAINER.sub("", rest)
        reply = dialect.REPLY_LEAD.match(rest)
        if reply:  # `**Answer (login):** Yes …`
            names = maintainer_names(reply.group("who") or "")
            rest = rest[reply.end() :]
    rest = _clean(_LEADING_PUNCTUATION.sub("", rest.replace(" > ", " ")))
    answer = " — ".join(part for part in (note, rest) if part)
    return (answer or None), names


def _proposed_answer(text: str) -> str | None:
    """`(proposed: **yes**)` -> "yes"; `Proposed: the X is Y. Confirm.` -> "the X is Y."."""
    if "roposed" not in text:
        return None
    match = _PROPOSED_PAREN.search(text)
    if match:
        depth, index = 1, match.end()
        while index < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[index], 0)
            index += 1
        answer = text[match.end() : index - 1 if depth == 0 else index]
    else:
        match = _PROPOSED_LEAD.search(text)
        if match is None:
            return None
        answer = _SENTENCE_END.split(text[match.end() :], maxsplit=1)[0]
    answer = _clean(answer.replace("**", ""))
    return answer or None
