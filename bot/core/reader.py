"""Reading a maintainer's reply: explicit commands first, else a heuristic proposal (pure).

Two layers, never mixed in one reading:
- explicit: slash commands and bulk answer lines (bot/core/commands_parser.py). Certain
  (confidence 1.0), and binding when the author is a maintainer.
- heuristic: cue words in free text. Never binding, confidence < 1: the bot proposes, a
  maintainer accepts. When a reply holds any explicit line, its prose is commentary.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from bot.core.command_registry import DECIDING_COMMANDS, PER_QUESTION, help_text
from bot.core.commands_parser import (
    BodyLine,
    ExplicitParse,
    LineKind,
    classify_lines,
    is_known,
    known_set,
    logins_in,
    normalise_question_id,
    parse_explicit,
    question_ids_in,
)
from bot.core.reading import (
    AnswerReading,
    Command,
    CommandName,
    FollowUpCue,
    Reading,
    Stance,
)

MAINTAINER_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})

HELP_TEXT = help_text()
MAX_BODY_CHARS = 65_536  # GitHub's own limit on a comment: anything longer is not read

_HEURISTIC_CEILING = 0.9  # a heuristic reading is never certain
_EXCERPT_LIMIT = 500


def is_maintainer_association(association: str) -> bool:
    """OWNER, MEMBER and COLLABORATOR can bind the record (GitHub `author_association`)."""
    return association.strip().upper() in MAINTAINER_ASSOCIATIONS


def read_reply(
    body: str,
    *,
    author: str,
    association: str,
    is_maintainer: bool,
    anchored_question: str | None,
    known_questions: Collection[str],
) -> Reading:
    """Everything the bot understood from one comment. `association` is kept for the caller's
    record; `is_maintainer` (decided by the caller, e.g. from the association) decides binding."""
    del association  # binding is decided by is_maintainer; the association is the caller's to record
    known_questions = known_set(known_questions)
    lines = classify_lines((body or "")[:MAX_BODY_CHARS])
    explicit = parse_explicit(lines, known_questions, author)
    anchored = normalise_question_id(anchored_question) if anchored_question else None
    anchored = anchored or anchored_question
    if explicit.found:
        return _explicit_reading(explicit, lines, anchored, known_questions, is_maintainer)
    return _heuristic_reading(lines, author, anchored, known_questions)


# --------------------------------------------------------------------------- explicit


def _explicit_reading(
    explicit: ExplicitParse,
    lines: list[BodyLine],
    anchored: str | None,
    known: Collection[str],
    is_maintainer: bool,
) -> Reading:
    mentioned = [c.question for c in explicit.commands if c.question] + [a.question for a in explicit.bulk_answers]
    mentioned += _known_mentions(_prose_text(lines), known)
    question = anchored or _single(mentioned)
    problems = list(explicit.problems)
    # Next to explicit lines, prose is commentary: say which Qn lines were left unread.
    problems += [
        f"line {number}: {question_id} has no confirm/correct/strike word, so it was not recorded"
        f" (write `{question_id}: correct: <text>` or /correct {question_id} <text>)"
        for number, question_id in explicit.unread_lines
        if is_known(question_id, known)
    ]
    commands = tuple(_resolve(command, question, problems) for command in explicit.commands)
    numbered: list[tuple[int, AnswerReading]] = []
    awaiting: list[str] = []
    followups: list[FollowUpCue] = []
    for command in commands:
        answer = _apply_command(command, awaiting, followups)
        if answer is not None:
            numbered.append((command.line, answer))
    numbered += [(bulk.line, AnswerReading(bulk.question, bulk.stance, bulk.text)) for bulk in explicit.bulk_answers]
    answers = [answer for _, answer in sorted(numbered, key=lambda pair: pair[0])]  # in the order written
    return Reading(
        question=question,
        stances=_stances_of(answers),
        answers=tuple(answers),
        awaiting=tuple(dict.fromkeys(awaiting)),
        followups=tuple(followups),
        commands=commands,
        binding=is_maintainer,
        confidence=1.0,
        heuristic=False,
        unknown_questions=explicit.unknown_questions,
        problems=tuple(problems),
    )


def _resolve(command: Command, question: str | None, problems: list[str]) -> Command:
    """A command without Qn applies to the thread's (or the reply's single) question."""
    needs_question = command.name in PER_QUESTION and command.name is not CommandName.ANSWER
    if command.question is not None or not (needs_question or command.name is CommandName.FOLLOWUP):
        return command
    if question is None:
        if not needs_question:
            return command  # a follow-up may stand on its own
        problems.append(f"line {command.line} /{command.name.value}: which question? write /{command.name.value} Qn")
        return command
    return replace(command, question=question)


def _apply_command(command: Command, awaiting: list[str], followups: list[FollowUpCue]) -> AnswerReading | None:
    """The answer a command gives, if any; /ask and /followup also fill awaiting / followups."""
    if command.name in DECIDING_COMMANDS:
        return AnswerReading(command.question, DECIDING_COMMANDS[command.name], command.text)
    if command.name is CommandName.ANSWER and command.stance is not None:
        return AnswerReading(command.question, command.stance, command.text)
    if command.name is CommandName.ASK and command.login:
        awaiting.append(command.login)
        return AnswerReading(command.question, Stance.DELEGATE, f"@{command.login}")
    if command.name is CommandName.FOLLOWUP:
        followups.append(FollowUpCue(command.question, command.text, command.text))
    return None


# --------------------------------------------------------------------------- heuristic

# Each pass masks what it matched, so later passes cannot re-read the same words
# ("not correct" is a correction, and its "correct" must not then count as a confirmation).
_NEUTRAL = re.compile(
    r"correct me if i'?m wrong|if i'?m not (?:mistaken|wrong)|\bin fact\b|\bno (?:rush|worries|problem|pressure)\b"
    r"|\bthanks?(?: you)?\b|\bthank you\b"
    r"|\b(?:confirm|correct|strike)(?:\s*(?:/|,|or)\s*(?:confirm|correct|strike))+\b",  # naming the verbs, not using them
    re.IGNORECASE,
)
_QUESTION_BACK = re.compile(
    r"\b(?:could|can|would) you (?:please )?(?:clarify|explain|elaborate|expand)\b|\bwhat do you mean\b"
    r"|\bnot sure what you mean\b|\bwhat (?:exactly )?is meant by\b",
    re.IGNORECASE,
)
_TENTATIVE = re.compile(
    r"\b(?:need|needs|have|has|want) to (?:double-?check|verify|check|confirm|look(?: into)?)\b"
    r"|\blet me (?:double-?check|verify|check|confirm|look|think|dig|get back)\b"
    r"|\bi'?ll (?:double-?check|verify|check|look|dig|get back)\b"
    r"|\bwill (?:take a (?:deeper |closer |proper )?look|double-?check|verify|check)\b"
    r"|\bdouble-?check\b|\bnot (?:100% |entirely |completely |quite )?sure\b|\biirc\b|\bafaik\b"
    r"|\bi think so\b|\bto be confirmed\b|\btbc\b|\bcan(?:no|')t confirm\b|\bnot certain\b",
    re.IGNORECASE,
)
_STRIKE = re.compile(
    r"\bstrike\b(?!-)(?: (?:this|it|that|the question))?|\b(?:drop|remove|delete) (?:this|it|that|the question|this question|the claim)\b"
    r"|\bnot (?:relevant|applicable)\b|\birrelevant\b|\bdoes(?:n't| not) apply\b|\bn/a\b|\bobsolete\b|\bmoot\b",
    re.IGNORECASE,
)
_CORRECT = re.compile(
    r"(?:\bnot|n't|\bnever|\bhardly)\s+(?:(?:quite|entirely|exactly|really|fully|completely|totally|100%)\s+)?"
    r"(?:correct|right|true|accurate|agreed?|the case|confirmed)\b"
    r"|\b(?:incorrect|inaccurate|wrong|mistaken|outdated|out of date|disagree)\b"
    r"|\b(?:partially|partly|mostly|half)\s+(?:correct|right|true)\b"
    r"|\bshould (?:rather )?(?:be|read|say|mention|note|include|list|state)\b(?! (?:fine|ok|okay|good|correct|right|enough)\b)"
    r"|\b(?:please|also|you (?:should|could|may want to|might want to))\s+(?:also\s+)?"
    r"(?:add|mention|note|include|remove|change|replace|update|rename|fix|correct)\b"
    r"|\b(?:needs?|has|have) to be (?:updated|changed|fixed|corrected|reworded|amended)\b"
    r"|\b(?:should|must) be corrected\b|\bactually\b|\binstead\b|\bit depends\b|\bexcept\b|\bnope\b"
    r"|^\W*(?:please\s+)?(?:remove|add|change|replace|rename|reword|mention|include|update|fix)\b",  # imperative edit
    re.IGNORECASE,
)
_BARE_NO = re.compile(r"^\W*no\b(?:\W*$|\s+(?:for|to|on|about|not|that|it|this|because|since|as|in)\b)", re.IGNORECASE)
_CONFIRM_STRONG = re.compile(
    r"\b(?:yes|yep|yeah|yup|confirmed|agreed|lgtm)\b|\bi (?:can |do )?(?:confirm|agree)\b|\bconfirming\b"
    r"|(?<!\S)\+1\b|👍|✅|\bno (?:objections?|concerns?)\b",
    re.IGNORECASE,
)
_CONFIRM_WEAK = re.compile(
    r"\b(?:indeed|exactly|correct)\b|\b(?:that'?s|that is|this is|you'?re|is|are|sounds|looks|seems) (?:exactly |quite |all )?right\b"
    r"|\b(?:sounds|looks|seems) (?:good|fine|right|reasonable)\b|\bmakes sense\b|\bas proposed\b|\bfine with\b"
    r"|\b(?:that'?s|that is|it'?s) true\b|^\W*(?:ok|okay|ack|right|true|confirm)\W*$",
    re.IGNORECASE,
)
# "Can you confirm?" asks for a confirmation; it does not give one.
_REQUEST_BEFORE = re.compile(r"(?:\byou|\bplease|\bto|\bsomeone|\bsomebody|\banyone|\bwho|\bcan we)\s+$", re.IGNORECASE)
# Asking a mentioned person to answer: a direct request, or a question about checking.
_DELEGATION_REQUEST = re.compile(
    r"\b(?:can|could|would|will) (?:you|u)\b|\bplease\b|\bping\b|\bdefer to\b|\bknows? (?:this )?better\b"
    r"|\bwould know\b|\bwdyt\b",
    re.IGNORECASE,
)
_INTERROGATIVE = re.compile(
    r"^\W*(?:is|are|was|were|do|does|did|can|could|should|would|will|shall|may|might|what|why|how|which|who|where|when"
    r"|isn't|aren't|don't|doesn't|shouldn't|wouldn't|won't)\b",
    re.IGNORECASE,
)
_CHECK_VERB = re.compile(
    r"\b(?:confirm|check|verify|double-?check|answer|weigh in|chime in|take a look|have a look)\b", re.IGNORECASE
)
_FOLLOWUP = re.compile(
    r"\b(?:open|file|create|raise|log)\s+(?:a |an |some |new |the )?(?:follow-?up )?(?:ticket|issue|jira|bug|proposal|task)s?\b"
    r"|\bmake sure (?:that )?(?:there (?:is|are)|we (?:have|add)) (?:a |an |some )?(?:\w+ )?tests?\b"
    r"|\b(?:add|write) (?:a |an |some )?(?:regression |unit |integration )?tests?\b"
    r"|\bwe (?:probably |really |definitely |also )?(?:should|might want to|need to|ought to|could)"
    r" (?:also )?(?:add|implement|introduce|harden|encrypt|document|have|track|follow up)\b"
    r"|\btrack(?:ed)? (?:this|it) (?:in|with|as|via) (?:a |an )?(?:ticket|issue|jira)\b",
    re.IGNORECASE,
)
_FOLLOWUP_LEAD = re.compile(
    r"^(?:(?:yes|yeah|so|and|also|but|i think|imo|maybe|perhaps|then|in addition)\W+)*"
    r"(?:(?:we|i|you|someone)\s+)?(?:(?:probably|really|definitely|also|will|'ll)\s+)*"
    r"(?:should|might want to|need to|ought to|could|must|will|'ll|want to)?\s*(?:also\s+)?"
    r"(?:make sure (?:that )?(?:there (?:is|are)\s+)?)?",
    re.IGNORECASE,
)
_FOLLOWUP_VEHICLE = re.compile(
    r"^(?:open|file|create|raise|log)\s+(?:a |an |some |new |the )?(?:follow-?up )?"
    r"(?:ticket|issue|jira|bug|task|(?P<proposal>proposal))s?\s*(?:to|for|about|on|so that|that)?\s*",
    re.IGNORECASE,
)
_FOLLOWUP_CLAUSE_BREAK = re.compile(
    r";\s*|\s+[—–]\s+|,?\s+but\s+|\.\s+|,\s+(?=(?:we|i|you|someone|let's|so|and)\b)", re.IGNORECASE
)
_ANAPHORIC = re.compile(r"^(?:(?:track|fix|address|handle|cover|do|follow up on)\s+)?(?:this|it|that|them)?\W*$", re.IGNORECASE)
_COURTESY = re.compile(r"^\W*(?:thanks|thank you|cheers|many thanks)\b", re.IGNORECASE)
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx|incl|resp)\.", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_CLAUSE_BREAK = re.compile(r"[,;:]\s+|\s+[—–-]\s+|\s+(?=\bbut\b)|\s*\(|\)\s*", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_CODE_MARK_BASE, _CODE_MARKS = 0xE000, 6400  # the Unicode private-use area
_CODE_MARK = re.compile("[\ue000-\uf8ff]")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_]|[*_](?!\w)|~~")
_BLOCK_START = re.compile(r"^\s{0,3}(?:[-*+]\s+|\d{1,3}[.)]\s+|#{1,6}\s)")
_QN_LINE = re.compile(r"^\s{0,3}(?:[-*+]\s+|\d{1,3}[.)]\s+)?[*_]{0,2}([Qq]0*\d+(?:\.[Rr]\d+)?)\b")


@dataclass
class _Answer:
    question: str | None
    stance: Stance
    texts: list[str]
    strength: float


@dataclass
class _HeuristicState:
    author: str
    known: Collection[str]
    answers: list[_Answer] = field(default_factory=list)
    pending: dict[str | None, list[str]] = field(default_factory=dict)  # uncued sentences per question
    awaiting: list[str] = field(default_factory=list)
    followups: list[FollowUpCue] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    mixed: set[str | None] = field(default_factory=set)  # questions read both ways in one clause run
    code_spans: list[str] = field(default_factory=list)  # inline code hidden from the cue reader


def _heuristic_reading(
    lines: list[BodyLine], author: str, anchored: str | None, known: Collection[str]
) -> Reading:
    prose = _prose_text(lines)
    question = anchored or _single(_known_mentions(prose, known))
    state = _HeuristicState(author, known)
    for segment_question, sentences in _segments(lines, question, state):
        previous = ""
        for sentence in sentences:
            _read_sentence(sentence, _sentence_question(sentence, segment_question, state), previous, state)
            previous = sentence
    _fall_back_to_amendments(state)
    _read_suggestions(lines, question, state)
    answers = tuple(
        AnswerReading(answer.question, answer.stance, _excerpt(_restore_code(" ".join(answer.texts), state.code_spans)))
        for answer in state.answers
    )
    return Reading(
        question=question,
        stances=_stances_of(answers),
        answers=answers,
        awaiting=tuple(dict.fromkeys(state.awaiting)),
        followups=tuple(state.followups),
        commands=(),
        binding=False,
        confidence=_heuristic_confidence(state),
        heuristic=True,
        unknown_questions=tuple(state.unknown),
    )


def _segments(lines: list[BodyLine], default: str | None, state: _HeuristicState) -> list[tuple[str | None, list[str]]]:
    """Prose split into blocks (paragraphs, list items), each tied to a question.

    A block that starts with `Qn` (`- **Q15 (ownership):** ...`) is about Qn; other blocks
    are about the reply's question."""
    blocks: list[tuple[str | None, list[str]]] = []
    current: list[str] = []
    current_question = default

    def flush() -> None:
        if current:
            blocks.append((current_question, _sentences(" ".join(current))))
            current.clear()

    for line in lines:
        if line.kind is not LineKind.PROSE or not line.text.strip():
            flush()
            current_question = default
            continue
        if _BLOCK_START.match(line.text) or _QN_LINE.match(line.text):
            flush()
            current_question = default
            leading = _QN_LINE.match(line.text)
            if leading is not None:
                current_question = _known_or_none(normalise_question_id(leading.group(1)) or "", state)
        current.append(_plain(line.text, state.code_spans))
    flush()
    return blocks


