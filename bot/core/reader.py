"""Reading a maintainer's reply: explicit commands first, else a heuristic proposal (pure).

Two layers, never mixed in one reading:
- explicit: slash commands and bulk answer lines (bot/core/commands_parser.py). Certain
  (confidence 1.0), and binding when the author is a maintainer.
- heuristic: cue words in free text. Never binding, confidence < 1: the bot proposes, a
  maintainer accepts. When a reply holds any explicit line, its prose is commentary.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

from bot.core.command_registry import DECIDING_COMMANDS, PER_QUESTION, help_text
from bot.core.commands_parser import (
    QUESTION_ID,
    BodyLine,
    ExplicitParse,
    LineKind,
    classify_lines,
    is_known,
    known_set,
    logins_in,
    misspelt_command,
    normalise_question_id,
    parse_explicit,
    question_ids_in,
    read_verdict,
)
from bot.core.dialect import REPLY_LEAD, find_ids
from bot.core.reader_output import (
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
_UNCLEAR_STRENGTH = 0.4  # the reader says it cannot tell: a person must
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
        return _explicit_reading(explicit, lines, anchored, known_questions, is_maintainer, author)
    return _heuristic_reading(lines, author, anchored, known_questions)


# --------------------------------------------------------------------------- explicit


def _explicit_reading(
    explicit: ExplicitParse,
    lines: list[BodyLine],
    anchored: str | None,
    known: Collection[str],
    is_maintainer: bool,
    author: str,
) -> Reading:
    question = anchored
    if question is None:  # no thread: the reply's one question, if it names exactly one
        mentioned = [c.question for c in explicit.commands if c.question] + [a.question for a in explicit.bulk_answers]
        question = _single(mentioned + _known_mentions(_prose_text(lines), known))
    if question is None:  # "> **Q6.** Is ...?" quoted above a bare /confirm
        quoted = [_QUOTE_LEAD.sub("", line.text) for line in lines if line.kind is LineKind.QUOTE]
        question = _quoted_question(quoted, _HeuristicState("", known)) if quoted else None
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
    numbered += _undecided_lines(explicit, lines, known, author)
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


# What a `Qn ...` line without a verdict word may still say next to binding lines: it is not
# sure yet, or it asks back. Neither decides anything, so neither can bind.
_UNDECIDED = frozenset({Stance.TENTATIVE, Stance.QUESTION, Stance.UNCLEAR})


def _undecided_lines(explicit: ExplicitParse, lines: list[BodyLine], known: Collection[str], author: str) -> list[tuple[int, AnswerReading]]:
    """`- Q4: I need to check with the RM` among `Q2: yes` lines: Q4 waits, it is not lost."""
    by_number = {line.number: line for line in lines}
    found: list[tuple[int, AnswerReading]] = []
    for number, question_id in explicit.unread_lines:
        if not is_known(question_id, known) or number not in by_number:
            continue
        reading = _heuristic_reading([by_number[number]], author, question_id, known)
        found += [(number, answer) for answer in reading.answers if answer.stance in _UNDECIDED and answer.question == question_id]
    return found


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
    r"|\bthanks?(?: you)?\b|\bthank you\b|\bsee (?:my |the |our )?(?:comment|reply|answer|note)s?(?: (?:above|below))?\b"
    r"|\b(?:confirm|correct|strike)(?:\s*(?:/|,|or)\s*(?:confirm|correct|strike))+\b"  # naming the verbs, not using them
    r"|^\W*(?:done|fixed|resolved|addressed)\b(?: (?:in|with|by) (?:the |my )?(?:latest|last|new|next) (?:push|commit|revision))?"
    r"|\bno (?:strong )?(?:opinion|preference)\b|\b(?:a few |some |minor )?(?:nits?|comments) (?:inline|below)\b",  # about the edit or the asker, not the claim
    re.IGNORECASE,
)
_QUESTION_BACK = re.compile(
    r"\b(?:could|can|would) you (?:please )?(?:clarify|explain|elaborate|expand)\b|\bwhat do you mean\b"
    r"|\bnot sure what you mean\b|\bwhat (?:exactly )?is meant by\b",
    re.IGNORECASE,
)
_TENTATIVE = re.compile(
    r"\b(?:need|needs|have|has|want) to (?:double-?check|verify|check|confirm|look(?: into)?)\b"
    r"|\blet me (?:double[- ]?check|verify|check|confirm|look|think|dig|get back|find out)\b"
    r"|\b(?:i'?ll|i will|will) (?:double[- ]?check|verify|check|look|dig|get back|come back|find out|report back|answer|reply|respond"
    r"|review|go through|confirm (?:after|once|when|later)|follow up)\b"
    r"|\bwill (?:take a (?:deeper |closer |proper )?look|double[- ]?check|verify|check)\b|\b(?:come|get|report) back (?:to|on|with|later)\b"
    r"|\bneed (?:some |more )?time\b|\bon my (?:todo|to-do|to do|list|radar)\b|\bnot (?:yet confirmed|confirmed yet)\b"
    r"|\bdouble-?check\b|\bnot (?:100% |entirely |completely |quite )?sure\b|\biirc\b|\bafaik\b"
    r"|\bin principle\b|\bpresumably\b"
    r"|^\W*(?:probably|likely|maybe|perhaps|possibly)(?:\W+(?:yes|yeah|so|true|correct|right|not))?\W*$"
    r"|\b(?:probably|likely) (?:yes|so|true|correct|right)\b|\blean(?:ing)? (?:towards?|to)\b"
    r"|\b(?:never|haven't|have not|didn't|did not) (?:looked|checked|tested|verified)\b|\bdunno\b|\bhard to (?:say|tell)\b"
    r"|\b(?:nobody|no one|never) (?:\w+ )?(?:confirmed|verified|checked|tested)\b|\b(?:can'?t|cannot|couldn't) (?:say|tell|be sure)\b"
    r"|\b(?:can'?t|don'?t|do not) (?:remember|recall)\b|\bwithout (?:testing|checking|verifying|trying)\b"
    r"|\btbd\b|^\W*checking\b|\bchecking (?:with|on|internally)\b|\b(?:i'?ll|i will) do (?:a |the )?(?:\w+ )?review\b"
    r"|\bnot (?:know|familiar)\b|🤷|\blooking into\b|\bwaiting (?:for|on)\b"
    r"|\b(?:i'?ll|i will|will|let me) ask\b|\bno decision (?:yet|so far)\b|\bnot (?:yet )?decided\b"
    r"|\bi (?:think|believe|guess) so\b|\bto be confirmed\b|\btbc\b|\bcan(?:no|')t confirm\b|\bnot certain\b|\bi'?m tempted\b"
    r"|\bno (?:idea|clue)\b|\bin theory\b|\bat first glance\b|\bshould be (?:fine|ok|okay|correct|right)\b"
    r"|\b(?:confirm|check|verify) (?:this |it )?with\b|\bnot the right person\b"
    r"|\bdiscuss(?:ed)? (?:this |it )?(?:on|in) (?:the )?(?:dev@|dev list|mailing list|list)"
    r"|\b(?:don't|do not|didn't) know\b"
    r"|\b(?:elevated|raised|taken|moved) to (?:a |the )?(?:dev(?:-| )?list|mailing list|list)\b"
    r"|\bneeds? (?:a |some )?(?:more |further |broader |wider )?discussion\b",
    re.IGNORECASE,
)
_STRIKE = re.compile(
    r"\bstrike\b(?!-)(?: (?:this|it|that|the question))?|\b(?:drop|remove|delete) (?:this|it|that|the question|this question|the claim)\b"
    r"|\bnot (?:relevant|applicable)\b|\birrelevant\b|\bdoes(?:n't| not) apply\b|\bn/a\b|\bobsolete\b|\bmoot\b"
    r"|\b(?:this|it|that) can go\b|\bcan be (?:dropped|removed|struck|deleted)\b"
    r"|\bno longer (?:relevant|applicable|needed|exists?)\b",
    re.IGNORECASE,
)
# Doubt without a verdict: the bot cannot tell, so it asks ("Hmm, not convinced", a lone 🤔).
_DOUBT = re.compile(
    r"\bnot (?:yet |really |fully |entirely )?(?:convinced|persuaded)\b|\b(?:skeptical|sceptical|unconvinced)\b"
    r"|\bi (?:doubt|have (?:my |some )?doubts)\b|^\W*(?:hmm+|hm+|uh+m*|🤔)\W*$|🤔|\bnot so sure\b|\bunsure\b",
    re.IGNORECASE,
)
# Agreeing with someone else's words, or pointing at another answer: what it says is not in
# this reply, so the bot cannot tell ("+1 to what @x said", "same as Q4").
_ECHO = re.compile(
    r"(?:\+1|\bagreed?|\bsame)\s+(?:to|with|as)\s+(?:what\s+)?@[\w-]+|\bwhat @[\w-]+ (?:said|wrote|says|suggested)\b"
    r"|^\W*(?:the )?same (?:as|here|answer|applies)\b|\bsame (?:answer|reply) as\b"
    r"|\bsee my (?:answer|reply|comment) (?:on|to|for|in)\b|^\W*(?:see|cf\.?)\s+(?:also\s+)?(?:q\w|§|question|above|below)"
    r"|^\W*(?:sort of|kind of|more or less)\b"
    r"|@[\w-]+ (?:(?:has |had )?(?:confirmed|agreed|said|told)|(?:is|was) (?:right|correct))\b"  # a verdict told second-hand
    r"|\b(?:the )?(?:pmc|team|community|others|everyone|they) (?:has |have )?(?:agreed|confirmed|decided)\b",
    re.IGNORECASE,
)
# Two negations that agree: "I wouldn't say that's wrong", "not incorrect", "no objection".
_DOUBLE_NEGATIVE = re.compile(
    r"\b(?:wouldn't|would not|don't|do not|can't|cannot|couldn't|could not) (?:say|call|think|argue)"
    r" (?:that's|that is|this is|it's|it is|it|that|this) (?:is )?(?:wrong|incorrect|inaccurate|false)\b"
    r"|\b(?:not|isn't|is not|wasn't) (?:incorrect|wrong|inaccurate|false|untrue)\b|\bnothing (?:wrong|incorrect) (?:with|in|about)\b",
    re.IGNORECASE,
)
# An opinion marker before a yes hedges it ("I believe that's correct"); before a correction
# it is only politeness ("I think it's actually the agent").
_OPINION = re.compile(r"\bi (?:think|believe|guess|assume|suppose)\b", re.IGNORECASE)
# A mention for information asks nothing: "cc @x for visibility".
_FOR_INFORMATION = re.compile(
    r"\bfor (?:visibility|awareness|(?:your )?info(?:rmation)?|reference|the record|context)\b", re.IGNORECASE
)
_ABOUT_CI = re.compile(
    r"\b(?:the )?(?:build|ci|pipeline|checks?|tests?)\s+(?:is\s+|are\s+)?(?:now\s+)?(?:green|red|passing|failing|broken|flaky)\b", re.IGNORECASE
)
_CONTRAST_STRENGTH = 0.5  # a correction read only from "but ..." after a yes
_INTERJECTION = re.compile(r"^\W*(?:hmm+|hm+|uh+m*|well)\W*$", re.IGNORECASE)
_BARE_NO_STRENGTH = 0.7
_LONE_NO = re.compile(r"^\W*no\W*$", re.IGNORECASE)
_ECHO_STRENGTH = 0.39  # "same as Q4" alone: unclear, unless the sentence gives its own verdict
# A conditional never confirms: "if that only covers the admin port, then yes".
_CONDITIONAL = re.compile(r"\b(?:if|unless|provided that|as long as|assuming|only when|depending on)\b", re.IGNORECASE)
_THUMBS_DOWN = "👎"
_CORRECT = re.compile(
    r"👎|❌|\bcaveats?\b|\bi (?:think|believe|guess) (?:no|not)\b|\banswer is (?:still |simply )?(?:a )?no\b"
    r"|^\W*(?:close|almost|nearly)\W*$|\bi(?:'d| would) (?:also )?(?:add|mention|note|include)\b"
    r"|^\W*(?:is|it'?s|it is|that'?s|that is) not so\b|\bin (?:most|many|some) cases\b"
    r"|^\W*(?:usually|generally|typically|normally)\b|^\W*i wish\b|\bwould be nice if\b"
    r"|^\W*(?:it|that|this|they) (?:was|were)\W*$|\b(?:it'?s|that'?s) a (?:no|hard no)\b"
    r"|\b(?:the )?opposite\b|\bthe other way (?:round|around)\b|\bmodulo\b|\bwith the exception of\b|\bapart from\b"
    r"|\bsave for\b|\b(?:first|second|other) half\b|\bin part\b|^\W*not necessarily\b|\bchanges? (?:this|that)\b"
    r"|\b(?:correct|true|right|valid|yes) (?:for|until|up to|before|in) v?\d"
    r"|\b(?:don't|do not|doesn't|does not|didn't) (?:think|believe) (?:so|that'?s|that is|this is|it'?s|it is|this|that|it)\b"
    r"|\bnits?\b|\bmore nuanced\b|\bnot (?:that|so) simple\b|(?:n't|\bnot) \w+ any ?more\b"
    r"|^\W*not (?:really|quite|exactly)\b|^\W*(?:partially|partly)\b|\byes and no\b|\bnot for (?:the )?\w+"
    r"|\bonly (?:applies|holds|works|matters|happens|true) (?:to|for|on|in|when|if)\b|\b(?:overstated|understated|misleading|overstates)\b"
    r"|\bwas true until\b|\bno longer\b|\bnot any ?more\b|\bused to be\b"
    r"|\bincomplete\b|\bnot (?:complete|the whole (?:story|picture))\b|\bnot only\b|\bmissing\b|\bnot how it works\b"
    r"|(?:\bnot|n't|\bnever|\bhardly)\s+(?:(?:quite|entirely|exactly|really|fully|completely|totally|100%)\s+)?"
    r"(?:correct|right|true|accurate|agreed?|the case|confirmed)\b"
    r"|\b(?:incorrect|inaccurate|wrong|mistaken|outdated|out of date|disagree)\b"
    r"|\b(?:partially|partly|mostly|half)\s+(?:correct|right|true)\b"
    r"|\bshould (?:rather )?(?:be|read|say|mention|note|include|list|state)\b"
    r"(?! (?:fine|ok|okay|good|correct|right|enough|green|passing|working|fixed|done|merged|ready|resolved|available|back)\b)"
    r"|\b(?:please|also|you (?:should|could|may want to|might want to))\s+(?:also\s+)?"
    r"(?:add|mention|note|include|remove|change|replace|update|rename|fix|correct)\b"
    r"|\b(?:needs?|has|have) to be (?:updated|changed|fixed|corrected|reworded|amended)\b"
    r"|\b(?:should|must) be corrected\b|^\W*actually\b|\b(?:is|are|was|were|it's|that's|they're) actually\b"
    r"|\binstead\b|\bit depends\b|\bexcept\b|\bnope\b|\bi(?:'d| would) (?:rather|prefer)\b"
    r"|\b(?:small|minor|one|a|quick|slight) correction\b|^\W*correction\b|\bdiffer(?:s|ent) from (?:what|the)\b"
    r"|\b(?:phrase|word|put|write|describe) (?:it|this|that) (?:a bit |slightly )?differently\b|^\W*(?:never|mostly|largely)\b"
    r"|^\W*(?:it |that )?depends\b|\bworth (?:adding|mentioning|noting)\b"
    r"|^\W*(?:minor|nitpick|small (?:thing|nit|note)|one (?:thing|nit))\W*$"
    r"|^\W*not\s+(?:[\ue000-\uf8ff]|\d[\w.]*)\W*$|^\W*(?:definitely|certainly|absolutely|surely) not\b"
    # elliptic, about the claim ("Q4 is not", "They are not."), not about us ("at this time we do not")
    r"|(?<!\bwe )(?<!\bi )(?<!\byou )\b(?:is|are|was|were|do|does|did|can|has|have|will)(?:\s+not|n't)\W*$"
    r"|\b(?:wouldn't|would not) say (?:that|so)\W*$|\b(?:doesn't|does not|don't|do not) (?:have|need) to\b"
    r"|^\W*(?:please\s+)?(?:remove|add|change|replace|rename|reword|mention|include|update|fix)\b",  # imperative edit
    re.IGNORECASE,
)
_BARE_NO = re.compile(
    r"^\W*no\b(?:\W*$|\s+(?:for|to|on|about|not|that|it|this|because|since|as|in|is|it's|its|we|they|i|you)\b)", re.IGNORECASE
)
_CONFIRM_STRONG = re.compile(
    r"\b(?:yes|yep|yeah|yup|confirmed|agreed|lgtm|sgtm)\b|\bi (?:can |do )?(?:confirm|agree)\b|(?:^\W*|\b(?:we|and|so|now) )can confirm\b|\bconfirming\b"
    r"|(?<!\S)\+1\b|👍|👌|✅|\bno (?:objections?|concerns?)\b|\bi'?m (?:fine|ok|okay|happy) with\b",
    re.IGNORECASE,
)
_CONFIRM_WEAK = re.compile(
    r"\b(?:indeed|exactly|correct)\b|\b(?:that'?s|that is|this is|you'?re|is|are|sounds?|looks?|seems?) (?:exactly |quite |all |both )?right\b"
    r"|\b(?:sounds?|looks?|seems?) (?:good|fine|right|reasonable|correct)\b|\bmakes sense\b|\bas proposed\b|\bfine with\b"
    r"|\b(?:both|all|still|claim|that|this|it|which|statement|they) (?:hold|holds|stand|stands)\b|\bholds? (?:true|up)\b"
    r"|\b(?:is|are|looks?|sounds?) accurate\b"
    r"|\b(?:is|are|looks?|sounds?|seems?) (?:fine|ok|okay|good)\b|^\W*agree\b|\bagree with\b"
    r"|\b(?:fine|ok|okay|good) (?:by|with|for) me\b|^\W*approv(?:e|ed|ing)\b"
    r"|\bworks for me\b|\bworks as (?:described|written|stated)\b|\bspot on\b|\bfair enough\b"
    r"|^\W*accurate\b"
    r"|\b(?:that'?s|that is|it'?s) true\b|^\W*(?:ok|okay|ack|right|true|confirm|sure|absolutely|certainly|exactly|yes indeed|totally|definitely|of course)\W*$",
    re.IGNORECASE,
)
# "Can you confirm?" asks for a confirmation; it does not give one.
_REQUEST_BEFORE = re.compile(r"(?:\byou|\bplease|\bto|\bsomeone|\bsomebody|\banyone|\bwho|\bcan we)\s+$", re.IGNORECASE)
_REQUEST_WINDOW = 24  # characters before a cue that can hold "can you" / "please": a bounded look-back
# Asking a mentioned person to answer: a direct request, or a question about checking.
_DELEGATION_REQUEST = re.compile(
    r"\b(?:can|could|would|will) (?:you|u)\b|\bplease\b|\bping(?:ing|ed)?\b|\bpag(?:e|ing)\b"
    r"|\bkindly\b|\bptal\b|\bover to you\b|\byour call\b|\bdefer to\b|\bknows? (?:this )?better\b"
    r"|\bwould know\b|\bwdyt\b",
    re.IGNORECASE,
)
# Naming someone as the one who knows, or bringing them in: each makes them awaited.
_DELEGATION_STATEMENT = re.compile(
    r"\bcc\b|\bloop(?:ing|ed)? in\b|\blet @[\w-]+\b|\bleave (?:it|this|that) (?:to|for)\b|\b(?:better|best) (?:placed|suited|positioned)\b"
    r"|\bassign(?:ing|ed)?\b|\b(?:is|are) (?:the |our )?(?:experts?|owners?|best person)\b"
    r"|\b(?:did|wrote|owns?|built|implemented|maintains?|designed) (?:that|this|it|the)\b|\bknows?\b|\bexpert\b"
    r"|\b(?:can|could|may|might|should|would|will) (?:confirm|check|verify|answer|help|say|comment|chime|weigh|tell)\b"
    r"|\bthoughts\b|\bwhat do you think\b|\bdo you (?:think|agree)\b|\bopinion\b|\bfyi\b|\bfamiliar with\b"
    r"|\b(?:take|have) a look\b|\bask(?:ing|ed)?\b|\bto (?:double[- ]?check|check|confirm|verify|review|look)\b",
    re.IGNORECASE,
)
# Mentions that ask nothing: thanks, credit, someone's words.
_NOT_ASKED = re.compile(
    r"\b(?:thanks|thank you|thx|kudos|cheers|credit|props|hat tip)(?: (?:to|for))?\s+((?:@[\w-]++[\s,&]*+(?:and\s++)?)++)"
    r"|\b(?:as|like|what) (@[\w-]+) (?:said|says|wrote|suggested|mentioned|noted|pointed out|proposed)\b"
    r"|(@[\w-]+)'s\b|\b(?:by|from|per) (@[\w-]+)",
    re.IGNORECASE,
)
_CONTRAST_LEAD = re.compile(r"^\W*(?:but|however|except|although|though|that said|yet|only)\b", re.IGNORECASE)
_LONE_CONTRAST = re.compile(r"^\W*(?:but|however|except|although|though|that said|yet)\W*$", re.IGNORECASE)
_LOGIN_MENTION = re.compile(r"@[\w-]+")
_ADDRESSED = re.compile(r"^(?:@[\w-]++[\s,:]*+)++")  # possessive: one way to split, no backtracking
_INTERROGATIVE = re.compile(
    r"^\W*(?:is|are|was|were|do|does|did|can|could|should|would|will|shall|may|might|what|why|how|which|who|where|when"
    r"|isn't|aren't|don't|doesn't|shouldn't|wouldn't|won't)\b",
    re.IGNORECASE,
)
_CHECK_VERB = re.compile(
    r"\b(?:confirm|check|verify|double-?check|answer|weigh in|chime in|take a look|have a look)\b", re.IGNORECASE
)
_FOLLOWUP = re.compile(
    r"\b(?:open(?:ed)?|filed?|created?|raised?|log(?:ged)?)\s+(?:a |an |some |new |the )?(?:follow-?up )?(?:ticket|issue|jira|bug|proposal|task)s?\b"
    r"|\bmake sure (?:that )?(?:there (?:is|are)|we (?:have|add)) (?:a |an |some )?(?:\w+ )?tests?\b"
    r"|\b(?:add|write) (?:a |an |some )?(?:regression |unit |integration )?tests?\b"
    r"|\bwe (?:probably |really |definitely |also )?(?:should|might want to|need to|ought to|could)"
    r" (?:also )?(?:add|implement|introduce|harden|encrypt|document|have|track|follow up|default|enforce|require|validate|limit|bound|guard)\b"
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
    r"^(?:open(?:ed)?|filed?|created?|raised?|log(?:ged)?)\s+(?:a |an |some |new |the )?(?:follow-?up )?"
    r"(?:ticket|issue|jira|bug|task|(?P<proposal>proposal))s?\s*(?:to|for|about|on|so that|that)?\s*",
    re.IGNORECASE,
)
_FOLLOWUP_CLAUSE_BREAK = re.compile(
    r";\s*|(?<!\s)\s+[—–]\s+|(?:,|(?<!\s))\s+but\s+|\.\s+|,\s+(?=(?:we|i|you|someone|let's|so|and)\b)", re.IGNORECASE
)
_ANAPHORIC = re.compile(r"^(?:(?:track|fix|address|handle|cover|do|follow up on)\s+)?(?:this|it|that|them)?\W*$", re.IGNORECASE)
# Words that point at another question without answering it: "as I said on Q4", "see Q7".
_CROSS_REFERENCE = re.compile(
    r"(?:\bas (?:i |we )?(?:said|mentioned|noted|wrote|answered|explained|discussed)(?: (?:above|before|earlier))?"
    r" (?:on|in|for|under|at|with)|\b(?:said|answered|wrote) (?:yes|no|\w+) (?:on|in|for)|\bi (?:said|answered|wrote)"
    r" (?:on|in|for|under|at|with)|\bsee(?: also)?|\bcf\.?|\bsame as|\blike|\bsimilar(?:ly)? to|\bas for|\bas in|\bas with"
    r"|\brelated to|\bper|\bunlike|\bcovered (?:in|by|under)|\bduplicates?(?: of)?|\bdupe of|\bsee my (?:answer|reply|comment) (?:on|to|for))"
    r"\s+(?:§\s?\d+\s+)?$",
    re.IGNORECASE,
)
_LIST_LEAD = re.compile(r"^\s{0,3}(?:[-*+]\s+)?")
_REPLY_NUMBER = re.compile(r"\W*A(\d{1,4})")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_NUMBERED_ITEM = re.compile(r"^\s{0,3}(\d{1,3})[.)]\s")
# A clause break right before an id: where one reply moves on to the next question.
_CLAUSE_BEFORE_ID = re.compile(
    r"[,;]\s++(?=(?:(?:and|for|as for|on|re)\s+)?(?:" + QUESTION_ID + r"|§\s?14\.\d|[Qq]uestion\s+#?\d))"
)
_INLINE_ITEM = re.compile(r"(?<=\S)\s++(?=\d{1,3}[.)]\s)")  # possessive: one try per run of spaces
_QUOTE_LEAD = re.compile(r"^\s{0,3}(?:>\s?)+")
_COURTESY = re.compile(r"^\W*(?:thanks|thank you|cheers|many thanks)\b", re.IGNORECASE)
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx|incl|resp)\.", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_CLAUSE_BREAK = re.compile(r"[,;:]\s+|(?<!\s)\s+[—–-]\s+|(?<!\s)\s+(?=\bbut\b)|(?<!\s)\s*\(|\)\s*", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_CODE_MARK_BASE, _CODE_MARKS = 0xE000, 6400  # the Unicode private-use area
_CODE_MARK = re.compile("[\ue000-\uf8ff]")
_BACKTICK_RUN = re.compile(r"`++")
_CODE_SPAN_AT = re.compile(r"`++[\s\S]*", re.DOTALL)  # anchored by the caller at a span's two ends
# No bracket inside the text or the target, so each `[` is scanned once: linear on `[[[[...`.
_LINK = re.compile(r"!?\[([^\[\]]*+)\]\([^()\s]*+\)")
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_]|[*_](?!\w)|~~")
_BLOCK_START = re.compile(r"^\s{0,3}(?:[-*+]\s+|\d{1,3}[.)]\s+|#{1,6}\s)")
_QN_LINE = re.compile(r"^\s{0,3}(?:[-*+]\s+|\d{1,3}[.)]\s+)?[*_]{0,2}(" + QUESTION_ID + r")(?![\w-])")


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
    anchored: str | None = None  # the thread's question: cross-references never move a reply off it
    answers: list[_Answer] = field(default_factory=list)
    pending: dict[str | None, list[str]] = field(default_factory=dict)  # uncued sentences per question
    awaiting: list[str] = field(default_factory=list)
    followups: list[FollowUpCue] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    mixed: set[str | None] = field(default_factory=set)  # questions read both ways in one clause run
    code_spans: list[str] = field(default_factory=list)  # inline code hidden from the cue reader
    asking: bool = False  # the block being read addresses people and asks them: its other words are the request
    problems: list[str] = field(default_factory=list)


@dataclass
class _Block:
    """A paragraph or list item of prose, and the question it is about."""

    question: str | None
    sentences: list[str]
    labelled_answer: bool = False  # introduced by "Answer:" under a numbered question


def _heuristic_reading(
    lines: list[BodyLine], author: str, anchored: str | None, known: Collection[str]
) -> Reading:
    prose = _prose_text(lines)
    question = anchored or _single(_known_mentions(prose, known))
    state = _HeuristicState(author, known, anchored)
    lines = _without_misspelt_commands(lines, question, state)
    lines = _split_inline_items(lines)
    for block in _segments(lines, question, state):
        state.asking = _read_addressing(block, state)
        previous = ""
        for whole in block.sentences:
            for sentence in _per_question_pieces(whole):
                for sentence_question in _sentence_questions(sentence, block.question, state):
                    if block.labelled_answer:
                        _read_labelled_answer(sentence, sentence_question, state)
                    else:
                        _read_sentence(sentence, sentence_question, previous, state)
            previous = whole
    _informational_answers(state)
    _read_suggestions(lines, question, state)
    _settle(state)
    answers = tuple(
        AnswerReading(answer.question, answer.stance, _excerpt(_restore_code(" ".join(answer.texts), state.code_spans)))
        for answer in state.answers
    )
    return Reading(
        question=question,
        stances=_stances_of(answers),
        answers=answers,
        awaiting=tuple(dict.fromkeys(login for login in state.awaiting if login.lower() != author.lower())),
        followups=tuple(state.followups),
        commands=(),
        binding=False,
        confidence=_heuristic_confidence(state),
        heuristic=True,
        unknown_questions=tuple(state.unknown),
        problems=tuple(state.problems),
    )


def _per_question_pieces(sentence: str) -> list[str]:
    """`§14.2 confirmed, §14.3 strike` -> one piece per question, when each clause names its own
    one; otherwise the sentence whole ("Q1 and Q2 are both right" answers both alike)."""
    pieces = _CLAUSE_BEFORE_ID.split(sentence)
    if len(pieces) < 2 or not all(len(set(question_ids_in(piece))) == 1 for piece in pieces):
        return [sentence]
    return pieces


def _without_misspelt_commands(lines: list[BodyLine], question: str | None, state: _HeuristicState) -> list[BodyLine]:
    """`/confim` meant a command: the bot cannot act on a guess, so it says so and asks (unclear)."""
    kept: list[BodyLine] = []
    for line in lines:
        slip = misspelt_command(line.text) if line.kind is LineKind.PROSE else None
        if slip is None:
            kept.append(line)
            continue
        typed, meant = slip
        _add(state, question, Stance.UNCLEAR, line.text.strip(), _UNCLEAR_STRENGTH)
        state.problems.append(f"line {line.number}: /{typed} is not a command (did you mean /{meant}?), so nothing was recorded")
        kept.append(replace(line, text=""))
    return kept


def _split_inline_items(lines: list[BodyLine]) -> list[BodyLine]:
    """`1) yes 2) no 3) yes` on one line: one item per number, when the numbers run 1, 2, 3."""
    split: list[BodyLine] = []
    for line in lines:
        first = _NUMBERED_ITEM.match(line.text) if line.kind is LineKind.PROSE else None
        pieces = _INLINE_ITEM.split(line.text) if first is not None else [line.text]
        numbers = [int(match.group(1)) for piece in pieces if (match := _NUMBERED_ITEM.match(piece))]
        in_order = len(numbers) == len(pieces) > 1 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        split += [replace(line, text=piece) for piece in pieces] if in_order else [line]
    return split


def _segments(lines: list[BodyLine], default: str | None, state: _HeuristicState) -> list[_Block]:
    """Prose split into blocks (paragraphs, list items), each tied to a question.

    A block that starts with `Qn` (`- **Q15 (ownership):** ...`) is about Qn; a block right
    under a quote naming one question (`> **Q6.** Is ...`) is about that one; under a numbered
    item, an `Answer:` line answers that number. Other blocks are about the reply's question."""
    blocks: list[_Block] = []
    current: list[str] = []
    current_question = default
    section_default = default  # what a heading without one question falls back to
    quoted: list[str] = []  # the quote block just above
    item_number: str | None = None
    labelled = False

    def flush() -> None:
        nonlocal labelled
        if current:
            blocks.append(_Block(current_question, _sentences(" ".join(current)), labelled))
            current.clear()
        labelled = False

    for line in lines:
        if line.kind is LineKind.QUOTE:
            flush()
            quoted.append(_QUOTE_LEAD.sub("", line.text))
            continue
        if line.kind is not LineKind.PROSE or not line.text.strip():
            flush()
            current_question = _quoted_question(quoted, state) or default if quoted else default
            if line.kind is not LineKind.PROSE:
                quoted.clear()
            continue
        if quoted:
            current_question = _quoted_question(quoted, state) or default
            quoted.clear()
        label = _reply_label(line.text)
        if label is not None and (item_number is not None or label[1] is not None):
            if labelled:
                flush()  # "A1: yes" then "A2: no": each label closes the answer above
            current.clear()  # the item above restates the question; the answer follows the label
            labelled = True
            current_question = _known_or_none(f"Q{label[1] or item_number}", state) or current_question
            current.append(_plain(line.text[label[0] :], state.code_spans))
            continue
        heading = _HEADING.match(line.text)
        if heading is not None:
            flush()
            named = [question_id for question_id in question_ids_in(line.text) if is_known(question_id, state.known)]
            default = named[0] if len(set(named)) == 1 else section_default
            current_question = default
            item_number = None
            continue  # a heading names what follows; it says nothing itself
        if _BLOCK_START.match(line.text) or _QN_LINE.match(line.text):
            flush()
            current_question = default
            numbered = _NUMBERED_ITEM.match(line.text)
            item_number = numbered.group(1) if numbered else None
            if numbered is not None and state.anchored is None and read_verdict(line.text[numbered.end() :]):
                # "1. yes" / "2. no, ..." outside any thread: the items answer the numbered questions.
                current_question = _known_or_none(f"Q{item_number}", state) or default
            leading = _QN_LINE.match(line.text)
            if leading is not None:
                current_question = _known_or_none(normalise_question_id(leading.group(1)) or "", state)
        current.append(_plain(line.text, state.code_spans))
    flush()
    return blocks


