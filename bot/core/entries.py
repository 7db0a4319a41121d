"""The entries of a §14 open-questions section, read from its Markdown structure. Pure: no I/O.

markdown-it-py gives the block structure and each block's source lines: a question's extent is
its list item, or its paragraph and what follows it (paragraphs, code blocks, tables, quotes,
nested lists) up to the next question, group heading, heading or `---`. What a question looks
like (ids, labels, group headings) comes from `bot.core.dialect`.

Only the section is handed to the parser: it is a small part of a large document, and the rest
of the document is read line by line in `document.py`.

Two shapes real documents use are not CommonMark blocks, so lines are split where they start:
an item `8a.` (no list marker; CommonMark reads it as a lazy continuation of item 8) and an
ordered list whose first number is not 1 written right under a bold wave line (CommonMark
cannot start such a list inside a paragraph, so it reads the wave line and the items as one
paragraph).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock, lheading

from bot.core import dialect

# A line opening with one of these may underline a heading (`-`, `=`) or end a paragraph (a
# list, quote, fence, rule, HTML, heading or table may start there).
_MAY_END_PARAGRAPH = frozenset("-=+*_`~>#<|:0123456789")


def _setext_heading(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """markdown-it's setext-heading rule, tried only where an underline (`===`, `---`) may follow.

    The rule walks every line of a paragraph, running each block rule on it, before the
    paragraph rule walks them all again: a third of the block parse. Where the lines up to the
    next blank one all open with plain text, it cannot find a heading, so it is skipped, leaving
    the parser state as the rule itself leaves it then. A line that may underline or end the
    paragraph hands over to the rule, which stops there as before (so a long list stays linear).
    """
    line = start_line + 1
    while line < end_line and not state.isEmpty(line):
        if state.src[state.bMarks[line] + state.tShift[line]] in _MAY_END_PARAGRAPH:
            return lheading(state, start_line, end_line, silent)
        line += 1
    if not state.is_code_block(start_line):
        state.parentType = "paragraph"  # what the rule leaves behind when it finds no underline
    return False


def block_parser() -> MarkdownIt:
    """Block rules only: inline parsing is not needed for structure and is the costly part."""
    parser = MarkdownIt("commonmark", {"maxNesting": 40}).enable(["table"]).disable(["inline", "text_join"])
    parser.block.ruler.at("lheading", _setext_heading)
    return parser


_PARSER = block_parser()

_LIST_MARKER = re.compile(r"^[ \t]{0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]{1,4}|$)")
_NUMBERED_LINE = re.compile(rf"^[ \t]{{0,3}}{dialect.ITEM_NUMBER}[ \t]")
_OTHER_BLOCKS = {"fence", "code_block", "blockquote_open", "html_block"}


@dataclass
class Unit:
    """One top-level block of the section (or a piece of one, see the module note)."""

    kind: str  # heading | hr | paragraph | item | other
    start: int  # 1-based line numbers in the document
    end: int
    number: str | None = None  # an ordered item's number as written ("8", "8a")
    level: int = 0  # heading level
    content_column: int = 0  # where an item's text starts on its first line


@dataclass
class Entry:
    """The lines of one §14 entry as found; `document.py` reads its question(s) from them."""

    ids: tuple[str, ...]
    start: int
    wave: str | None
    group_state: str | None  # what the group heading says ("open", "answered", "resolved")
    listy: bool  # a list item: what follows it unindented is not part of it
    title: str  # words in the bold label besides the ids
    open_status: bool = False  # the label itself says the question is still open
    checked: bool = False  # a ticked task-list box before the label
    heading_level: int = 0  # a question with a heading of its own: its level (else 0)
    lines: list[str] = field(default_factory=list)  # first line with its marker and label removed
    numbers: list[int] = field(default_factory=list)  # each line's number (fenced lines are left out)
    last_block_line: int = 0  # the last line of its last block, a fence's closing line included
    segments: dict[str, str] = field(default_factory=dict)  # id -> its own words, in a ` · ` entry

    def add(self, number: int, line: str) -> None:
        self.lines.append(line)
        self.numbers.append(number)

    def trim_trailing_blanks(self) -> None:
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()
            self.numbers.pop()

    @property
    def end(self) -> int:
        return max(self.numbers[-1] if self.numbers else self.start, self.last_block_line)


@dataclass
class SectionReading:
    entries: list[Entry]
    intro: list[str]  # lines before the first entry
    orphans: list[tuple[int, str]]  # paragraphs that belong to no entry (the intro's included)
    q_style: bool  # entries carry Q ids (else plain numbered items)


def section_units(lines: list[str], first: int, last: int) -> list[Unit]:
    """The top-level blocks of lines first..last (1-based, inclusive)."""
    if last < first:
        return []
    tokens = _PARSER.parse("\n".join(lines[first - 1 : last]))
    units: list[Unit] = []
    for token in tokens:
        if token.map is None:
            continue
        start, end = first + token.map[0], first + token.map[1] - 1
        if token.level == 0:
            if token.type == "heading_open":
                units.append(Unit("heading", start, end, level=int(token.tag[1:])))
            elif token.type == "hr":
                units.append(Unit("hr", start, end))
            elif token.type == "paragraph_open":
                units.extend(_split_paragraph(lines, start, end))
            elif token.type == "table_open":
                units.append(Unit("table", start, end))
            elif token.type in _OTHER_BLOCKS:
                units.append(Unit("other", start, end))
        elif token.level == 1 and token.type == "list_item_open":
            marker = _LIST_MARKER.match(lines[start - 1])
            column = marker.end() if marker else 0
            number = token.info if token.info else None
            units.extend(_split_item(lines, start, end, number, column))
    return [_trimmed(lines, unit) for unit in units]


def _start_like(line: str) -> bool:
    """A line that starts an entry or a group even where CommonMark continues a paragraph."""
    stripped = line.lstrip(" \t")
    if len(line) - len(stripped) > 3:
        return False
    if _NUMBERED_LINE.match(line):
        return True
    # Cheap first-character tests before the label grammar: this runs on every paragraph line.
    return (stripped[:1] in "*_Wwq[Q" and stripped[:1] != "") and bool(
        dialect.is_wave(stripped) or dialect.question_label(stripped)
    )


def _piece(lines: list[str], start: int, end: int) -> Unit:
    """A piece cut out of a paragraph: an item when it starts with an item number."""
    numbered = _NUMBERED_LINE.match(lines[start - 1])
    if numbered:
        return Unit("item", start, end, number=numbered.group("number"), content_column=numbered.end())
    return Unit("paragraph", start, end)


def _split_paragraph(lines: list[str], start: int, end: int) -> list[Unit]:
    pieces: list[Unit] = []
    piece_start = start
    for number in range(start + 1, end + 1):
        line = lines[number - 1]
        # A label wrapped to the start of a line mid-sentence (`… the answer to\n**Q19.** …`) is a
        # cross-reference; a new entry follows a line that ends a sentence or a label.
        if _start_like(line) and (_NUMBERED_LINE.match(line) or lines[number - 2].rstrip()[-1:] in ".?!:)*_`"):
            pieces.append(_piece(lines, piece_start, number - 1))
            piece_start = number
    pieces.append(_piece(lines, piece_start, end))
    return pieces


def _split_item(lines: list[str], start: int, end: int, number: str | None, column: int) -> list[Unit]:
    """An item, cut where an unindented line starts another entry (`8a.` under item 8)."""
    pieces: list[Unit] = []
    current = Unit("item", start, end, number=number, content_column=column)
    for line_number in range(start + 1, end + 1):
        line = lines[line_number - 1]
        indent = len(line) - len(line.lstrip(" \t"))
        if line.strip() and indent < max(column, 1) and _start_like(line):
            pieces.append(_with_end(current, line_number - 1))
            current = _piece(lines, line_number, end)
    pieces.append(_with_end(current, end))
    return pieces


def _with_end(unit: Unit, end: int) -> Unit:
    return Unit(unit.kind, unit.start, end, unit.number, unit.level, unit.content_column)


def _trimmed(lines: list[str], unit: Unit) -> Unit:
    end = unit.end
    while end > unit.start and not lines[end - 1].strip():
        end -= 1
    return _with_end(unit, end)


# --- reading the units as entries ---------------------------------------------------------------
def _unit_text(lines: list[str], unit: Unit, count: int = 3) -> str:
    """The unit's first lines with the list marker taken off the first (labels may wrap)."""
    head = lines[unit.start - 1]
    if unit.kind == "item":
        head = head[unit.content_column :] if unit.content_column else head
    else:
        head = head.lstrip(" \t")
    following = lines[unit.start : min(unit.end, unit.start + count - 1)]
    return "\n".join([head, *following])