def _sentence_question(sentence: str, segment_question: str | None, state: _HeuristicState) -> str | None:
    """A sentence naming exactly one question is about that one ("For Q9, yes")."""
    named = list(dict.fromkeys(question_ids_in(sentence)))
    known = [question_id for question_id in named if _known_or_none(question_id, state)]
    if len(known) == 1:
        return known[0]
    if named and not known:
        return None  # about a question we do not track: never pin it on the thread's one
    return segment_question


def _read_sentence(sentence: str, question: str | None, previous: str, state: _HeuristicState) -> None:
    if not sentence.strip():
        return
    _read_followup(sentence, question, previous, state)
    others = [login for login in logins_in(sentence) if login.lower() != state.author.lower()]
    is_question = sentence.rstrip().endswith("?")
    delegates = bool(others) and bool(_DELEGATION_REQUEST.search(sentence) or (is_question and _CHECK_VERB.search(sentence)))
    if not (delegates or is_question):
        _read_statement(sentence, _clauses(sentence), question, state)
        return
    # "Yes, and @bob can you check the port?": the answer before the ask still counts;
    # the ask itself confirms nothing ("is that right?").
    _read_statement(sentence, _leading_answer_clauses(sentence), question, state)
    if delegates:
        state.awaiting.extend(others)
        _add(state, question, Stance.DELEGATE, sentence, 0.7)
    else:
        _add(state, question, Stance.QUESTION, sentence, 0.6)