def _reply_label(text: str) -> tuple[int, str | None] | None:
    """Where the answer starts after a reply word the documents also use (`Answer:`, `A:`,
    `**A4.**`; dialect.REPLY_LEAD), and the question number an `A4.` names."""
    lead = _LIST_LEAD.match(text)
    label = REPLY_LEAD.match(text, lead.end() if lead else 0)
    if label is None:
        return None
    numbered = _REPLY_NUMBER.match(label.group(0))
    return label.end(), numbered.group(1) if numbered else None


def _quoted_question(quoted: list[str], state: _HeuristicState) -> str | None:
    """The one question a quote names (the question being answered), if exactly one."""
    leading = [match.group(1) for text in quoted if (match := _QN_LINE.match(text))]
    named = [normalise_question_id(raw) or "" for raw in leading] or question_ids_in(" ".join(quoted))
    known = [question_id for question_id in dict.fromkeys(named) if question_id and is_known(question_id, state.known)]
    return known[0] if len(known) == 1 else None


def _sentence_questions(sentence: str, block_question: str | None, state: _HeuristicState) -> list[str | None]:
    """The questions a sentence is about: the ones it names ("For Q9, yes"; "Q3 and Q4 both
    hold"), else its block's. A cross-reference ("as I said on Q4") moves nothing."""
    named: list[str] = []
    written: set[str] = set()
    for match in find_ids(sentence):
        written.update(match.ids)
        if not _CROSS_REFERENCE.search(sentence[max(0, match.start - 48) : match.start]):
            named += match.ids
    if "uestion" in sentence or "§" in sentence:  # "question 5", "questions 3 and 4", "§14.5"
        named += [question_id for question_id in question_ids_in(sentence) if question_id not in written]
    named = list(dict.fromkeys(named))
    known = [question_id for question_id in named if _known_or_none(question_id, state)]
    if known:
        return list(known)
    if named and not known:
        return []  # about a question we do not track: never pin it on the thread's one (it is reported)
    return [block_question]


