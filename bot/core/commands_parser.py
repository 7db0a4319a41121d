"""Explicit instructions in a reply: slash commands and bulk answer lines (pure).

Prow-style: a command is a line of its own that starts with `/`. Lines inside code fences
and `>` quotes are never commands or answers, because they show text rather than say it
(a quote is the comment being replied to; a fence is an example or a suggestion).
"""
from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from bot.core.reading import Command, CommandName, Stance

# `Q9`, `q09`, `Q9.` (trailing dot as §14 writes it) and `Q14.R1` (re-asked questions).
_QUESTION_ID = re.compile(r"(?<![\w§])[Qq]0*(\d+)((?:\.[Rr]\d+)?)\.?(?![\w])")
_LOGIN = re.compile(r"(?<![\w@./`])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))(?![\w/-])")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)")
_QUOTE = re.compile(r"^ {0,3}>")
# "On Mon, 1 Jun 2026 at 10:00, Someone <a@b.org> wrote:" heads a quoted e-mail reply.
_QUOTE_ATTRIBUTION = re.compile(r"^ {0,3}On \S.{0,300} wrote:\s*$")
_COMMAND = re.compile(r"^ {0,3}/(?P<name>[A-Za-z]+)(?P<args>[ \t].*)?$")
# A bulk answer line: optional list marker, optional emphasis, the id, an optional short
# label in parentheses, a separator, then the verdict. `**Q15 (file ownership):** ...`
_BULK = re.compile(
    r"^\ {0,3}(?:[-*+]\s+|\d{1,3}[.)]\s+)?[*_]{0,2}(?P<id>[Qq]0*\d+(?:\.[Rr]\d+)?)\.?"
    r"(?:[ \t]*\([^)\n]{0,80}\))?(?P<tail>(?:\W.*)?)$"
)
_BULK_SEPARATORS = " \t*_:-–—."
# Verdict words a bulk line may start with. "correct" alone reads as "that's correct";
# "correct:" (a label followed by text) is the correction form, as in `/correct`.
_VERDICTS: tuple[tuple[re.Pattern[str], Stance], ...] = (
    (re.compile(r"^(?:correct(?:ion)?|amend(?:ed|ment)?)\s*:\s*(?P<text>.*)$", re.IGNORECASE), Stance.CORRECT),
    (re.compile(r"^(?:not correct|incorrect|wrong|nope)\b(?![-'])[\s.,;:!—–-]*(?P<text>.*)$", re.IGNORECASE), Stance.CORRECT),
    # "no" only as an answer word ("no, ..." / "no."), not as in "no idea" or "no bound".
    (re.compile(r"^no(?:[.,;:!—–-]+\s*(?P<text>.*)|\s+[—–-]\s*(?P<dashed>.*)|)$", re.IGNORECASE), Stance.CORRECT),
    (re.compile(r"^(?:corrected|correction|amend(?:ed)?)\b[\s.,;:!—–-]*(?P<text>.*)$", re.IGNORECASE), Stance.CORRECT),
    (re.compile(r"^(?:strike|struck|drop|dropped|n/a|not applicable)(?![\w-])[\s.,;:!—–-]*(?P<text>.*)$", re.IGNORECASE), Stance.STRIKE),
    (
        re.compile(
            r"^(?:confirm(?:ed)?|yes|yep|agreed?|indeed|ack|lgtm|ok|okay|correct|as proposed|\+1)"
            r"(?![\w'-])[\s.,;:!—–-]*(?P<text>.*)$",
            re.IGNORECASE,
        ),
        Stance.CONFIRM,
    ),
)
_ANSWER_STANCES = {"confirm": Stance.CONFIRM, "correct": Stance.CORRECT, "strike": Stance.STRIKE}
_COMMAND_NAMES = {
    "confirm": CommandName.CONFIRM,
    "correct": CommandName.CORRECT,
    "strike": CommandName.STRIKE,
    "ask": CommandName.ASK,
    "followup": CommandName.FOLLOWUP,
    "accept": CommandName.ACCEPT,
    "reject": CommandName.REJECT,
    "answer": CommandName.ANSWER,
    "questions": CommandName.HELP,
}


class LineKind(str, Enum):
    PROSE = "prose"
    QUOTE = "quote"  # `> ...`: what is being replied to
    CODE = "code"  # inside a fence, or the fence line itself


@dataclass(frozen=True)
class BodyLine:
    number: int  # 1-based line in the comment body
    text: str
    kind: LineKind
    fence_info: str = ""  # for code lines: the fence's info string ("suggestion", "yaml", ...)


class AnyQuestionId(Collection[str]):
    """Every well-formed question id counts as known (for `explain` without a records folder)."""

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and normalise_question_id(item) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


ANY_QUESTION = AnyQuestionId()


def normalise_question_id(raw: str) -> str | None:
    """`q9`, `Q09`, `Q9.` -> `Q9`; `q14.r1` -> `Q14.R1`; anything else -> None."""
    match = _QUESTION_ID.fullmatch(raw.strip())
    if match is None:
        return None
    return f"Q{int(match.group(1))}{match.group(2).upper()}"