def _leading_answer_clauses(sentence: str) -> list[str]:
    """The clauses before an ask: no mention, no request, not themselves a question."""
    leading: list[str] = []
    for clause in _clauses(sentence):
        if "@" in clause or "?" in clause or _DELEGATION_REQUEST.search(clause) or _INTERROGATIVE.match(clause):
            break
        leading.append(clause)
    return leading


def _read_statement(sentence: str, clauses: list[str], question: str | None, state: _HeuristicState) -> None:
    found = [(clause, stance, strength) for clause in clauses for stance, strength in _clause_cues(clause)]
    stances = list(dict.fromkeys(stance for _, stance, _ in found))
    if not stances:
        if len(clauses) == len(_clauses(sentence)):
            _attach_uncued(state, question, sentence)
        return
    if Stance.CONFIRM in stances and Stance.CORRECT in stances:
        state.mixed.add(question)
    whole = len(stances) == 1 and len(clauses) == len(_clauses(sentence))
    for stance in stances:
        clauses_for = [clause for clause, cue_stance, _ in found if cue_stance is stance]
        strength = max(strength for _, cue_stance, strength in found if cue_stance is stance)
        _add(state, question, stance, sentence if whole else "; ".join(clauses_for), strength)


def _clause_cues(clause: str) -> list[tuple[Stance, float]]:
    """The stances one clause carries, strongest reading first; each pass masks its words."""
    text, _ = _mask(clause, _NEUTRAL)
    cues: list[tuple[Stance, float]] = []
    for pattern, stance, strength in (
        (_QUESTION_BACK, Stance.QUESTION, 0.6),
        (_TENTATIVE, Stance.TENTATIVE, 0.6),
        (_STRIKE, Stance.STRIKE, 0.7),
        (_CORRECT, Stance.CORRECT, 0.6),
    ):
        text, matched = _mask(text, pattern)
        if matched:
            cues.append((stance, strength))
    if _BARE_NO.match(text):
        cues.append((Stance.CORRECT, 0.7))
        text = ""
    text, strong = _mask(text, _CONFIRM_STRONG, skip_requests=True)
    text, weak = _mask(text, _CONFIRM_WEAK, skip_requests=True)
    hedged = any(stance is Stance.TENTATIVE for stance, _ in cues)  # "need to check it is correct"
    if (strong or weak) and not hedged:
        cues.append((Stance.CONFIRM, 0.8 if strong else 0.6))
    return cues