def _read_addressing(block: _Block, state: _HeuristicState) -> bool:
    """A paragraph that opens by addressing people ("@x, ...") and asks something awaits them."""
    if not block.sentences:
        return False
    opening = _ADDRESSED.match(block.sentences[0])
    if opening is None:
        return False
    logins = [login for login in logins_in(opening.group(0)) if login.lower() != state.author.lower()]
    only_mentions = len(block.sentences) == 1 and opening.end() >= len(block.sentences[0].rstrip(" .!"))
    asks = only_mentions or any(sentence.rstrip().endswith("?") or _DELEGATION_REQUEST.search(sentence) for sentence in block.sentences)
    if logins and asks:
        state.awaiting.extend(logins)
        _add(state, block.question, Stance.DELEGATE, block.sentences[0], 0.7)
    return bool(logins and asks)


def _asked(sentence: str, author: str) -> list[str]:
    """Logins a sentence mentions other than to thank, credit or cite them."""
    spared: set[str] = set()
    for match in _NOT_ASKED.finditer(sentence):
        spared.update(login.lower() for group in match.groups() if group for login in logins_in(group))
    return [login for login in logins_in(sentence) if login.lower() != author.lower() and login.lower() not in spared]


def _read_sentence(sentence: str, question: str | None, previous: str, state: _HeuristicState) -> None:
    if not sentence.strip() or _ABOUT_CI.search(sentence):
        return  # "yes the build is green now" is about the pull request, not the model
    _read_followup(sentence, question, previous, state)
    others = _asked(sentence, state.author)
    is_question = sentence.rstrip().endswith("?")
    delegates = bool(others) and not _FOR_INFORMATION.search(sentence) and bool(
        is_question or _DELEGATION_REQUEST.search(sentence) or _DELEGATION_STATEMENT.search(sentence)
    )
    if not (delegates or is_question):
        _read_statement(sentence, _clauses(sentence), question, state)
        return
    # "Yes, and @bob can you check the port?": the answer before the ask still counts;
    # the ask itself confirms nothing ("is that right?"). A statement that brings someone in
    # ("I'll look today, cc @x") still says what it says.
    if is_question or _DELEGATION_REQUEST.search(sentence):
        _read_statement(sentence, _leading_answer_clauses(sentence), question, state)
    else:
        _read_statement(sentence, _clauses(_LOGIN_MENTION.sub(" ", sentence)), question, state, amend_on_contrast=False, facts=False)
    if delegates:
        state.awaiting.extend(others)
        _add(state, question, Stance.DELEGATE, sentence, 0.7)
    elif not any(answer.question == question and answer.stance is Stance.DELEGATE for answer in state.answers):
        _add(state, question, Stance.QUESTION, sentence, 0.6)