_HEADING_MARKER = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+")


def _label(lines: list[str], unit: Unit) -> dialect.Label | None:
    if unit.kind == "heading":
        # `#### Q8 — Is the relay trusted?`: a question with a heading of its own.
        marker = _HEADING_MARKER.match(lines[unit.start - 1])
        if marker is None:
            return None
        unit.content_column = marker.end()
        return dialect.heading_label(lines[unit.start - 1][marker.end() :].rstrip("# \t"))
    if unit.kind not in ("paragraph", "item"):
        return None
    return dialect.question_label(_unit_text(lines, unit))


def _under_indented(line: str) -> bool:
    """A reply written under an item but indented less than its text (`   > Correct` under `10. `)."""
    return line.startswith("  ") and line.lstrip(" ").startswith(">")


def _group_name(lines: list[str], unit: Unit) -> str | None:
    """A bold-led short paragraph (`**Wave 2 — …**`, `**Crypto — ANSWERED**`, `**Meta:**`): its name."""
    if unit.kind != "paragraph" or unit.end - unit.start > 2:
        return None
    text = " ".join(line.strip() for line in lines[unit.start - 1 : unit.end])
    bold = dialect.bold_prefix(text)
    if bold is None:
        return text.rstrip(":. ") if dialect.is_wave(text) else None
    content, end = bold
    rest = text[end:].strip()
    if rest and rest[0] not in "(:—–-.":
        return None
    return " ".join(content.split()).strip(" :.") or None