def _mask(text: str, pattern: re.Pattern[str], *, skip_requests: bool = False) -> tuple[str, bool]:
    """Blank out the matches of `pattern`; report whether any counted."""
    matched = False
    pieces: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        if skip_requests and _REQUEST_BEFORE.search(text[: match.start()]):
            continue
        matched = True
        pieces.append(text[last : match.start()])
        pieces.append(" " * (match.end() - match.start()))
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces), matched


def _read_followup(sentence: str, question: str | None, previous: str, state: _HeuristicState) -> None:
    cue = _FOLLOWUP.search(sentence)
    if cue is None:
        return
    title = _followup_title(_clause_around(sentence, cue.start(), cue.end()))
    title = title or _followup_title(previous) or (f"Follow up on {question}" if question else "")
    if not title or any(cue.title == _restore_code(title, state.code_spans) for cue in state.followups):
        return
    restored = _restore_code(title, state.code_spans)
    state.followups.append(FollowUpCue(question, restored, _restore_code(sentence, state.code_spans)))


def _clause_around(sentence: str, start: int, end: int) -> str:
    """The clause holding a cue: "We do not guard it; we should add a limit but not today" -> "we should add a limit"."""
    breaks = list(_FOLLOWUP_CLAUSE_BREAK.finditer(sentence))
    clause_start = max((b.end() for b in breaks if b.end() <= start), default=0)
    clause_end = min((b.start() for b in breaks if b.start() >= end), default=len(sentence))
    return sentence[clause_start:clause_end]