def _read_labelled_answer(sentence: str, question: str | None, state: _HeuristicState) -> None:
    """`Answer: ...` under a numbered question: a verdict word reads as usual, facts are an answer."""
    cues = [stance for clause in _clauses(sentence) for stance, _ in _clause_cues(clause)]
    verdict_first = bool(cues) and (cues[0] in (Stance.CONFIRM, Stance.STRIKE) or _BARE_NO.match(_clauses(sentence)[0]) is not None)
    if verdict_first and _first_clause_cued(sentence):
        _read_sentence(sentence, question, "", state)
    else:
        _read_followup(sentence, question, "", state)
        _add(state, question, Stance.ANSWER, sentence, 0.5)


def _first_clause_cued(sentence: str) -> bool:
    clauses = _clauses(sentence)
    return bool(clauses) and bool(_clause_cues(clauses[0]))


def _leading_answer_clauses(sentence: str) -> list[str]:
    """The clauses before an ask: no mention, no request, not themselves a question."""
    leading: list[str] = []
    for clause in _clauses(sentence):
        if "@" in clause or "?" in clause or _DELEGATION_REQUEST.search(clause) or _INTERROGATIVE.match(clause):
            break
        leading.append(clause)
    return leading


def _read_statement(
    sentence: str,
    clauses: list[str],
    question: str | None,
    state: _HeuristicState,
    *,
    amend_on_contrast: bool = True,
    facts: bool = True,
) -> None:
    """`amend_on_contrast` and `facts` are off where the sentence brings someone in ("yes,
    though @x should check"; "@x may know"): its words are about the person, not the answer."""
    found = _cues_in_order(clauses, amend_on_contrast)
    if not found and _CONTRAST_LEAD.match(sentence) and _confirmed(state, question) and len(sentence.split()) >= 4:
        found = [(sentence, Stance.CORRECT, _CONTRAST_STRENGTH)]  # "Yes. However, the agents run it too."
    if len(found) > 1:
        found = [cue for cue in found if not _INTERJECTION.match(cue[0])] or found  # "Hmm, I don't think so"
    stance_set = {stance for _, stance, _ in found}
    if Stance.CONFIRM in stance_set and any(cue[2] == _BARE_NO_STRENGTH and _LONE_NO.match(cue[0]) for cue in found):
        # "No, that's correct": a no to a negative question, or a slip; either way the bot asks
        found = [(sentence, Stance.UNCLEAR, _UNCLEAR_STRENGTH)]
    if any(strength != _ECHO_STRENGTH for _, _, strength in found):
        found = [cue for cue in found if cue[2] != _ECHO_STRENGTH]  # "Same as Q4: yes" says yes itself
    if any(stance is Stance.TENTATIVE for _, stance, _ in found):
        # "Likely, yes, though nobody tested it": under a hedge, the "though" qualifies the hedge.
        found = [cue for cue in found if not (cue[1] is Stance.CORRECT and cue[2] == _CONTRAST_STRENGTH)]
    stances = list(dict.fromkeys(stance for _, stance, _ in found))
    if not stances:
        if facts and len(clauses) == len(_clauses(sentence)):
            _attach_uncued(state, question, sentence)
        return
    if Stance.CONFIRM in stances and _CONDITIONAL.search(sentence):
        # "If that only covers the admin port, then yes": agreement on a condition is not a confirmation.
        found = [
            (clause, Stance.UNCLEAR, _UNCLEAR_STRENGTH) if stance is Stance.CONFIRM else (clause, stance, strength)
            for clause, stance, strength in found
        ]
        stances = list(dict.fromkeys(Stance.UNCLEAR if stance is Stance.CONFIRM else stance for stance in stances))
    if Stance.CONFIRM in stances and Stance.CORRECT in stances:
        state.mixed.add(question)
    whole = len(stances) == 1 and len(clauses) == len(_clauses(sentence))
    for stance in stances:
        clauses_for = [clause for clause, cue_stance, _ in found if cue_stance is stance]
        strength = max(strength for _, cue_stance, strength in found if cue_stance is stance)
        text = sentence if whole else "; ".join(clauses_for)
        if stance is Stance.CORRECT and not whole and (start := sentence.find(clauses_for[0])) >= 0:
            text = sentence[start:]  # a correction keeps what follows it: "except X: it is Y"
        _add(state, question, stance, text, strength)