def read_section(lines: list[str], first: int, last: int, skipped: list[bool]) -> SectionReading:
    """The entries of a §14 whose body is lines first..last; `skipped`: lines in fences/comments."""
    units = section_units(lines, first, last)
    labels = [_label(lines, unit) for unit in units]
    q_style = any(label is not None and not label.numbered for label in labels)
    if q_style:  # `**3.**` is an item number, not an id, where the entries carry Q ids
        labels = [None if label is not None and label.numbered else label for label in labels]
    # A table holds questions when it says so (a Question column) or when nothing else in the
    # section does; a table inside an answer that mentions ids is part of that answer.
    tables_only = not q_style and not any(unit.kind == "item" for unit in units)
    entries: list[Entry] = []
    intro: list[str] = []
    orphans: list[tuple[int, str]] = []
    current: Entry | None = None
    wave: str | None = None
    state: str | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            current.trim_trailing_blanks()
            entries.append(current)
        current = None

    def starts_entry(index: int) -> bool:
        unit = units[index]
        return labels[index] is not None or (not q_style and unit.kind == "item" and unit.number is not None)

    for index, unit in enumerate(units):
        rows = _table_entries(lines, unit, wave, tables_only) if unit.kind == "table" else []
        if rows:
            close()
            entries.extend(rows)
            continue
        if unit.kind == "heading" and labels[index] is not None:
            close()
            current = _entry(lines, unit, labels[index], wave, state, skipped)
            continue
        if unit.kind == "heading" and current is not None and 0 < current.heading_level < unit.level:
            # `##### Answer` under `#### Q8 — …` is part of the question; as text it only breaks paragraphs.
            _extend(current, lines, current.end + 1, unit.end, skipped)
            if current.numbers and current.numbers[-1] == unit.end:
                current.lines[-1] = ""
            continue
        if unit.kind in ("heading", "hr"):
            close()
            if unit.kind == "heading":
                wave = lines[unit.start - 1].lstrip("# \t").rstrip("# \t") or None
                state = dialect.group_state(wave or "")
            continue
        if starts_entry(index):
            close()
            current = _entry(lines, unit, labels[index], wave, state, skipped)
            continue
        group = _group_name(lines, unit)
        if group is not None and (dialect.is_wave(group) or (index + 1 < len(units) and starts_entry(index + 1))):
            close()
            wave, state = group, dialect.group_state(group)
            continue
        if current is not None and (not current.listy or _under_indented(lines[unit.start - 1])):
            _extend(current, lines, current.end + 1, unit.end, skipped)
            continue
        close()
        if not entries:
            intro.extend(lines[unit.start - 1 : unit.end])
        if unit.kind == "paragraph":
            orphans.append((unit.start, "\n".join(lines[unit.start - 1 : unit.end])))
    close()
    return SectionReading(entries, intro, orphans, q_style)


