"""The maintainer commands, in one table (pure).

Each command's name, the word typed after `/`, its grammar, its help line, whether it acts on
one question or steers the bot (control), and the stance it records. The parser, the help
text, the conversation fold and the record rules all read this table, so a new command is a
row here plus its rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.core.reader_output import CommandName, Stance


class Scope(str, Enum):
    PER_QUESTION = "per-question"  # acts on one question (named, or the thread's)
    CONTROL = "control"  # steers the bot: proposals, follow-ups, help


@dataclass(frozen=True)
class CommandSpec:
    name: CommandName
    word: str  # what follows the `/`
    grammar: str  # as the help shows it
    help: str
    scope: Scope
    stance: Stance | None = None  # the answer it records, if it always records the same one


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(CommandName.CONFIRM, "confirm", "/confirm [Qn]", "confirm the proposed answer", Scope.PER_QUESTION, Stance.CONFIRM),
    CommandSpec(
        CommandName.CORRECT,
        "correct",
        "/correct [Qn] <text>",
        "correct it; <text> (or the next paragraph) is the right answer",
        Scope.PER_QUESTION,
        Stance.CORRECT,
    ),
    CommandSpec(CommandName.STRIKE, "strike", "/strike [Qn]", "drop the question, or the claim it backs", Scope.PER_QUESTION, Stance.STRIKE),
    CommandSpec(CommandName.ASK, "ask", "/ask @login [Qn]", "ask someone else to answer; they become awaited", Scope.PER_QUESTION, Stance.DELEGATE),
    CommandSpec(CommandName.FOLLOWUP, "followup", "/followup [Qn] <title>", "propose a follow-up issue with this title", Scope.CONTROL),
    CommandSpec(CommandName.ACCEPT, "accept", "/accept", "accept the bot's proposal in this thread", Scope.CONTROL),
    CommandSpec(CommandName.REJECT, "reject", "/reject", "reject the bot's proposal in this thread", Scope.CONTROL),
    CommandSpec(
        CommandName.ANSWER,
        "answer",
        "/answer Qn confirm|correct|strike <text>",
        "record an answer given off GitHub (e.g. on the mailing list)",
        Scope.PER_QUESTION,
    ),
    CommandSpec(CommandName.HELP, "questions", "/questions help", "show this help", Scope.CONTROL),
)

BY_WORD: dict[str, CommandSpec] = {spec.word: spec for spec in COMMANDS}
BY_NAME: dict[CommandName, CommandSpec] = {spec.name: spec for spec in COMMANDS}
PER_QUESTION = frozenset(spec.name for spec in COMMANDS if spec.scope is Scope.PER_QUESTION)
CONTROL = frozenset(spec.name for spec in COMMANDS if spec.scope is Scope.CONTROL)
# Commands that always record the same deciding answer (`/answer` carries its own stance).
DECIDING_COMMANDS: dict[CommandName, Stance] = {
    spec.name: spec.stance for spec in COMMANDS if spec.stance in (Stance.CONFIRM, Stance.CORRECT, Stance.STRIKE)
}
# The verdict words `/answer Qn <verdict>` accepts.
ANSWER_VERDICTS: dict[str, Stance] = {stance.value: stance for stance in DECIDING_COMMANDS.values()}

_HELP_COLUMN = 42


def help_text() -> str:
    """Plain text in fixed columns: the notice shows it inside a code fence, a terminal as is.
    Indented four spaces so that, pasted anywhere, its lines never read as commands."""
    lines = ["Commands, each alone on its own line (Qn may be left out inside a question's thread):"]
    lines += [f"    {spec.grammar:<{_HELP_COLUMN}}{spec.help}" for spec in COMMANDS]
    lines += [
        "Bulk answers, one line per question:  Q8: confirm   Q9 - correct: <text>   Q10 strike   **Q12**: yes",
        "A bulk word followed by more text (`Q9: correct - ...`, `Q9: yes, but ...`) is not binding: the bot asks.",
        "Commands and bulk lines from maintainers (OWNER, MEMBER, COLLABORATOR) are binding.",
        "Anything else, and any free-text reply, is a proposal a maintainer can /accept or /reject.",
    ]
    return "\n".join(lines)