def _cues_in_order(clauses: list[str], amend_on_contrast: bool = True) -> list[tuple[str, Stance, float]]:
    """Each clause's cues; a clause that turns ("but", "however") after a confirmation and
    adds content of its own amends it: "Yes, however the admin port is also exposed"."""
    found: list[tuple[str, Stance, float]] = []
    confirmed_before = False
    for clause in _merge_lone_contrasts(clauses):
        cues = _clause_cues(clause)
        cued = any(strength != _ECHO_STRENGTH for _, strength in cues)
        if amend_on_contrast and not cued and confirmed_before and _CONTRAST_LEAD.match(clause) and len(clause.split()) >= 4:
            cues = [(Stance.CORRECT, _CONTRAST_STRENGTH)]
        confirmed_before = confirmed_before or any(stance is Stance.CONFIRM for stance, _ in cues)
        found += [(clause, stance, strength) for stance, strength in cues]
    return found


def _merge_lone_contrasts(clauses: list[str]) -> list[str]:
    """`However`, `the port is open` -> `However the port is open` (the comma split them)."""
    merged: list[str] = []
    for clause in clauses:
        if merged and _LONE_CONTRAST.match(merged[-1]):
            merged[-1] = f"{merged[-1]} {clause}"
        else:
            merged.append(clause)
    return merged