def _entry(
    lines: list[str], unit: Unit, label: dialect.Label | None, wave: str | None, state: str | None, skipped: list[bool]
) -> Entry:
    if label is not None:
        ids, title = label.ids, label.title
        consumed = label.end
    else:
        ids, title, consumed = ((unit.number or "").lstrip("0") or "0",), "", 0
    segments: dict[str, str] = {}
    if label is not None:
        # `**Q6.** net/ip · **Q7.** net/oic · …`: one entry, one question per label, each with its words.
        paragraph = _unit_text(lines, unit, count=unit.end - unit.start + 1)
        paragraph = paragraph.split("\n\n", 1)[0]
        further = dialect.further_labels(paragraph)
        if further:
            bounds = [(label, label.end)] + [(found, start + found.end) for found, start in further]
            starts = [start for _, start in further] + [len(paragraph)]
            for (owner, text_start), text_end in zip(bounds, starts, strict=True):
                words = paragraph[text_start:text_end].strip().rstrip("·").strip()
                for question_id in owner.ids:
                    segments.setdefault(question_id, words)
                ids = tuple(dict.fromkeys(ids + owner.ids))
    entry = Entry(ids=ids, start=unit.start, wave=wave, group_state=state, listy=unit.kind == "item", title=title)
    if unit.kind == "heading":
        entry.heading_level = unit.level
    entry.segments = segments
    entry.open_status = bool(label and label.open_status)
    entry.checked = bool(label and label.checked)
    # Take the marker and the label off the first line(s); a label may wrap onto the next line.
    head_line = lines[unit.start - 1]
    head_column = unit.content_column if unit.kind in ("item", "heading") else len(head_line) - len(head_line.lstrip(" \t"))
    number = unit.start
    remaining = consumed
    text_lines: list[tuple[int, str]] = []
    column = head_column
    while number <= unit.end:
        line = lines[number - 1][column:]
        if remaining > len(line):
            remaining -= len(line) + 1  # the line and its line break
            text_lines.append((number, ""))
            number, column = number + 1, 0
            continue
        text_lines.append((number, line[remaining:]))
        number += 1
        break
    for line_number, line in text_lines:
        entry.add(line_number, line)
    _extend(entry, lines, number, unit.end, skipped)
    return entry


def _extend(entry: Entry, lines: list[str], start: int, end: int, skipped: list[bool]) -> None:
    for number in range(start, end + 1):
        if not skipped[number]:
            entry.add(number, lines[number - 1])
    # A fenced block at the end still belongs to the entry: its span ends there.
    entry.last_block_line = max(entry.last_block_line, end)


# --- questions in a table ------------------------------------------------------------------------
_NUMBER_HEADERS = frozenset({"#", "no", "no.", "id", "number", "question id"})
_EMPTY_CELL = frozenset({"", "-", "—", "–", "n/a", "tbd"})


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _column(header: list[str], *words: str) -> int | None:
    return next((index for index, name in enumerate(header) if any(word in name.lower() for word in words)), None)


def _table_entries(lines: list[str], unit: Unit, wave: str | None, tables_only: bool) -> list[Entry]:
    """`| Q1 | Is the relay trusted? | answered |`: one entry per row whose id cell holds ids.

    The question is the `Question` column (else the longest other cell); an `Answer` column that is
    filled answers it; a `Status` column (or a check mark) says answered, resolved or open.
    """
    if unit.end - unit.start < 2:
        return []
    header = _cells(lines[unit.start - 1])
    question_column = _column(header, "question")
    if question_column is None and not tables_only:
        return []
    answer_column = _column(header, "answer", "response", "resolution", "decision")
    status_column = _column(header, "status", "state")
    entries: list[Entry] = []
    for number in range(unit.start + 2, unit.end + 1):
        cells = _cells(lines[number - 1])
        found = None
        for index, cell in enumerate(cells[:2]):
            bare = cell.strip("*_` ")
            ids = dialect.id_list(bare) or (
                (bare.rstrip(".").lstrip("0") or "0",) if bare.rstrip(".").isdigit() and header[index].lower() in _NUMBER_HEADERS else None
            )
            if ids:
                found = (index, ids)
                break
        if found is None:
            continue
        id_column, ids = found
        others = [index for index in range(len(cells)) if index not in (id_column, answer_column, status_column)]
        asked = question_column if question_column is not None else max(others, key=lambda index: len(cells[index]), default=None)
        if asked is None or asked >= len(cells):
            continue
        entry = Entry(ids=ids, start=number, wave=wave, group_state=None, listy=True, title="")
        entry.add(number, cells[asked])
        answer = cells[answer_column] if answer_column is not None and answer_column < len(cells) else ""
        if answer.lower() not in _EMPTY_CELL:
            entry.add(number, "")
            entry.add(number, f"Answer: {answer}")
        status = cells[status_column] if status_column is not None and status_column < len(cells) else ""
        entry.group_state = dialect.group_state(status) or (
            "answered" if any(mark in status for mark in dialect.CHECK_MARKS) or status.lower() in ("done", "closed", "confirmed") else None
        )
        entry.last_block_line = number
        entries.append(entry)
    return entries