def question_ids_in(text: str) -> list[str]:
    """Every question id written in `text`, normalised, in order (duplicates kept)."""
    return [f"Q{int(m.group(1))}{m.group(2).upper()}" for m in _QUESTION_ID.finditer(text)]


def logins_in(text: str) -> list[str]:
    """`@login` mentions (not e-mail addresses, not `@org/team`), in order."""
    return [match.group(1) for match in _LOGIN.finditer(text)]


def is_known(question_id: str, known_questions: Collection[str]) -> bool:
    if question_id in known_questions:
        return True
    # Callers may hand us ids in another spelling ("Q08"); compare normalised forms.
    return any(normalise_question_id(known) == question_id for known in known_questions)


def classify_lines(body: str) -> list[BodyLine]:
    """Tag each line as prose, quote or code (CommonMark fences: same char, at least as long)."""
    lines: list[BodyLine] = []
    open_fence: str | None = None
    fence_info = ""
    for number, text in enumerate(body.splitlines(), start=1):
        fence = _FENCE.match(text)
        if open_fence is not None:
            closes = fence is not None and fence.group(1)[0] == open_fence[0] and len(fence.group(1)) >= len(open_fence) and not text.strip().strip(fence.group(1)[0])
            lines.append(BodyLine(number, text, LineKind.CODE, fence_info))
            if closes:
                open_fence, fence_info = None, ""
        elif fence is not None and not (fence.group(1)[0] == "`" and "`" in text.strip()[len(fence.group(1)):]):
            open_fence, fence_info = fence.group(1), fence.group(2).lower()
            lines.append(BodyLine(number, text, LineKind.CODE, fence_info))
        elif _QUOTE.match(text) or _QUOTE_ATTRIBUTION.match(text):
            lines.append(BodyLine(number, text, LineKind.QUOTE))
        else:
            lines.append(BodyLine(number, text, LineKind.PROSE))
    return lines


@dataclass(frozen=True)
class BulkAnswer:
    question: str
    stance: Stance
    text: str
    line: int


@dataclass(frozen=True)
class ExplicitParse:
    """What the explicit layer found. `found` is True as soon as one command or verdict line exists."""

    commands: tuple[Command, ...] = ()
    bulk_answers: tuple[BulkAnswer, ...] = ()
    unknown_questions: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    found: bool = False
    unread_lines: tuple[tuple[int, str], ...] = ()  # `Qn ...` lines with no verdict word: (line, id)


@dataclass
class _Collector:
    known: Collection[str]
    author: str
    commands: list[Command] = field(default_factory=list)
    bulk_answers: list[BulkAnswer] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unread: list[tuple[int, str]] = field(default_factory=list)
    found: bool = False

    def check(self, question_id: str | None, where: str) -> bool:
        """True when the id is absent (the thread decides) or known; records unknown ids."""
        if question_id is None or is_known(question_id, self.known):
            return True
        if question_id not in self.unknown:
            self.unknown.append(question_id)
        self.problems.append(f"{where}: {question_id} is not a tracked question")
        return False

    def result(self) -> ExplicitParse:
        return ExplicitParse(
            tuple(self.commands),
            tuple(self.bulk_answers),
            tuple(self.unknown),
            tuple(self.problems),
            self.found,
            tuple(self.unread),
        )


def parse_explicit(lines: list[BodyLine], known_questions: Collection[str], author: str) -> ExplicitParse:
    """Slash commands and bulk answer lines in prose lines (never in quotes or code)."""
    collector = _Collector(known_questions, author)
    for index, line in enumerate(lines):
        if line.kind is not LineKind.PROSE:
            continue
        command = _COMMAND.match(line.text)
        if command is not None:
            name = command.group("name").lower()
            if name in _COMMAND_NAMES:
                collector.found = True
                args = (command.group("args") or "").strip()
                _parse_command(_COMMAND_NAMES[name], args, line.number, lines[index + 1 :], collector)
            continue  # other bots' commands (/assign, /lgtm ...) are not ours to read
        _parse_bulk_line(line, lines[index + 1 :], collector)
    return collector.result()


def _parse_bulk_line(line: BodyLine, following: list[BodyLine], collector: _Collector) -> None:
    bulk = _BULK.match(line.text)
    if bulk is None:
        return
    question_id = normalise_question_id(bulk.group("id"))
    rest = bulk_rest(bulk)
    verdict = read_verdict(rest)
    if question_id is None:
        return
    if verdict is None:
        collector.unread.append((line.number, question_id))
        return  # a Qn line without a verdict word is prose; the heuristic layer reads it
    collector.found = True
    if not collector.check(question_id, f"line {line.number}"):
        return
    stance, text = verdict
    if stance is Stance.CORRECT and not text:
        text = continuation(following)
    collector.bulk_answers.append(BulkAnswer(question_id, stance, text or rest, line.number))