def _confirmed(state: _HeuristicState, question: str | None) -> bool:
    return any(answer.question == question and answer.stance is Stance.CONFIRM for answer in state.answers)


def _clause_cues(clause: str) -> list[tuple[Stance, float]]:
    """The stances one clause carries, strongest reading first; each pass masks its words."""
    text, _ = _mask(clause, _NEUTRAL)
    cues: list[tuple[Stance, float]] = []
    text, doubt = _mask(text, _DOUBT)
    text, echo = _mask(text, _ECHO)
    if doubt:
        cues.append((Stance.UNCLEAR, _UNCLEAR_STRENGTH))
    elif echo:
        cues.append((Stance.UNCLEAR, _ECHO_STRENGTH))
    text, agreeing = _mask(text, _DOUBLE_NEGATIVE)
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
        cues.append((Stance.CORRECT, _BARE_NO_STRENGTH))
        text = ""
    text, strong = _mask(text, _CONFIRM_STRONG, skip_requests=True)
    text, weak = _mask(text, _CONFIRM_WEAK, skip_requests=True)
    hedged = any(stance in (Stance.TENTATIVE, Stance.UNCLEAR) for stance, _ in cues)  # "need to check it is correct"
    if (strong or weak or agreeing) and not hedged:
        if _OPINION.search(clause) and not cues:
            cues.append((Stance.TENTATIVE, 0.6))  # "I believe that's right": a belief, not a confirmation
        else:
            cues.append((Stance.CONFIRM, 0.8 if strong else 0.6))
    return cues


