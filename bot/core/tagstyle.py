"""How a document spells its *(maintainer …)* tags, and how to rewrite an *(inferred …)* tag.

Documents disagree on the spelling: cloudstack writes `*(maintainer: login — §14 Q8)*`,
ranger writes `*(maintainer, 2026-06-12 — §14 Q8)*`, older drafts plain `*(maintainer)*`.
A promotion must read like the surrounding text, so the style is detected from the tags the
document already has and can be overridden by the caller. Pure: no I/O.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core import dialect
from bot.core.model import Tag, TagKind

EM_DASH_SEPARATOR = " — "

# `*(inferred — §14 Q11)*`: emphasis markers, then a parenthesis around the tag body.
_WRAPPED = re.compile(r"^(?P<open>[*_]{1,2})\((?P<inner>.*)\)(?P<close>[*_]{1,2})$", re.DOTALL)
# The body of an inferred tag: the kind word, an optional separator, then the cited detail.
_INFERRED_BODY = re.compile(
    r"^(?P<prefix>(?:documented\s*\+\s*)|(?:[A-Za-z][\w-]*(?: [A-Za-z][\w-]*){0,2} (?=inferred:)))?"
    r"inferred(?:(?P<sep>\s*[—–-]+\s*|\s*[:;,]\s*|\s+)(?P<detail>.*?))?(?P<dot>\.?)$",
    re.DOTALL | re.IGNORECASE,
)
# How a named maintainer tag leads into its first login: `maintainer: x`, `maintainer — x`, `maintainer, x`.
_LOGIN_LEAD = re.compile(r"maintainer(?P<lead>\s*[:,—–-]\s*)", re.IGNORECASE)
_FIRST_WORD = re.compile(r"[A-Za-z]+")
# A detail that points at its question with an arrow: `→ Q7`, `— → Q7`.
_ARROW_DETAIL = re.compile(r"^→\s*")
# A detail that is nothing but a back-link: `§14 Q8`, `Q5/Q10`, `§14 Q3/Q4`.
_PURE_BACKLINK = re.compile(r"^(?:§14\s+)?Q\d+(?:\.\w+)?(?:\s*/\s*Q?\d+(?:\.\w+)?)*$")


@dataclass(frozen=True)
class TagStyle:
    """The spelling of a new maintainer tag."""

    name_maintainers: bool = True  # `maintainer: login` rather than bare `maintainer`
    with_date: bool = False  # `maintainer, 2026-06-12`
    keep_backlink: bool = True  # keep `— §14 Q8` from the inferred tag
    login_lead: str = ": "  # between the kind word and the logins: ": " (cloudstack), " — " (kvrocks)
    kind_word: str = "maintainer"  # how the document spells the kind: "maintainer", or "confirmed" (activemq)


@dataclass(frozen=True)
class InferredTagParts:
    """An inferred tag taken apart so it can be rebuilt as a maintainer tag."""

    open: str  # emphasis markers before the parenthesis: "*", "_", "**"
    prefix: str  # words before the kind that stay: "documented + ", "setting names "
    close: str
    separator: str  # between the kind word and the detail, as written (" — ", ": ")
    detail: str  # the cited detail after the kind word: "§14 Q11", "" when bare
    trailing_dot: str  # "." when the body ends `inferred.` / `Q3/Q4.`


def split_inferred_tag(raw: str) -> InferredTagParts | None:
    """Take an `*(inferred …)*` tag apart; None when it is not spelled that way.

    A tag whose body does not start with the word `inferred` (e.g. `*(setting names inferred)*`)
    returns None: rewriting it would mean guessing which words are the provenance.
    """
    wrapped = _WRAPPED.match(raw)
    if wrapped is None:
        return None
    body = _INFERRED_BODY.match(wrapped.group("inner").strip())
    if body is None:
        return None
    return InferredTagParts(
        open=wrapped.group("open"),
        prefix=body.group("prefix") or "",
        close=wrapped.group("close"),
        separator=body.group("sep") or "",
        detail=(body.group("detail") or "").strip(),
        trailing_dot=body.group("dot") or "",
    )


def detect_tag_style(tags: Iterable[Tag]) -> TagStyle:
    """The style most of the document's maintainer tags use (ties favour naming, no date)."""
    maintainer_tags = [tag for tag in tags if tag.kind is TagKind.MAINTAINER]
    if not maintainer_tags:
        return TagStyle()
    named = [tag for tag in maintainer_tags if tag.maintainers]
    dated = sum(1 for tag in maintainer_tags if tag.date)
    return TagStyle(
        name_maintainers=len(named) * 2 >= len(maintainer_tags),
        with_date=dated * 2 > len(maintainer_tags),
        login_lead=_login_lead(named),
        kind_word=_kind_word(maintainer_tags),
    )


def _kind_word(maintainer_tags: Sequence[Tag]) -> str:
    """The word most maintainer tags open with (`maintainer`, or `confirmed` where a legend says so)."""
    votes: dict[str, int] = {}
    for tag in maintainer_tags:
        word = _FIRST_WORD.match(tag.raw.lstrip("*_("))
        if word and dialect.TAG_KIND_WORDS.get(word.group(0).lower()) == "maintainer":
            votes[word.group(0).lower()] = votes.get(word.group(0).lower(), 0) + 1
    return max(votes, key=lambda word: (votes[word], word == "maintainer")) if votes else "maintainer"


def _login_lead(named: Sequence[Tag]) -> str:
    """The lead most named tags put before their logins, normalised to one spelling."""
    votes: dict[str, int] = {}
    for tag in named:
        lead = _LOGIN_LEAD.search(tag.raw)
        if lead is None or tag.maintainers[0] not in tag.raw[lead.end() : lead.end() + len(tag.maintainers[0]) + 2]:
            continue
        mark = lead.group("lead").strip()
        spelling = ": " if mark == ":" else ", " if mark == "," else " — "
        votes[spelling] = votes.get(spelling, 0) + 1
    return max(votes, key=lambda spelling: (votes[spelling], spelling == ": ")) if votes else ": "


def render_maintainer_tag(
    parts: InferredTagParts,
    style: TagStyle,
    logins: Sequence[str],
    date: str | None,
) -> str:
    """Rebuild an inferred tag as a maintainer tag, keeping its markers and cited detail."""
    body = parts.prefix + style.kind_word
    if style.name_maintainers and logins:
        body += style.login_lead + ", ".join(logins)
    if style.with_date and date:
        body += ", " + date
    detail = parts.detail
    if detail and not style.keep_backlink and _PURE_BACKLINK.match(_ARROW_DETAIL.sub("", detail)):
        detail = ""
    if _ARROW_DETAIL.match(detail):
        # `inferred → Q7` / `inferred — → Q7`: the arrow is the separator; a dash before it would
        # read as a broken arrow.
        body += " " + detail
    elif detail:
        # A dash reads naturally after logins; a colon (`inferred: foo`) would not.
        separator = parts.separator if "—" in parts.separator or "–" in parts.separator else EM_DASH_SEPARATOR
        if "\n" in parts.separator:
            separator = parts.separator  # the tag wraps across lines: keep the line break
        body += separator + detail
    return f"{parts.open}({body}{parts.trailing_dot}){parts.close}"


def render_plain_maintainer_tag(style: TagStyle, logins: Sequence[str], date: str | None) -> str:
    """A maintainer tag with no detail, for a §14 `**RESOLVED** *(maintainer: …)*` note."""
    return render_maintainer_tag(
        InferredTagParts(open="*", prefix="", close="*", separator="", detail="", trailing_dot=""),
        style,
        logins,
        date,
    )