def _followup_title(sentence: str) -> str:
    """`We should open a ticket to track the archive bound.` -> `Track the archive bound`."""
    if not sentence:
        return ""
    text = _FOLLOWUP_LEAD.sub("", sentence.strip(), count=1)
    vehicle = _FOLLOWUP_VEHICLE.match(text)
    text = text[vehicle.end() :] if vehicle else text
    text = text.strip().rstrip(".!;:,")
    if _ANAPHORIC.match(text):
        return ""
    if vehicle is not None and vehicle.group("proposal"):
        text = f"Propose {text}"
    if re.match(r"^(?:a|an|some)\s+(?:\w+\s+)?tests?\b", text, re.IGNORECASE):
        text = f"Add {text}"
    title = text[:1].upper() + text[1:]
    if len(title) > 80:
        title = title[:79].rsplit(" ", 1)[0] + "…"
    return title


def _attach_uncued(state: _HeuristicState, question: str | None, sentence: str) -> None:
    """Uncued sentences elaborate the nearest answer on the same question, or wait for one."""
    if (_COURTESY.match(sentence) and len(sentence.split()) <= 8) or _NEUTRAL.search(sentence):
        return  # "Thanks, much appreciated!", "No rush": chit-chat says nothing about the question
    for answer in reversed(state.answers):
        if answer.question == question and answer.stance in (Stance.CONFIRM, Stance.CORRECT, Stance.STRIKE):
            answer.texts.append(sentence)
            return
    state.pending.setdefault(question, []).append(sentence)