def _mask(text: str, pattern: re.Pattern[str], *, skip_requests: bool = False) -> tuple[str, bool]:
    """Blank out the matches of `pattern`; report whether any counted."""
    matched = False
    pieces: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        if skip_requests and _REQUEST_BEFORE.search(text[max(0, match.start() - _REQUEST_WINDOW) : match.start()]):
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
    if (_COURTESY.match(sentence) and len(sentence.split()) <= 8) or len(_NEUTRAL.sub(" ", sentence).split()) < 4:
        return  # "Thanks, much appreciated!", "No rush": chit-chat says nothing about the question
    if state.asking:
        return  # "@x could you answer? You know this code": the words go with the request
    for answer in reversed(state.answers):
        if answer.question == question and answer.stance in (Stance.CONFIRM, Stance.CORRECT, Stance.STRIKE):
            answer.texts.append(sentence)
            return
    state.pending.setdefault(question, []).append(sentence)


def _add(state: _HeuristicState, question: str | None, stance: Stance, text: str, strength: float) -> None:
    for answer in state.answers:
        if answer.question == question and answer.stance is stance:
            if text not in answer.texts:
                answer.texts.append(text)
            answer.strength = max(answer.strength, strength)
            return
    texts = [text]
    if stance in (Stance.CONFIRM, Stance.CORRECT, Stance.STRIKE):
        texts = state.pending.pop(question, []) + texts
    state.answers.append(_Answer(question, stance, texts, strength))


