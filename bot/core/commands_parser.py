"""Explicit instructions in a reply: slash commands and bulk answer lines (pure).

Prow-style: a command is a line of its own that starts with `/`. Lines inside code fences
and `>` quotes are never commands or answers, because they show text rather than say it
(a quote is the comment being replied to; a fence is an example or a suggestion).
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum

from bot.core.command_registry import ANSWER_VERDICTS, BY_WORD
from bot.core.dialect import QUESTION_ID, find_ids, normalise_id
from bot.core.reader_output import Command, CommandName, Stance

# The id grammar (`Q9`, `Q14.1`, `Q5a`, `Q-clienttrust`, lists and ranges) is the documents'
# own, from bot/core/dialect.py; replies add only the word written out: "question 5",
# "questions 3 and 4", "question #5".
# By the section's number: `§14.5`, `§14 item 5`, `§14 #5` name question 5 of §14.
_SECTION_ITEM = re.compile(r"§\s?14(?:\.|\s+(?:item|question|no\.?|#)\s*#?)(\d{1,3}+)(?![\w.])", re.IGNORECASE)
# A maintainer types `/confirm Q14.r1` for the document's `Q14.R1`.
_TYPED_SUBPART = re.compile(r"(?<=\d\.)[a-z](?=\d)")
_QUESTION_WORD = re.compile(r"\b[Qq]uestions?\s+#?(\d{1,4}+)(?![\w.])((?:\s*(?:,|and|&)\s*#?\d{1,4}+(?![\w.]))*+)")
_LOGIN = re.compile(r"(?<![\w@./`])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))(?![\w/-])")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)")
_QUOTE = re.compile(r"^ {0,3}>")
# "On Mon, 1 Jun 2026 at 10:00, Someone <a@b.org> wrote:" heads a quoted e-mail reply.
_QUOTE_ATTRIBUTION = re.compile(r"^ {0,3}On \S.{0,300} wrote:\s*$")
_COMMAND = re.compile(r"^ {0,3}/(?P<name>[A-Za-z]+)(?P<args>[ \t].*)?$")
# A tick or a cross in a checklist: `- [x] Q3`, `✅ Q3`, `Q3 ❌`.
_TICK = "✅|✔️|✔|☑️|☑"
_CROSS = "❌|✖️|✖|❎"
# A bulk answer line: optional list marker or checkbox or tick, optional emphasis, the id
# (or "Question 5"), an optional short label in parentheses, a separator, then the verdict.
# `**Q15 (file ownership):** ...`
_BULK = re.compile(
    r"^\ {0,3}(?:[-*+]\ +|\d{1,3}[.)]\ +)?(?:(?P<box>\[[ xX]\])\ +|(?P<mark>" + _TICK + "|" + _CROSS + r")\ *)?"
    r"[*_]{0,2}(?P<id>" + QUESTION_ID + r"|[Qq]uestion\ +#?\d{1,4}+)\.?"
    r"(?:[ \t]*\([^)\n]{0,80}\))?(?P<tail>(?:\W.*)?)$"
)
_BULK_SEPARATORS = " \t*_:-–—."
# Where a second answer starts on one line: "Q3 - yes; Q4 - no, because ..." (an id and a
# separator after `;`, `,` or `.`; or any id after `;`).
_NEXT_ANSWER = re.compile(
    r"(?:[;,.]\s++(?=[*_]{0,2}(?:" + QUESTION_ID + r"|[Qq]uestion\ +#?\d{1,4}+)[*_.]{0,3}[ \t]*[:–—-])"
    r"|;\s*(?=[*_]{0,2}" + QUESTION_ID + r"))"
)
# A typed command close to one of ours ("/confim") is a slip, not another bot's command.
_MISSPELLING_CUTOFF = 0.75
_EMOJI_CONFIRM = "👍|" + _TICK
_EMOJI_CORRECT = "👎|" + _CROSS
# After a confirming word, text that turns or limits it: "yes, but ...", "ok if ...".
_TURN = re.compile(
    r"\b(?:but|except|however|although|though|only|unless|if|not|no|instead|actually|partly|partially|mostly"
    r"|incomplete|missing|wrong|incorrect|outdated|depends)\b|n't\b|\?",
    re.IGNORECASE,
)
_COURTESY_TAIL = re.compile(r"^(?:\W|thanks?|thank you|ty|cheers|indeed|nothing to add|as proposed)*$", re.IGNORECASE)
# Verdict words a bulk line may start with. "correct" alone reads as "that's correct";
# "correct:" (a label followed by text) is the correction form, as in `/correct`; "correct"
# followed by anything else could be either, so it is read as unclear (never binding).
_VERDICTS: tuple[tuple[re.Pattern[str], Stance], ...] = (
    (re.compile(r"^(?:correct(?:ion)?|amend(?:ed|ment)?)\s*:\s*(?P<text>.*)$", re.IGNORECASE), Stance.CORRECT),
    (re.compile(r"^(?:not correct|incorrect|wrong|nope)\b(?![-'])[\s.,;:!—–-]*(?P<text>.*)$", re.IGNORECASE), Stance.CORRECT),
    # "no" only as an answer word ("no, ..." / "no."), not as in "no idea" or "no bound".
    (re.compile(r"^no(?:[.,;:!—–-]+\s*(?P<text>.*)|\s+[—–-]\s*(?P<dashed>.*)|)$", re.IGNORECASE), Stance.CORRECT),
    (re.compile(r"^(?:corrected|correction|amend(?:ed)?)\b[\s.,;:!—–-]*(?P<text>.*)$", re.IGNORECASE), Stance.CORRECT),
    (re.compile(r"^(?:" + _EMOJI_CORRECT + r")[\s.,;:!—–-]*(?P<text>.*)$"), Stance.CORRECT),
    (re.compile(r"^(?:strike|struck|drop|dropped|n/a|not applicable)(?![\w-])[\s.,;:!—–-]*(?P<text>.*)$", re.IGNORECASE), Stance.STRIKE),
    (re.compile(r"^correct(?![\w'-])[\s.,;:!—–-]*(?P<text>.*)$", re.IGNORECASE), Stance.UNCLEAR),
    (re.compile(r"^(?:🤔|\?+|hmm+|not sure|unsure)(?![\w'-])[\s.,;:!—–-]*(?P<text>.*)$", re.IGNORECASE), Stance.UNCLEAR),
    (
        re.compile(
            r"^(?:confirm(?:ed)?|yes|yep|agreed?|indeed|ack|lgtm|ok|okay|as proposed|\+1|" + _EMOJI_CONFIRM + r")"
            r"(?![\w'-])[\s.,;:!—–-]*(?P<text>.*)$",
            re.IGNORECASE,
        ),
        Stance.CONFIRM,
    ),
)
_COMMAND_NAMES = {word: spec.name for word, spec in BY_WORD.items()}


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
    """`q9`, `Q09`, `Q9.`, `**Q9.**` -> `Q9`; `Q14.R1`, `Q14.1`, `Q5a`, `Q-clienttrust` as the
    document writes them; `question 5` -> `Q5`; anything else -> None."""
    text = raw.strip()
    word = _QUESTION_WORD.fullmatch(text) or _SECTION_ITEM.fullmatch(text)
    if word is not None and not (word.re is _QUESTION_WORD and word.group(2)):
        return _numbered(word.group(1))
    return normalise_id(_TYPED_SUBPART.sub(lambda match: match.group(0).upper(), text))


def _numbered(digits: str) -> str | None:
    significant = digits.lstrip("0")
    return f"Q{significant}" if significant else None


def question_ids_in(text: str) -> list[str]:
    """Every question id written in `text`, normalised, in order (duplicates kept; lists such
    as `Q3/Q5` and ranges such as `Q6–Q9` give each id)."""
    found: list[tuple[int, str]] = [(match.start, question_id) for match in find_ids(text) for question_id in match.ids]
    if "§" in text:
        found += [(item.start(), question_id) for item in _SECTION_ITEM.finditer(text) if (question_id := _numbered(item.group(1)))]
    if "uestion" in text:
        for word in _QUESTION_WORD.finditer(text):
            numbers = [word.group(1), *re.findall(r"\d++", word.group(2) or "")]
            found += [(word.start(), question_id) for number in numbers if (question_id := _numbered(number))]
    return [question_id for _, question_id in sorted(found, key=lambda pair: pair[0])]


def logins_in(text: str) -> list[str]:
    """`@login` mentions (not e-mail addresses, not `@org/team`), in order."""
    return [match.group(1) for match in _LOGIN.finditer(text)]


def is_known(question_id: str, known_questions: Collection[str]) -> bool:
    if question_id in known_questions:
        return True
    # Callers may hand us ids in another spelling ("Q08"); compare normalised forms.
    return question_id in known_set(known_questions)


def known_set(known_questions: Collection[str]) -> Collection[str]:
    """The known ids normalised, for repeated look-ups (one pass over the collection)."""
    if isinstance(known_questions, (AnyQuestionId, KnownQuestions)):
        return known_questions
    return KnownQuestions(known_questions)


class KnownQuestions(Collection[str]):
    """Known question ids, normalised once so each look-up is a set look-up."""

    def __init__(self, ids: Iterable[str]) -> None:
        self._ids = frozenset(filter(None, (normalise_question_id(str(raw)) for raw in ids)))

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and (item in self._ids or normalise_question_id(item) in self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._ids))

    def __len__(self) -> int:
        return len(self._ids)


def classify_lines(body: str) -> list[BodyLine]:
    """Tag each line as prose, quote or code (CommonMark fences: same char, at least as long)."""
    lines: list[BodyLine] = []
    open_fence: str | None = None
    fence_info = ""
    for number, text in enumerate(body.splitlines(), start=1):
        fence = _FENCE.match(text)
        if open_fence is not None:
            closes = (
                fence is not None
                and fence.group(1)[0] == open_fence[0]
                and len(fence.group(1)) >= len(open_fence)
                and not text.strip().strip(fence.group(1)[0])
            )
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
                _parse_command(_COMMAND_NAMES[name], args, line.number, _after(lines, index), collector)
            continue  # other bots' commands (/assign, /lgtm ...) are not ours to read
        for piece in answer_pieces(table_row_as_answer(line.text)):
            _parse_bulk_line(replace(line, text=piece), _after(lines, index), collector)
    return collector.result()


def misspelt_command(text: str) -> tuple[str, str] | None:
    """`/confim` -> ("confim", "confirm"): a command line whose word is a slip for one of ours."""
    command = _COMMAND.match(text)
    if command is None or command.group("name").lower() in _COMMAND_NAMES:
        return None
    typed = command.group("name").lower()
    meant = difflib.get_close_matches(typed, list(_COMMAND_NAMES), n=1, cutoff=_MISSPELLING_CUTOFF)
    return (typed, meant[0]) if meant else None


def table_row_as_answer(text: str) -> str:
    """`| Q2 | no, TLS is optional |` -> `Q2: no, TLS is optional`. Only a two-cell row: with
    more columns, which cell is the answer is a guess."""
    stripped = text.strip()
    if not stripped.startswith("|"):
        return text
    cells = [cell.strip() for cell in stripped.strip("|").split("|")]
    if len(cells) != 2 or normalise_question_id(cells[0].strip("*_ ")) is None:
        return text
    return f"{cells[0]}: {cells[1]}"


def answer_pieces(text: str) -> list[str]:
    """One bulk line holding several answers, split at each new id: `Q3 - yes; Q4 - no`."""
    if _BULK.match(text) is None:
        return [text]
    starts = [0] + [match.end() for match in _NEXT_ANSWER.finditer(text)]
    return [text[start:end].rstrip(" ;,.") for start, end in zip(starts, [*starts[1:], len(text)], strict=True)]


def _after(lines: list[BodyLine], index: int) -> Iterator[BodyLine]:
    """The lines after `index`, lazily: a slice per line would copy the rest of the body each time."""
    return (lines[position] for position in range(index + 1, len(lines)))


def _parse_bulk_line(line: BodyLine, following: Iterable[BodyLine], collector: _Collector) -> None:
    bulk = _BULK.match(line.text)
    if bulk is None or bulk.group("box") == "[ ]":
        return  # an unticked checklist item answers nothing
    question_id = normalise_question_id(bulk.group("id"))
    rest = bulk_rest(bulk)
    verdict = read_verdict(rest, mark=bulk.group("mark") or bulk.group("box") or "")
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
        if not text:
            collector.problems.append(
                f"line {line.number}: {question_id} is marked wrong but says not what is right:"
                f" reply `/correct {question_id} <text>`"
            )
    if stance is Stance.UNCLEAR:
        collector.problems.append(
            f"line {line.number}: `{question_id}: {_short(rest)}` could confirm or correct, so nothing was recorded as"
            f" binding: answer with `/confirm {question_id}` or `/correct {question_id} <text>`"
        )
    collector.bulk_answers.append(BulkAnswer(question_id, stance, text or rest, line.number))


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bulk_rest(bulk: re.Match[str]) -> str:
    """What follows the id and its separators: `**Q14**: confirmed` -> `confirmed`."""
    return bulk.group("tail").lstrip(_BULK_SEPARATORS).strip()


def read_verdict(rest: str, *, mark: str = "") -> tuple[Stance, str] | None:
    """`confirmed, nothing to add` -> (CONFIRM, "confirmed, nothing to add"); `correct: x` -> (CORRECT, "x");
    `correct - x` and `yes, but x` -> (UNCLEAR, ...): a bulk line binds only when its word cannot be misread.
    `mark` is a checklist tick or cross before the id, which stands for the verdict when no word does."""
    cleaned = rest.strip().strip("*_").strip()
    for pattern, stance in _VERDICTS:
        match = pattern.match(cleaned)
        if match is None:
            continue
        text = (match.groupdict().get("text") or match.groupdict().get("dashed") or "").strip()
        if stance is Stance.CORRECT:
            return stance, text
        if stance is Stance.UNCLEAR:
            ambiguous_correct = cleaned[:7].lower() == "correct"  # "correct" alone is "that's correct"
            return (Stance.CONFIRM, cleaned) if ambiguous_correct and _COURTESY_TAIL.match(text) else (Stance.UNCLEAR, cleaned)
        if stance is Stance.CONFIRM and _TURN.search(text):
            return Stance.UNCLEAR, cleaned  # "yes, but ..." / "ok if ..." is never a binding confirmation
        return stance, cleaned  # the whole line is the excerpt for confirm / strike
    if mark and mark.lower() != "[x]":
        cross = re.fullmatch(_CROSS, mark) is not None
        return (Stance.CORRECT, cleaned) if cross else _ticked(cleaned)
    if mark.lower() == "[x]":
        return _ticked(cleaned)
    return None


def _ticked(text: str) -> tuple[Stance, str]:
    """A ticked item confirms, unless its words turn it."""
    return (Stance.UNCLEAR, text) if _TURN.search(text) else (Stance.CONFIRM, text)


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
    """Split `Q8, Q9 the rest` into (["Q8", "Q9"], "the rest") in one pass over the words."""
    tokens = args.split()
    ids: list[str] = []
    for token in tokens:
        question_id = normalise_question_id(token.rstrip(",:;"))
        if question_id is None:
            break
        ids.append(question_id)
    return ids, " ".join(tokens[len(ids) :])


def _parse_command(
    name: CommandName, args: str, number: int, following: Iterable[BodyLine], collector: _Collector
) -> None:
    where = f"line {number} /{'questions' if name is CommandName.HELP else name.value}"
    if name is CommandName.HELP:
        _parse_help(args, number, where, collector)
    elif name in (CommandName.CONFIRM, CommandName.STRIKE):
        ids, note = _leading_ids(args)
        targets: list[str | None] = list(ids) if ids else [None]  # no id: the thread's own question
        for question_id in targets:
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


def _parse_correct(args: str, number: int, following: Iterable[BodyLine], where: str, collector: _Collector) -> None:
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


def _parse_answer(args: str, number: int, following: Iterable[BodyLine], where: str, collector: _Collector) -> None:
    ids, rest = _leading_ids(args)
    verb, _, text = rest.partition(" ")
    stance = ANSWER_VERDICTS.get(verb.lower().rstrip(":"))
    if not ids or stance is None:
        collector.problems.append(f"{where} needs a question and a verdict: /answer Qn confirm|correct|strike <text>")
        return
    text = text.lstrip(":—–- ").strip() or continuation(following)
    if stance is Stance.CORRECT and not text:
        collector.problems.append(f"{where} needs the corrected text: /answer Qn correct <text>")
        return
    if collector.check(ids[0], where):
        collector.commands.append(Command(CommandName.ANSWER, ids[0], text, stance=stance, line=number))
