"""What a maintainer's reply says: the reader's output (pure data)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Stance(str, Enum):
    CONFIRM = "confirm"
    CORRECT = "correct"
    STRIKE = "strike"
    QUESTION = "question"  # a question back to the author
    DELEGATE = "delegate"  # asks someone else, who becomes awaited
    TENTATIVE = "tentative"  # "let me double-check"
    UNCLEAR = "unclear"  # the reader cannot tell: the bot asks for /confirm or /correct, never guesses
    ANSWER = "answer"  # facts given to an open question: folded in by a person, like a correction


class CommandName(str, Enum):
    CONFIRM = "confirm"
    CORRECT = "correct"
    STRIKE = "strike"
    ASK = "ask"
    FOLLOWUP = "followup"
    ACCEPT = "accept"
    REJECT = "reject"
    ANSWER = "answer"  # an answer given off GitHub, e.g. on the mailing list
    HELP = "help"  # `/questions help`


@dataclass(frozen=True)
class Command:
    name: CommandName
    question: str | None = None  # "Q9"
    text: str = ""  # correction text, follow-up title, off-GitHub answer text
    login: str | None = None  # for /ask
    stance: Stance | None = None  # for /answer
    line: int = 0  # 1-based line in the comment body


@dataclass(frozen=True)
class AnswerReading:
    question: str | None  # None when the reply is not tied to any question
    stance: Stance
    text: str  # the words that carry this answer (an excerpt of the reply)


@dataclass(frozen=True)
class FollowUpCue:
    question: str | None
    title: str  # a proposed issue title
    text: str  # the words that suggested it


@dataclass(frozen=True)
class Reading:
    """Everything the bot understood from one comment."""

    question: str | None  # the question the reply is about (anchored thread or explicit Qn)
    stances: tuple[Stance, ...]
    answers: tuple[AnswerReading, ...]
    awaiting: tuple[str, ...]  # logins newly asked (delegation / /ask)
    followups: tuple[FollowUpCue, ...]
    commands: tuple[Command, ...]
    binding: bool  # True when the author is a maintainer AND the reading came from commands/bulk lines
    confidence: float  # 1.0 for commands and bulk answers; < 1.0 for heuristic readings
    heuristic: bool  # True when no explicit command or bulk line was found
    # Appended, optional (not part of the `explain --json` contract): what the bot should
    # report back instead of silently dropping.
    unknown_questions: tuple[str, ...] = ()  # ids the reply names that are not tracked questions
    problems: tuple[str, ...] = ()  # human-readable notes, e.g. "/correct Q9 needs the corrected text"

    def to_json(self) -> dict:
        """The `explain --json` contract."""
        return {
            "question": self.question,
            "stances": [stance.value for stance in self.stances],
            "awaiting": list(self.awaiting),
            "followups": [cue.title for cue in self.followups],
            "answers": [
                {"question": answer.question, "stance": answer.stance.value, "text": answer.text}
                for answer in self.answers
            ],
            "binding": self.binding,
            "confidence": round(self.confidence, 2),
        }
