"""Provenance tags: finding `*(...)*` tags in text and reading what one says. Pure: no I/O.

A provenance tag is an emphasised parenthesis whose first word is a provenance kind:
`*(documented — README)*`, `*(inferred — §14 Q11)*`, `*(maintainer: vishesh92, DaanHoogland)*`,
`*(maintainer, 2026-06-12 — §14 Q8)*`. Some documents put a qualifier before the kind
(`*(setting names maintainer: vishesh92)*`) or combine kinds (`*(documented + inferred — §14 Q7)*`).
Other emphasised parentheses (`*(maps to §7, §9)*`, `*(meta)*`, `*(§3)*`, free-form notes) are
not tags.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.core import dialect
from bot.core.model import TagKind

# `*( ... )*` or `_( ... )_`; the body may wrap onto following lines but never spans a blank
# line and never contains another tag opening (so a tag nested in a note is found on its own).
# `*(documented: layout):*` (punctuation slipped inside the closing marker) is read as a tag.
TAG_PATTERN = re.compile(
    r"(?P<open>[*_])\((?P<body>(?:(?![*_]\()(?!\n[ \t>]*\n).){1,600}?)\)[.:;,]?(?P=open)",
    re.DOTALL,
)

# A question id as documents write it (Q8, Q14.R1, Q5a, Q-clienttrust): the dialect's grammar.
QUESTION_ID = dialect.QUESTION_ID
_DATE = re.compile(r"\b\d{4}-\d{2}(?:-\d{2})?\b")

# Kind words come from the dialect module ("confirmed" is a maintainer tag there).
_KIND_WORDS = {word: TagKind(kind) for word, kind in dialect.TAG_KIND_WORDS.items()}
_KINDS = "|".join(dialect.TAG_KIND_WORDS)
_PLAIN_KINDS = "|".join(kind.value for kind in TagKind)
_KIND_HEAD = re.compile(
    rf"^(?:(?P<qualifier>[A-Za-z][\w-]*(?: [A-Za-z][\w-]*){{0,2}}) (?=(?:{_PLAIN_KINDS}):))?"
    rf"(?P<kind>{_KINDS})\b"
    rf"(?:\s*\+\s*(?P<also>{_PLAIN_KINDS})\b)?"
    r"(?P<rest>.*)$",
    re.DOTALL | re.IGNORECASE,
)
# First words that look like provenance but are not a kind this parser knows: reported, not dropped.
_PROVENANCE_LIKE = re.compile(
    r"^(?:[\w-]+ ){0,2}(?:document|infer|maintain|hypothes|ratif|unverif|unconfirm|speculat|assum|guess)\w*\b"
    r"|^§14\s+Q\d",
    re.IGNORECASE,
)
# Not-a-login words that show up where a maintainer tag names people.
_NOT_NAMES = frozenset(
    "yes no confirmed correct agreed pending pmc none see tbd partially answered the a an and or "
    "by in on of for to with folded resolved maintainer maintainers committer committers team "
    "review reviewed".split()
)
_LOGIN = re.compile(r"^@?[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_PERSON = re.compile(r"^[A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+){1,2}$")
_REFERENCE = re.compile(r"^(?:PR\s*)?#\d+$|^PR\s+\S+$|^" + QUESTION_ID + r"$|^§", re.IGNORECASE)
_NAME_SEPARATORS = re.compile(r"(?<!\s)\s*(?:,|\+|/|&|\band\b)\s*")
_SEGMENT_SEPARATORS = re.compile(r"(?<!\s)\s+[—–]\s+|(?<!\s)\s*[—–]\s*|;\s*|:\s+|(?<!\s)\s+-\s+")
# What every separator above holds: a text holding none is one piece, and the split is skipped
# (its lookbehinds cost microseconds a position, even on a single login; tags are read by the hundred).
_NAME_SEPARATOR_MARKS = (",", "+", "/", "&", "and")
_SEGMENT_SEPARATOR_MARKS = ("—", "–", ";", ":", "-")

_LINE_BREAK = re.compile(r"\n[ \t]*>?[ \t]*")
_SECTION_14_PREFIX = re.compile(r"^§\s*14\s+")
_LOWER_Q = re.compile(r"q\d+(?:\.[A-Za-z]?\d+)*")
_IN_PART = re.compile(r"^in part\b")
_SOURCE_END = re.compile(r";\s|\s[—–]\s|:\s")
_SOURCE_END_MARKS = (";", ":", "—", "–")
_BACKLINK_ONLY = re.compile(rf"^(?:see\s+)?(?:§14\b|{QUESTION_ID}\b)", re.IGNORECASE)
_WRAPPED = re.compile(r"([*_])\((.*)\)[.:;,]?\1", re.DOTALL)
_BARE = re.compile(rf"\s*(?:{_KINDS})\s*\.?\s*", re.IGNORECASE)

@dataclass(frozen=True)
class TagMatch:
    """Where an emphasised parenthesis sits in a text (offsets into that text)."""

    start: int
    end: int
    body: str  # between the parentheses, as written (may contain line breaks)


def find_tag_like(text: str) -> Iterator[TagMatch]:
    """Every `*(...)*` / `_(...)_` in the text, provenance or not."""
    for match in TAG_PATTERN.finditer(text):
        yield TagMatch(match.start(), match.end(), match.group("body"))


def flatten(text: str) -> str:
    """Collapse a wrapped fragment to one line: drop quote markers at line starts, single spaces."""
    return " ".join((_LINE_BREAK.sub(" ", text) if "\n" in text else text).split())


def normalise_question_id(raw: str) -> str:
    """The id as the document writes it, without emphasis, `§14` prefix or trailing dot.

    `**Q8.**` -> "Q8", `§14 Q11` -> "Q11", `Q14.R1` -> "Q14.R1", `1.` -> "1", `q3` -> "Q3".
    """
    known = dialect.normalise_id(raw)
    if known is not None:
        return known
    cleaned = raw.strip().strip("*_ ").strip()
    cleaned = _SECTION_14_PREFIX.sub("", cleaned)
    cleaned = cleaned.rstrip(".:)").strip()
    if _LOWER_Q.fullmatch(cleaned):
        cleaned = "Q" + cleaned[1:]
    return cleaned


def question_key(raw: str) -> str:
    """A spelling-independent key for matching ids: "3", "Q3", "**Q3.**", "§14 Q3" -> "Q3".

    Numbered-list §14s (`1.`, `2.`) have ids "1", "2" while tags elsewhere cite them as `§14 Q1`;
    compare through this key.
    """
    return dialect.question_key(raw)


def question_refs(text: str) -> tuple[str, ...]:
    """Question back-links in a fragment, normalised and de-duplicated in order of appearance."""
    return dialect.ids_in(text)


def _strip_code(text: str) -> str:
    stripped = text.strip()
    if len(stripped) > 1 and stripped.startswith("`") and stripped.endswith("`") and stripped.count("`") == 2:
        return stripped[1:-1]
    return stripped


def _split(pattern: re.Pattern[str], marks: tuple[str, ...], text: str) -> list[str]:
    """`pattern.split(text)`, without the regex scan when the text holds none of its separators' marks."""
    return pattern.split(text) if any(mark in text for mark in marks) else [text]