_VERDICTS = frozenset({Stance.CONFIRM, Stance.CORRECT, Stance.STRIKE, Stance.UNCLEAR, Stance.ANSWER})


def _informational_answers(state: _HeuristicState) -> None:
    """Facts given about a question without any verdict ("Default is true; false only on old
    upgrades") answer it: recorded for a person to fold in, never called a correction."""
    for question, sentences in list(state.pending.items()):
        if question is None or any(answer.question == question and answer.stance in _VERDICTS for answer in state.answers):
            continue
        substantive = [sentence for sentence in sentences if len(sentence.split()) >= 3]
        if substantive:
            state.answers.append(_Answer(question, Stance.ANSWER, substantive, 0.5))


def _settle(state: _HeuristicState) -> None:
    """One reading per question that a careful person would give.

    A confirmation next to a correction, a strike or a doubt on the same question is not a
    confirmation ("Looks good, except that X is not how it works" corrects). A thumbs-down with
    no words is a correction that needs them."""
    overriding = {Stance.CORRECT, Stance.STRIKE, Stance.UNCLEAR, Stance.TENTATIVE}  # a hedged yes is no yes
    for question in {answer.question for answer in state.answers}:
        stances = {answer.stance for answer in state.answers if answer.question == question}
        if Stance.CONFIRM in stances and stances & overriding:
            state.answers = [
                answer for answer in state.answers if not (answer.question == question and answer.stance is Stance.CONFIRM)
            ]
    for answer in state.answers:
        if answer.stance is Stance.CORRECT and not any(character.isalnum() for text in answer.texts for character in text):
            state.problems.append(
                f"{answer.question or 'this reply'}: a thumbs-down says the claim is wrong but not what is right;"
                " reply `/correct <text>` with the right answer"
            )


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
    text = _hide_code_spans(text, hide)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    text = re.sub(r"^\s{0,3}(?:[-*+]\s+|\d{1,3}[.)]\s+|#{1,6}\s+)", "", text)
    return _WHITESPACE.sub(" ", text).strip()  # single spaces keep every later regex linear


def _hide_code_spans(text: str, hide: Callable[[re.Match[str]], str]) -> str:
    """Replace each CommonMark code span (a run of N backticks up to the next run of exactly N)
    by `hide`. One left-to-right pass over the backtick runs, with the position of the last run
    of each length, so `````` ` `` ``` ... `````` shapes stay linear."""
    runs = [(match.start(), match.end()) for match in _BACKTICK_RUN.finditer(text)]
    if not runs:
        return text
    following: dict[int, list[int]] = {}  # run length -> indexes of runs of that length, in order
    for index, (start, end) in enumerate(runs):
        following.setdefault(end - start, []).append(index)
    cursor: dict[int, int] = {}  # run length -> next candidate in following[length]
    pieces: list[str] = []
    position = 0
    index = 0
    while index < len(runs):
        start, end = runs[index]
        if start < position:
            index += 1
            continue
        length = end - start
        candidates = following[length]
        pointer = cursor.get(length, 0)
        while pointer < len(candidates) and candidates[pointer] <= index:
            pointer += 1
        cursor[length] = pointer
        if pointer == len(candidates):
            index += 1
            continue  # no closing run of this length: the backticks are literal
        closing = candidates[pointer]
        _close_start, close_end = runs[closing]
        match = _CODE_SPAN_AT.match(text, start, close_end)
        pieces.append(text[position:start])
        pieces.append(hide(match) if match is not None else text[start:close_end])
        position = close_end
        index = closing + 1
    pieces.append(text[position:])
    return "".join(pieces)


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