def _add(state: _HeuristicState, question: str | None, stance: Stance, text: str, strength: float) -> None:
    for answer in state.answers:
        if answer.question == question and answer.stance is stance:
            answer.texts.append(text)
            answer.strength = max(answer.strength, strength)
            return
    texts = [text]
    if stance in (Stance.CONFIRM, Stance.CORRECT, Stance.STRIKE):
        texts = state.pending.pop(question, []) + texts
    state.answers.append(_Answer(question, stance, texts, strength))


def _fall_back_to_amendments(state: _HeuristicState) -> None:
    """A reply about a question that states facts without any cue reads as an amendment
    ("Default is true; false only on old upgrades"): we cannot tell it agrees, so we propose."""
    for question, sentences in list(state.pending.items()):
        if question is None or any(answer.question == question for answer in state.answers):
            continue
        substantive = [sentence for sentence in sentences if len(sentence.split()) >= 3]
        if substantive:
            state.answers.append(_Answer(question, Stance.CORRECT, substantive, 0.35))


def _read_suggestions(lines: list[BodyLine], question: str | None, state: _HeuristicState) -> None:
    """A ```suggestion block is a concrete proposed rewording: an amendment."""
    suggested = [
        line.text
        for line in lines
        if line.kind is LineKind.CODE and line.fence_info == "suggestion" and not line.text.lstrip().startswith(("```", "~~~"))
    ]
    if suggested:
        _add(state, question, Stance.CORRECT, "\n".join(suggested).strip(), 0.7)