def _name_items(parts: list[str]) -> tuple[str, ...] | None:
    """The names in a segment (split at its name separators) like `vishesh92, DaanHoogland` or
    `Claudenw, PR #677`; None if it is prose."""
    names: list[str] = []
    for item in parts:
        item = item.strip().strip("`*").strip()
        if not item or _DATE.fullmatch(item) or _REFERENCE.match(item):
            continue
        if item.lower() in _NOT_NAMES:
            return None
        if _LOGIN.match(item) or _PERSON.match(item):
            names.append(item.lstrip("@"))
            continue
        return None
    return tuple(names)


def maintainer_names(detail: str) -> tuple[str, ...]:
    """Names from the detail of a maintainer tag or answer marker; () when it names nobody.

    The first segment that is not just a date or a reference must be a list of names
    (`vishesh92, DaanHoogland`, `Claudenw + ottlinger`, `Tilmann Zäschke`); prose
    (`confirmed by the Creadur PMC ...`, `yes`) names nobody.
    """
    for segment in _split(_SEGMENT_SEPARATORS, _SEGMENT_SEPARATOR_MARKS, detail.strip(" ,.:;—–-")):
        parts = _split(_NAME_SEPARATORS, _NAME_SEPARATOR_MARKS, segment.strip().rstrip("."))
        items = [item for item in parts if item.strip()]
        if not items:
            continue
        if all(_DATE.fullmatch(item.strip()) or _REFERENCE.match(item.strip()) for item in items):
            continue
        names = _name_items(parts)
        return names or ()
    return ()


def _documented_source(rest: str) -> str | None:
    """The cited source of a documented tag: `— README` -> "README", ``: `X.java` `` -> "X.java"."""
    rest = rest.strip()
    rest = _IN_PART.sub("", rest).strip()
    if rest.lower().startswith("at "):
        rest = rest[3:]
    elif rest[:1] in ",:;—–-":
        rest = rest.lstrip(",:;—–- ")
    else:
        return None  # `documented since 2.2.3`, `documented for reload; ...`: no citation
    source = _split(_SOURCE_END, _SOURCE_END_MARKS, rest)[0].strip().rstrip(".").strip()
    if not source or _BACKLINK_ONLY.match(source):
        return None
    return _strip_code(source)


def parse_tag_text(raw: str) -> tuple[TagKind, dict] | None:
    """Read one tag, with or without its `*( )*` markers; None when it is not a provenance tag.

    Returns the kind and the details: {"source", "questions", "maintainers", "date", "also"}.
    A combined `documented + inferred` tag is INFERRED (the claim still awaits ratification)
    with "also" listing the other kind.
    """
    body = raw.strip()
    wrapped = _WRAPPED.fullmatch(body)
    if wrapped:
        body = wrapped.group(2)
    body = flatten(body)
    head = _KIND_HEAD.match(body)
    if head is None:
        return None
    kinds = [_KIND_WORDS[head.group("kind").lower()]]
    if head.group("also"):
        kinds.append(_KIND_WORDS[head.group("also").lower()])
    kind = TagKind.INFERRED if TagKind.INFERRED in kinds else kinds[0]
    rest = head.group("rest")
    date = _DATE.search(rest)
    details = {
        "source": _documented_source(rest) if kind is TagKind.DOCUMENTED else None,
        "questions": question_refs(rest),
        "maintainers": maintainer_names(rest) if TagKind.MAINTAINER in kinds else (),
        "date": date.group(0) if date else None,
        "also": tuple(other for other in kinds if other is not kind),
    }
    return kind, details


def looks_like_provenance(body: str) -> bool:
    """A non-tag parenthesis that reads like provenance (`Hypothesized`, `§14 Q16`): worth reporting."""
    return bool(_PROVENANCE_LIKE.match(flatten(body)))


def is_bare(body: str) -> bool:
    """A tag that says only its kind: `*(inferred)*`, `*(maintainer.)*`."""
    return bool(_BARE.fullmatch(body))