def bulk_rest(bulk: re.Match[str]) -> str:
    """What follows the id and its separators: `**Q14**: confirmed` -> `confirmed`."""
    return bulk.group("tail").lstrip(_BULK_SEPARATORS).strip()


def read_verdict(rest: str) -> tuple[Stance, str] | None:
    """`confirmed, nothing to add` -> (CONFIRM, "confirmed, nothing to add"); `correct: x` -> (CORRECT, "x")."""
    cleaned = rest.strip().strip("*_").strip()
    for pattern, stance in _VERDICTS:
        match = pattern.match(cleaned)
        if match is None:
            continue
        if stance is Stance.CORRECT:
            return stance, (match.groupdict().get("text") or match.groupdict().get("dashed") or "").strip()
        return stance, cleaned  # the whole line is the excerpt for confirm / strike
    return None


def continuation(following: Iterable[BodyLine]) -> str:
    """The paragraph right after a command that left its text for the next lines."""
    words: list[str] = []
    for line in following:
        if line.kind is not LineKind.PROSE or not line.text.strip():
            break
        bulk = _BULK.match(line.text)
        if _COMMAND.match(line.text) or (bulk is not None and read_verdict(bulk_rest(bulk))):
            break
        words.append(line.text.strip())
    return " ".join(words)


def _leading_ids(args: str) -> tuple[list[str], str]:
    """Split `Q8, Q9 the rest` into (["Q8", "Q9"], "the rest")."""
    ids: list[str] = []
    rest = args.strip()
    while rest:
        token, _, remainder = rest.partition(" ")
        question_id = normalise_question_id(token.rstrip(",:;"))
        if question_id is None:
            break
        ids.append(question_id)
        rest = remainder.strip()
    return ids, rest


def _parse_command(
    name: CommandName, args: str, number: int, following: list[BodyLine], collector: _Collector
) -> None:
    where = f"line {number} /{'questions' if name is CommandName.HELP else name.value}"
    if name is CommandName.HELP:
        _parse_help(args, number, where, collector)
    elif name in (CommandName.CONFIRM, CommandName.STRIKE):
        ids, note = _leading_ids(args)
        for question_id in ids or [None]:
            if collector.check(question_id, where):
                collector.commands.append(Command(name, question_id, note, line=number))
    elif name is CommandName.CORRECT:
        _parse_correct(args, number, following, where, collector)
    elif name is CommandName.ASK:
        _parse_ask(args, number, where, collector)
    elif name is CommandName.FOLLOWUP:
        ids, title = _leading_ids(args)
        question_id = ids[0] if ids else None
        if not title:
            collector.problems.append(f"{where} needs a title: /followup [Qn] <title>")
        elif collector.check(question_id, where):
            collector.commands.append(Command(name, question_id, title, line=number))
    elif name is CommandName.ANSWER:
        _parse_answer(args, number, following, where, collector)
    else:  # /accept, /reject: the optional argument names a proposal
        collector.commands.append(Command(name, None, args.strip(), line=number))


def _parse_help(args: str, number: int, where: str, collector: _Collector) -> None:
    if args.strip().lower() not in ("", "help"):
        collector.problems.append(f"{where} {args.strip()}: unknown; try /questions help")
    collector.commands.append(Command(CommandName.HELP, line=number))


def _parse_correct(args: str, number: int, following: list[BodyLine], where: str, collector: _Collector) -> None:
    ids, text = _leading_ids(args)
    question_id = ids[0] if ids else None
    text = text.lstrip(":—–- ").strip() or continuation(following)
    if not collector.check(question_id, where):
        return
    if not text:
        collector.problems.append(f"{where} needs the corrected text: /correct [Qn] <text>")
        return
    collector.commands.append(Command(CommandName.CORRECT, question_id, text, line=number))


def _parse_ask(args: str, number: int, where: str, collector: _Collector) -> None:
    ids, _ = _leading_ids(" ".join(token for token in args.split() if not token.startswith("@")))
    question_id = ids[0] if ids else None
    logins = [login for login in logins_in(args) if login.lower() != collector.author.lower()]
    if not logins:
        collector.problems.append(f"{where} needs someone else to ask: /ask @login [Qn]")
        return
    if not collector.check(question_id, where):
        return
    for login in dict.fromkeys(logins):
        collector.commands.append(Command(CommandName.ASK, question_id, login=login, line=number))


def _parse_answer(args: str, number: int, following: list[BodyLine], where: str, collector: _Collector) -> None:
    ids, rest = _leading_ids(args)
    verb, _, text = rest.partition(" ")
    stance = _ANSWER_STANCES.get(verb.lower().rstrip(":"))
    if not ids or stance is None:
        collector.problems.append(f"{where} needs a question and a verdict: /answer Qn confirm|correct|strike <text>")
        return
    text = text.lstrip(":—–- ").strip() or continuation(following)
    if stance is Stance.CORRECT and not text:
        collector.problems.append(f"{where} needs the corrected text: /answer Qn correct <text>")
        return
    if collector.check(ids[0], where):
        collector.commands.append(Command(CommandName.ANSWER, ids[0], text, stance=stance, line=number))
