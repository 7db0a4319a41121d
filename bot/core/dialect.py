"""How threat-model documents write their open questions: the one place that describes the dialects.

Every reader of a document (the §14 reader in `document.py`, the tag reader in `tags.py`, the
planner, the reply reader) takes id shapes, answer markers and group headings from here, so
adding a dialect is a change in this module plus a fixture. Pure: no I/O.

Every pattern here is linear: each repetition is bounded or cannot overlap its neighbour, and
digit runs are capped before anything turns them into numbers.

Id shapes (`normalise_id` gives the canonical spelling):

    Q8   **Q8.**   q8   Q08      -> "Q8"
    Q14.1   Q14.R1               -> "Q14.1", "Q14.R1"  (dotted: a delta or numbered-section draft)
    Q5a   Q18a                   -> "Q5a"               (a derived or added question)
    Q-clienttrust   Q-XSW        -> "Q-clienttrust"     (named)
    1.   8a.   1)                -> "1", "8a"           (plain numbered items; see `item_number`)

Several ids in one place: `Q2, Q7`, `Q3/Q5`, `Q15 / Q16`, `Q6 · Q7`, `Q2 and Q7`, and ranges
`Q6–Q13` / `Q6-Q13` / `Q6–13` (expanded, up to `MAX_RANGE` ids).

Then, in order: the section's heading, provenance tag words, entry labels (`question_label`,
`heading_label`, `further_labels`), group headings and what they say (`group_state`,
`section_state`), and the answers written in the document (`STILL_OPEN`, `ARROW_ANSWER`,
`TITLE_ANSWERED`, `RESOLVED_MARK`, `ANSWERED_BRACKET`, `INLINE_ANSWER`, `ANSWER_LINE`,
`STATUS_LINE`, ...). The README's `import` section lists each with an example; each has a fixture
in tests/fixtures/documents/dialects/.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# --- ids ---------------------------------------------------------------------------------------
# Digits are capped at 4: no document has question 10000, and a capped run never costs an int()
# of an unbounded string. A suffix letter a-h (`Q5a`; `Q3s` is a plural in prose) or dotted parts
# (`Q14.1`, `Q14.R1`) may follow.
_NUMERIC_BODY = r"0{0,3}[1-9]\d{0,3}(?![\d])(?:[a-h](?![A-Za-z0-9]))?(?:\.[A-Z]?\d{1,4}(?![\d]))?(?:\.[A-Z]?\d{1,4}(?![\d]))?"
# Named ids: `Q-clienttrust`, `Q-XSW`, `Q-side-effects` (bounded words joined by single hyphens).
_NAMED_BODY = r"-[A-Za-z][A-Za-z0-9]{0,39}(?:-[A-Za-z0-9]{1,20}){0,3}"
# One id, not glued to a word before or after it (`FAQ1`, `Q1x`); `Q6-Q13` is a range, so a
# numeric id may be followed by a hyphen.
QUESTION_ID = rf"(?<!\w)[Qq](?:{_NUMERIC_BODY}(?!\w|\.\w)|{_NAMED_BODY}(?![\w-]))"
# The same pattern with the lookbehind moved after the `Q`: opening with a character class lets
# the regex engine skip from one `Q` to the next instead of trying every position (3x faster).
_ID = re.compile(rf"[Qq](?<!\w[Qq])(?:{_NUMERIC_BODY}(?!\w|\.\w)|{_NAMED_BODY}(?![\w-]))")
_ID_FULL = re.compile(rf"[Qq](?:(?P<numeric>{_NUMERIC_BODY})|(?P<named>{_NAMED_BODY}))")
_NUMERIC_PARTS = re.compile(r"0{0,3}(?P<number>[1-9]\d{0,3})(?P<rest>.*)")

# Between two ids of one list: `, ` `/` ` · ` `&` `and` `+`; a range: `–` `—` `-` `to` `..`.
_LIST_GAP = re.compile(r"[ \t]{0,3}(?:[,/&+·]|and|or)[ \t]{0,3}|[ \t]{1,3}", re.IGNORECASE)
_RANGE_GAP = re.compile(r"[ \t]{0,3}(?:[–—-]|to|\.\.)[ \t]{0,3}", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"0{0,3}(?P<number>[1-9]\d{0,3})(?![\w-])")
MAX_RANGE = 40  # `Q6–Q13` expands; `Q1–Q9999` is prose, not a list of ids

# Wrappers around an id in a label: `**Q8.**`, `**(Q10/Q11)**`, `§14 Q11`, `Q8:`.
_LABEL_EDGES = " \t*_`[]()"
_SECTION_14_PREFIX = re.compile(r"^§\s?14\s{1,3}")

# A plain numbered item: `1.`, `12)`, and `8a.` (not a CommonMark list marker, yet a real item).
ITEM_NUMBER = r"(?P<number>\d{1,3}[a-h]?)[.)]"
_ITEM_NUMBER = re.compile(rf"^[ \t]{{0,3}}{ITEM_NUMBER}(?=[ \t]|$)")


@dataclass(frozen=True)
class IdMatch:
    """Ids written at one place in a text: one id, a list (`Q2, Q7`) or a range (`Q6–Q13`)."""

    start: int
    end: int
    ids: tuple[str, ...]  # normalised, in the order written, ranges expanded


def normalise_id(raw: str) -> str | None:
    """The canonical spelling of one question id, or None when `raw` is not one.

    `**Q8.**` -> "Q8", `§14 Q11` -> "Q11", `q08` -> "Q8", `Q14.R1` -> "Q14.R1",
    `Q-clienttrust` -> "Q-clienttrust", `(Q5a)` -> "Q5a". Plain numbers are not ids here
    (see `item_number`).
    """
    cleaned = _SECTION_14_PREFIX.sub("", raw.strip().strip(_LABEL_EDGES)).rstrip(".:;,").strip(_LABEL_EDGES)
    if len(cleaned) > 64:
        return None
    match = _ID_FULL.fullmatch(cleaned)
    if match is None:
        return None
    if match.group("named"):
        return "Q" + match.group("named")
    parts = _NUMERIC_PARTS.fullmatch(match.group("numeric"))
    assert parts is not None  # the numeric body always starts with its number
    return f"Q{parts.group('number')}{parts.group('rest')}"


def question_key(raw: str) -> str:
    """A spelling-independent key for matching ids: "3", "Q3", "**Q3.**", "§14 Q3" -> "Q3".

    Numbered §14s (`1.`, `8a.`) have ids "1", "8a" while prose elsewhere cites them as `Q1`;
    compare through this key. Text that is no id at all is returned stripped.
    """
    cleaned = raw.strip().strip(_LABEL_EDGES).rstrip(".:)").strip()
    number = item_number(cleaned + ".")
    if number is not None and number == cleaned:
        return f"Q{number.lstrip('0') or '0'}"
    return normalise_id(cleaned) or cleaned


def item_number(line: str) -> str | None:
    """The number of a plain numbered item at the start of a line: `1. …` -> "1", `8a. …` -> "8a"."""
    match = _ITEM_NUMBER.match(line)
    return match.group("number").lstrip("0") or "0" if match else None


def _normalised(match: re.Match[str]) -> str:
    normal = normalise_id(match.group(0))
    assert normal is not None  # every _ID match is an id
    return normal


def _expand(first: str, last_number: str) -> tuple[str, ...] | None:
    """`Q6`..`13` -> Q6, Q7, …, Q13; None when the range is not plain numbers or too long."""
    if not first[1:].isdigit() or not last_number.isdigit():
        return None
    low, high = int(first[1:]), int(last_number)
    if not low < high <= low + MAX_RANGE:
        return None
    return tuple(f"Q{number}" for number in range(low, high + 1))


def find_ids(text: str) -> Iterator[IdMatch]:
    """Every place a text names question ids, left to right; lists and ranges come as one match.

    Linear: one scan with a bounded pattern, and each list step consumes what it matched.
    """
    if "Q" not in text and "q" not in text:
        return  # most fragments name no question: skip the scan
    position = 0
    while True:
        match = _ID.search(text, position)
        if match is None:
            return
        start, end = match.start(), match.end()
        ids = [_normalised(match)]
        while True:
            ranged = _RANGE_GAP.match(text, end)
            if ranged:
                upper = _ID.match(text, ranged.end())
                bare = None if upper else _BARE_NUMBER.match(text, ranged.end())
                last = _normalised(upper)[1:] if upper else bare.group("number") if bare else None
                expanded = _expand(ids[-1], last) if last is not None else None
                if expanded is not None:
                    ids.extend(expanded[1:])
                    end = (upper or bare).end()  # type: ignore[union-attr]  # `expanded` implies one of them matched
                    continue
            gap = _LIST_GAP.match(text, end)
            following = _ID.match(text, gap.end()) if gap else None
            if following is None:
                break
            ids.append(_normalised(following))
            end = following.end()
        yield IdMatch(start, end, tuple(dict.fromkeys(ids)))
        position = end


def ids_in(text: str) -> tuple[str, ...]:
    """Every id a text names, normalised, ranges expanded, de-duplicated in order of appearance."""
    seen: dict[str, None] = {}
    for found in find_ids(text):
        for question_id in found.ids:
            seen.setdefault(question_id, None)
    return tuple(seen)


def id_list(label: str) -> tuple[str, ...] | None:
    """The ids when a label is nothing but ids (`Q8.`, `(Q10/Q11)`, `Q6–Q13`, `Q2, Q7`); else None."""
    cleaned = _SECTION_14_PREFIX.sub("", label.strip().strip(_LABEL_EDGES)).rstrip(".:;,").strip(_LABEL_EDGES)
    found = list(find_ids(cleaned))
    if len(found) != 1 or found[0].start != 0 or found[0].end != len(cleaned):
        return None
    return found[0].ids


# --- the section -------------------------------------------------------------------------------
# The open-questions section is the one labelled §14, else the first heading (level 1-3) saying so.
OPEN_QUESTIONS_TITLE = re.compile(
    r"\bopen questions\b|\bquestions for (?:the )?(?:maintainers|pmc|project|reviewers)\b"
    r"|\b(?:maintainer|unresolved|outstanding) questions\b",
    re.IGNORECASE,
)


# --- provenance tags -----------------------------------------------------------------------------
# The word that opens a tag and the kind it names: `*(documented — README)*`, `*(inferred — §14 Q3)*`,
# `*(maintainer: login)*`. "confirmed" is how some drafts spell a maintainer confirmation (their
# legend defines *(maintainer)* as "confirmed by a PMC member").
TAG_KIND_WORDS = {
    "documented": "documented",
    "inferred": "inferred",
    "maintainer": "maintainer",
    "confirmed": "maintainer",
}


# --- question labels ---------------------------------------------------------------------------
# What opens a §14 entry, after any list marker. The bold part is found without a regex
# repetition over the whole line: `**` ... the next `**`.
META_IDS = frozenset({"meta"})  # `**(meta)**`: a question about the document itself, id "meta"
_STATUS_PREFIX = re.compile(r"(?P<status>STILL OPEN|OPEN|NEW|ANSWERED|RESOLVED)[ \t]{0,3}[—–:-][ \t]{0,3}")
_PARENTHESISED_END = re.compile(r"\((?P<inner>[^()]{1,80})\)[ \t]{0,3}[.:]?[ \t]{0,3}$")
_QUESTION_WORD = re.compile(r"Question[ \t]{1,3}(?P<number>\d{1,4}[a-h]?)(?![\w.]\w)", re.IGNORECASE)
_BOLD_NUMBER = re.compile(r"[ \t]?(?P<number>\d{1,3}[a-h]?)[.):]?[ \t]?")
_PLAIN_LABEL_END = re.compile(r"[.:)][ \t]")
BOLD_LIMIT = 400  # a bold label longer than this is prose, not a label


@dataclass(frozen=True)
class Label:
    """The label that opens a §14 entry: `**Q8.**`, `**Q5 / Q6 — title (answered, x).**`, `Q8: …`."""

    ids: tuple[str, ...]
    end: int  # offset just past the label in the text it was read from
    title: str  # words inside the bold label besides the ids (`— trust posture (answered, x).`)
    open_status: bool = False  # `**STILL OPEN — Q-tenancy …**`
    checked: bool = False  # a ticked task-list box before the label: `- [x] **Q8.** …`
    numbered: bool = False  # a bold item number, `**3.** …`: an id only where §14 has no Q ids


def bold_prefix(text: str) -> tuple[str, int] | None:
    """(content, end offset) of a `**…**` (or `__…__`) that opens the text; None when it does not."""
    marker = text[:2]
    if marker not in ("**", "__"):
        return None
    close = text.find(marker, 2, 2 + BOLD_LIMIT)
    if close <= 2:
        return None
    return text[2:close], close + 2


_CHECKBOX = re.compile(r"\[(?P<tick>[ xX])\][ \t]{1,4}")


def question_label(text: str) -> Label | None:
    """The ids a §14 entry opens with, or None (a domain tag like `**(LDAP)**` is not an id).

    A task-list box may come first: `[x] **Q8.** …` is ticked (answered), `[ ] **Q8.** …` not.
    """
    box = _CHECKBOX.match(text)
    if box is None:
        return _label_after_box(text)
    label = _label_after_box(text[box.end() :])
    if label is None:
        return None
    return Label(label.ids, box.end() + label.end, label.title, label.open_status, box.group("tick") != " ", label.numbered)


def _label_after_box(text: str) -> Label | None:
    bold = bold_prefix(text)
    if bold is None:
        first = next(find_ids(text[:200]), None)
        if first is None or first.start != 0 or not _PLAIN_LABEL_END.match(text, first.end):
            return None
        return Label(first.ids, first.end + 1, "")
    content, end = bold
    number = _BOLD_NUMBER.fullmatch(content)
    if number is not None:
        return Label((number.group("number").lstrip("0") or "0",), end, "", numbered=True)
    spelled = _QUESTION_WORD.match(content)
    if spelled is not None:  # `**Question 3.**` / `**Question 3 — title**` is Q3
        return Label((f"Q{spelled.group('number').lstrip('0') or '0'}",), end, content[spelled.end() :])
    status = _STATUS_PREFIX.match(content)
    inner = content[status.end() :] if status else content
    stripped = inner.lstrip("(")
    first = next(find_ids(stripped), None)
    if first is not None and first.start == 0:
        ids, ids_end = _ids_past_refs(stripped, first)
        title = stripped[ids_end:]
        if inner != stripped:
            title = title.lstrip(")")
        open_status = bool(status and "OPEN" in status.group("status"))
        return Label(ids, end, title, open_status)
    parenthesised = _PARENTHESISED_END.search(content)
    if parenthesised is not None:
        inner_ids = parenthesised.group("inner").strip()
        inner_label_ids = id_list(inner_ids) or ((inner_ids.lower(),) if inner_ids.lower() in META_IDS else None)
        if inner_label_ids:
            return Label(inner_label_ids, end, content[: parenthesised.start()])
    return None


# A section reference between ids of one label: `**Q7 (§3), Q9–Q13, Q17 (§5):**` lists Q7, Q9..Q13, Q17.
_REF_IN_LIST = re.compile(r"[ \t]{0,3}\(§[^()\n]{0,40}\)")


def _ids_past_refs(text: str, first: IdMatch) -> tuple[tuple[str, ...], int]:
    """The ids of a label and where they end, going on past `(§n)` refs when more ids follow.

    Linear: each step consumes a ref, a list gap and an id list, each bounded.
    """
    ids, end = list(first.ids), first.end
    while True:
        ref = _REF_IN_LIST.match(text, end)
        gap = _LIST_GAP.match(text, ref.end()) if ref else None
        if gap is None:
            return tuple(dict.fromkeys(ids)), end
        following = next(find_ids(text[gap.end() : gap.end() + 200]), None)
        if following is None or following.start != 0:
            return tuple(dict.fromkeys(ids)), end
        ids.extend(following.ids)
        end = gap.end() + following.end


def heading_label(text: str) -> Label | None:
    """A heading that is a question: `Q8 — Is the relay trusted?`, `Q8. …`, `**Q8** …`, `Q8`."""
    label = question_label(text + " ")
    if label is not None:
        return label
    first = next(find_ids(text[:200]), None)
    if first is None or first.start != 0:
        return None
    return Label(first.ids, first.end, "")


_DOT_LABEL = re.compile(r"[ \t]·[ \t\n]{1,6}\*\*")


def further_labels(text: str) -> list[tuple[Label, int]]:
    """Labels after ` · ` in one entry (`**Q6.** net/ip · **Q7.** net/oic`): (label, where it starts)."""
    found: list[tuple[Label, int]] = []
    if "·" not in text:
        return found  # no separator: skip a scan that stops at every space
    for separator in _DOT_LABEL.finditer(text):
        start = separator.end() - 2
        label = question_label(text[start : start + BOLD_LIMIT + 8])  # a label is short: a window, not the rest
        if label is not None:
            found.append((label, start))
    return found


# --- groups (waves, topics) and what their headings say ----------------------------------------
_WAVE_WORD = re.compile(r"^[ \t]{0,3}(?:\*\*|__)?[ \t]?Wave[ \t]{1,3}\d", re.IGNORECASE)
_OPEN_WORDS = re.compile(
    r"still[ \t]+open|still[ \t]+with|not[ \t]+yet[ \t]+answered|\bunanswered\b|\(open\b|\bopen[ \t]*[;)]", re.IGNORECASE
)
_ANSWERED_WORDS = re.compile(r"\banswered\b|\bresolved\b|✅", re.IGNORECASE)
# A §14 heading that renames the section after its answers: `Maintainer decisions (resolution of …)`.
_DECIDED_SECTION = re.compile(r"\bdecisions\b|\bresolution\b|\brulings\b", re.IGNORECASE)
_RESOLVED_WORD = re.compile(r"\bRESOLVED\b")


def is_wave(text: str) -> bool:
    """`**Wave 2 — …**`, `### Wave 2`, `Wave 2:`: a group named as a wave."""
    return bool(_WAVE_WORD.match(text))


def group_state(heading: str) -> str | None:
    """What a group heading says of every question under it: "open", "answered", "resolved" or None.

    `— ANSWERED`, `✅ ANSWERED (2026-06-03)`, `— answered (login, PR #61)` answer the group;
    `(still with the PMC)`, `(open; do not block the doc)`, `**Still open**` keep it open.
    """
    if _OPEN_WORDS.search(heading):
        return "open"
    if _RESOLVED_WORD.search(heading):
        return "resolved"
    if _ANSWERED_WORDS.search(heading):
        return "answered"
    return None


def section_state(title: str) -> str | None:
    """The §14 heading's own word on its questions (`Open questions — RESOLVED by the PMC`).

    A heading that also says something is still open (`Maintainer answers (and the one question
    still open)`) decides nothing: each group and entry says it.
    """
    if _OPEN_WORDS.search(title):
        return None
    return group_state(title) or ("answered" if _DECIDED_SECTION.search(title) else None)


# An intro that says every question is settled: `**All thirteen questions are answered.**`,
# `All items below have now been confirmed by …`, `All are settled *(maintainer)*.` It covers
# entries that carry no answer of their own, unless its sentence names an exception.
_ALL_SETTLED = re.compile(
    r"\ball(?:[ \t]+[\w/-]{1,30}){0,4}?[ \t]+(?:are|were|have[ \t]+(?:now[ \t]+)?been|has[ \t]+been)[ \t]+"
    r"(?:now[ \t]+)?(?P<state>answered|resolved|settled|decided|confirmed)\b",
    re.IGNORECASE,
)
_EXCEPTION_WORDS = re.compile(r"\b(?:except|but|other[ \t]+than|apart[ \t]+from|save[ \t]+for|still|remains?|pending)\b", re.IGNORECASE)


def intro_state(intro: str) -> str | None:
    """"answered" or "resolved" when a §14 intro says all its questions are settled, else None."""
    plain = intro.replace("*", "").replace("_", "")
    match = _ALL_SETTLED.search(plain) if "all" in plain.lower() else None
    if match is None:
        return None
    sentence_end = plain.find(".", match.end())
    sentence = plain[match.start() : sentence_end if sentence_end >= 0 else len(plain)]
    if _EXCEPTION_WORDS.search(sentence):
        return None
    return "resolved" if match.group("state").lower() == "resolved" else "answered"


# --- answers written in the document ------------------------------------------------------------
# An entry that says it is not (fully) answered: stays open whatever else it carries.
STILL_OPEN = re.compile(
    r"[*_]\((?:partially|partly|pmc[ \t]+reviewing|pending|still[ \t]+open)\b"
    r"|not[ \t]+yet[ \t]+answered|\bstill[ \t]+open\b|\bdiscussion[ \t]+needed\b",
    re.IGNORECASE,
)
# An answer after an arrow: `→ **Confirmed.** …`, `**→ PMC: confirmed.**`.
ARROW_ANSWER = re.compile(r"→[ \t]{0,3}(?:\*\*|__)|(?:\*\*|__)→")
CHECK_MARKS = ("✅", "✔", "☑")
# `— answered.` / `(answered, Claudenw)` inside the bold title of an entry, or a capitalised stamp
# anywhere in it: `**Q9 — Byzantine peers. ANSWERED *(maintainer)*.**` (`NOT ANSWERED` is no stamp).
TITLE_ANSWERED = re.compile(
    r"\((?P<state>answered|resolved)(?:[ \t]*[,—–:-][ \t]*(?P<who>[^)]{0,120}))?\)|[—–-][ \t]{0,3}(?P<bare>answered|resolved)\b"
    r"|(?-i:(?<!NOT )\b(?P<stamp>ANSWERED|RESOLVED)\b)",
    re.IGNORECASE,
)
# A question rewritten in place into its answer: `… verified answer is that …`.
REWRITTEN_AS_ANSWER = re.compile(r"\b(?:verified|confirmed|final)[ \t]+answer[ \t]+is\b", re.IGNORECASE)

# A RESOLVED note: `~~question~~ **RESOLVED** *(maintainer: login)* — answer`.
RESOLVED_MARK = re.compile(r"\*\*RESOLVED\b[^*]*\*\*")
# `**[ANSWERED — login]**` anywhere in the question.
ANSWERED_BRACKET = re.compile(r"\*{0,2}\[ANSWERED(?:\s*[—–-]\s*(?P<who>[^\]]*))?\]\*{0,2}", re.IGNORECASE)
# `*(Answered — login: …)*` opening the question; `*(Partially answered …)*` keeps it open.
INLINE_ANSWER = re.compile(
    r"^[*_]\((?P<partial>partially\s+)?answered\b\s*[—–:,-]?\s*(?P<detail>.*?)\)[*_]\s*", re.IGNORECASE | re.DOTALL
)
# Words that open a reply paragraph or sub-item: `**Answer (login):**`, `Response:`, `A:`, `**A4.**`.
_REPLY_WORDS = (
    r"(?:\*\*|__)?(?:answer|response|reply|resolution|decision|(?:maintainer|pmc)[ \t]+(?:answer|response)"
    r"|(?-i:A\d{0,4}))(?:[ \t]*\((?P<who>[^()\n]{1,60})\))?[ \t]*[:.](?:\*\*|__)?"
)
REPLY_LEAD = re.compile(_REPLY_WORDS, re.IGNORECASE)
# A line that starts a reply when it starts a paragraph or sub-item: a maintainer tag, a plain
# `(maintainer)` / `(**maintainer**)`, or reply words.
ANSWER_LINE = re.compile(
    r"^[ \t]*(?:[-*+][ \t]+)?(?:[*_]\((?:maintainer|confirmed)(?![\w-])[^)]*\)[*_]|\((?:\*\*)?maintainer(?:\*\*)?\)"
    rf"|{_REPLY_WORDS})",
    re.IGNORECASE,
)
# A quoted reply under the question.
QUOTE_LINE = re.compile(r"^[ \t]*>")
# `Status: answered` / `**Status:** open` on a line of the entry.
STATUS_LINE = re.compile(
    r"(?:^|\n)[ \t]*(?:[-*+][ \t]+)?(?:\*\*|__|[*_])?status(?:\*\*|__|[*_])?[ \t]*:[ \t]*(?:\*\*|__|[*_])?[ \t]*"
    r"(?P<state>answered|resolved|closed|done|confirmed|still[ \t]+open|open|pending|unanswered)\b",
    re.IGNORECASE,
)
_STATUS_OPEN = frozenset({"open", "pending", "unanswered"})


def status_line_state(text: str) -> str | None:
    """What a `Status:` line in an entry says: "open", "resolved", "answered", or None."""
    match = STATUS_LINE.search(text) if "status" in text.lower() else None
    if match is None:
        return None
    word = " ".join(match.group("state").lower().split())
    if word in _STATUS_OPEN or word == "still open":
        return "open"
    return "resolved" if word in ("resolved", "closed", "done") else "answered"


# A bare reply after the question's own `?`, with no marker saying who gave it or that it is an
# answer: `**Q9.** Is the runtime embedded? Yes.` It may be a maintainer's answer or the draft's
# recommendation; the reader keeps the question open and warns (see `unmarked_reply`).
_UNMARKED_REPLY = re.compile(
    r"\?[ \t]{1,3}(?:\*\*|__|[*_`])?(?:yes|no|none|confirmed|agreed|correct|preferably)\b[^?\n]{0,200}$",
    re.IGNORECASE,
)


def unmarked_reply(question: str) -> bool:
    """True when a question ends in a bare reply after its `?` (`… by default? Yes.`)."""
    return "?" in question and bool(_UNMARKED_REPLY.search(question))


# Cheap word tests before the searches above: most entries carry none of these words, and a
# substring test costs a fraction of a regex scan (the largest documents parse on every PR).
_STILL_OPEN_HINTS = ("partial", "partly", "pmc", "pending", "still", "not yet", "discussion")


def says_still_open(text: str) -> bool:
    lowered = text.lower()
    return any(hint in lowered for hint in _STILL_OPEN_HINTS) and bool(STILL_OPEN.search(text))


def arrow_answer(text: str) -> re.Match[str] | None:
    return ARROW_ANSWER.search(text) if "→" in text else None


def rewritten_as_answer(text: str) -> bool:
    return "answer is" in text.lower() and bool(REWRITTEN_AS_ANSWER.search(text))


def title_answered(text: str) -> re.Match[str] | None:
    lowered = text.lower()
    return TITLE_ANSWERED.search(text) if "answered" in lowered or "resolved" in lowered else None


def title_word(match: re.Match[str]) -> str:
    """"answered" or "resolved": which word a `title_answered` match used."""
    return (match.group("state") or match.group("bare") or match.group("stamp")).lower()


# A status word in emphasis right after an entry's label or bold lead:
# `1. **Default password:** *resolved* — …`, `**Q4.** _Answered (login)._ …`.
_STATUS_AFTER_LABEL = re.compile(
    r"[ \t]{0,3}[:.—–-]?[ \t]{0,3}(?:\*\*|__|[*_])(?P<state>answered|resolved|confirmed)\b[^*_\n]{0,60}(?:\*\*|__|[*_])",
    re.IGNORECASE,
)


def status_after_label(text: str) -> str | None:
    """"answered" or "resolved" when the text (what follows a label) opens with an emphasised status."""
    match = _STATUS_AFTER_LABEL.match(text)
    if match is None:
        return None
    return "resolved" if match.group("state").lower() == "resolved" else "answered"