def _heuristic_confidence(state: _HeuristicState) -> float:
    if not state.answers:
        return 0.5 if state.followups else 0.0
    confidence = min(answer.strength for answer in state.answers)
    if state.mixed:
        confidence = min(confidence, 0.5)  # confirm and correct in one breath: a person should look
    return min(confidence, _HEURISTIC_CEILING)


# --------------------------------------------------------------------------- shared helpers


def _prose_text(lines: list[BodyLine]) -> str:
    code_spans: list[str] = []
    return "\n".join(_plain(line.text, code_spans) for line in lines if line.kind is LineKind.PROSE)


def _restore_code(text: str, code_spans: list[str]) -> str:
    return _CODE_MARK.sub(lambda match: code_spans[ord(match.group(0)) - _CODE_MARK_BASE], text)


def _plain(text: str, code_spans: list[str]) -> str:
    """Markdown to words: code spans are not prose, links keep their text, emphasis goes.

    Each code span becomes one private-use character (never a word, so never a cue) and is
    kept in `code_spans`, so that excerpts can show it again."""

    def hide(match: re.Match[str]) -> str:
        if len(code_spans) >= _CODE_MARKS:
            return " code "
        code_spans.append(match.group(0))
        return chr(_CODE_MARK_BASE + len(code_spans) - 1)

    text = _CODE_MARK.sub(" ", text)  # the marks are ours: a stray one in the body is noise
    text = _without_html_comments(text).replace("\u2019", "'")
    text = _INLINE_CODE.sub(hide, text)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    text = re.sub(r"^\s{0,3}(?:[-*+]\s+|\d{1,3}[.)]\s+|#{1,6}\s+)", "", text)
    return _WHITESPACE.sub(" ", text).strip()  # single spaces keep every later regex linear


def _without_html_comments(text: str) -> str:
    """Drop `<!-- ... -->` (hidden when rendered) with plain finds: a lazy regex is quadratic
    on a line full of unclosed `<!--`."""
    kept: list[str] = []
    position = 0
    while (start := text.find("<!--", position)) >= 0 and (end := text.find("-->", start + 4)) >= 0:
        kept.append(text[position:start] + " ")
        position = end + 3
    kept.append(text[position:])
    return "".join(kept)


def _sentences(paragraph: str) -> list[str]:
    protected = _ABBREVIATIONS.sub(lambda match: match.group(1) + "\u2024", paragraph)
    return [sentence.replace("\u2024", ".").strip() for sentence in _SENTENCE_END.split(protected) if sentence.strip()]


def _clauses(sentence: str) -> list[str]:
    return [clause.strip() for clause in _CLAUSE_BREAK.split(sentence) if clause and clause.strip()]


def _known_mentions(text: str, known: Collection[str]) -> list[str]:
    return [question_id for question_id in question_ids_in(text) if is_known(question_id, known)]


def _known_or_none(question_id: str, state: _HeuristicState) -> str | None:
    if not question_id:
        return None
    if is_known(question_id, state.known):
        return question_id
    if question_id not in state.unknown:
        state.unknown.append(question_id)
    return None


def _single(question_ids: list[str]) -> str | None:
    distinct = list(dict.fromkeys(question_ids))
    return distinct[0] if len(distinct) == 1 else None


def _stances_of(answers: list[AnswerReading] | tuple[AnswerReading, ...]) -> tuple[Stance, ...]:
    return tuple(dict.fromkeys(answer.stance for answer in answers))


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= _EXCERPT_LIMIT:
        return text
    return text[: _EXCERPT_LIMIT - 1].rsplit(" ", 1)[0] + "…"
