"""The workflow rules: what a reply, an acceptance or a fold does to one question record.

Pure. Every function edits the record's mapping in place (so the store's round-trip YAML keeps
a person's comments and key order) and returns human-readable changes, or a bool for the
small ones. Status and `awaiting` are never set by hand here: they are *derived* from the
answers and accepted proposals after every change, so deleting a comment, replaying a PR out
of order or applying the same webhook twice all converge on the same record.

The rules, in short:
- one answer per (comment id, question): a repeat changes nothing, an edit replaces it, the
  newest version of a comment (by its own `at`) wins whatever order the events arrive in;
- only a maintainer's *binding* answer (a command or bulk line) or an accepted proposal
  decides: confirm -> confirmed, correct -> corrected, strike -> struck; the latest decision
  wins; while anybody is still awaited the status stays `answered`;
- anyone else's reply, and any heuristic reading, is recorded with binding false and never
  moves the status; a maintainer's heuristic decision becomes a proposal instead;
- a maintainer's delegation or /ask adds logins to `awaiting`; an awaited person's answer, or a
  maintainer's later decision, removes them. Anyone else's /ask is recorded as input only
  (`asks_binding: false`): any GitHub user can comment, and must not block a question.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.core.command_registry import DECIDING_COMMANDS
from bot.core.limits import LOGINS_PER_COMMENT
from bot.core.reader_output import CommandName, Reading, Stance
from bot.core.records import FollowUpState, ProposalState, Status, canonical_question_id, plain_value

# An `answer` (facts given to an open question) is never binding itself: a maintainer's
# accepted proposal folds it in as an amendment, like a correction.
DECIDING = {Stance.CONFIRM: Status.CONFIRMED, Stance.CORRECT: Status.CORRECTED, Stance.STRIKE: Status.STRUCK, Stance.ANSWER: Status.CORRECTED}
# Stances that count as the awaited person having answered (a question back, a doubt do not).
ANSWERING = frozenset({Stance.CONFIRM, Stance.CORRECT, Stance.STRIKE, Stance.DELEGATE, Stance.ANSWER})
# Set by the fold / retirement, not by answers: derivation leaves them alone.
TERMINAL = frozenset({Status.FOLDED, Status.RETIRED})
PROPOSAL_KIND = {Stance.CONFIRM: "promote", Stance.CORRECT: "correct", Stance.STRIKE: "resolve", Stance.ANSWER: "correct"}
# On equal timestamps the harsher decision wins, so the outcome never depends on arrival order.
_SEVERITY = {Stance.CONFIRM: 0, Stance.ANSWER: 1, Stance.CORRECT: 1, Stance.STRIKE: 2}
_ANSWER_COMMANDS = DECIDING_COMMANDS
EXCERPT_LIMIT = 400
_EARLIEST = datetime.min.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------
# Replies
# ---------------------------------------------------------------------------------------


def apply_reading(
    mapping: MutableMapping,
    reading: Reading,
    *,
    author: str,
    association: str,
    is_maintainer: bool,
    comment_id: int,
    url: str | None,
    at: str,
    newest: bool = False,
) -> list[str]:
    """Record what one comment (as of its `at`, its own updated time) says about this question.

    `newest`: known to be the comment's current text, so it wins a tie on `at`."""
    question_id = str(mapping["id"])
    if comment_id in _plain_list(mapping.get("retracted")):
        return []  # a late replay of a deleted comment must not bring it back
    entry = _answer_entry(question_id, reading, author, association, is_maintainer, comment_id, url, at)
    if entry is None:
        return []
    answers = _list(mapping, "answers")
    index = _find(answers, "comment_id", comment_id)
    if index is not None and not _supersedes(entry, answers[index], newest=newest):
        return []  # an older version of the comment, or the same one again
    manual = _manual_awaiting(mapping)
    changes = [_describe_answer(question_id, entry, replaced=index is not None)]
    if index is None:
        answers.append(entry)
    else:
        answers[index] = entry
    _sync_proposal(mapping, question_id, entry, heuristic=reading.heuristic, is_maintainer=is_maintainer, changes=changes)
    if is_maintainer:
        for title in _followup_titles(question_id, reading):
            if add_followup(mapping, title, "issue", comment_id=comment_id):
                changes.append(f"{question_id}: follow-up proposed: {title}")
    _refresh(mapping, manual, changes, at, answered_by=author if _stance(entry["stance"]) in ANSWERING else None)
    return changes


def record_offline_answer(
    mapping: MutableMapping,
    *,
    author: str,
    stance: Stance,
    excerpt: str,
    source: str = "document",
    association: str = "MEMBER",
    binding: bool = True,
    at: str | None = None,
    url: str | None = None,
    asks: Sequence[str] = (),
) -> list[str]:
    """An answer given off GitHub (folded into the document, or on the mailing list).

    It has no comment id, so no deletion can retract it; repeating it changes nothing.
    """
    entry: dict[str, Any] = {
        "author": author,
        "association": association,
        "stance": Stance(stance).value,
        "excerpt": _shorten(excerpt),
        "url": url,
        "at": at,
        "binding": binding,
        "comment_id": None,
        "source": source,
    }
    if asks:
        entry["asks"] = [login for login in asks if login.lower() != author.lower()]
    answers = _list(mapping, "answers")
    if any(plain_value(answer) == entry for answer in answers):
        return []
    manual = _manual_awaiting(mapping)
    answers.append(entry)
    changes = [_describe_answer(str(mapping["id"]), entry, replaced=False)]
    _refresh(mapping, manual, changes, at, answered_by=author if Stance(stance) in ANSWERING else None)
    return changes


def retract_comment(mapping: MutableMapping, comment_id: int, at: str | None = None) -> list[str]:
    """A deleted comment: drop its answer and its still-open proposals/follow-ups, re-derive.

    Proposals a maintainer already accepted or rejected stay: that decision was theirs.
    """
    question_id = str(mapping["id"])
    manual = _manual_awaiting(mapping)
    changes: list[str] = []
    answers = _list(mapping, "answers")
    index = _find(answers, "comment_id", comment_id)
    if index is not None:
        del answers[index]
        changes.append(f"{question_id}: answer from comment {comment_id} withdrawn (comment deleted)")
    for key, label in (("proposals", "proposal"), ("followups", "follow-up")):
        items = _list(mapping, key)
        for position in reversed(range(len(items))):
            item = items[position]
            if item.get("comment_id") == comment_id and item.get("state") == "proposed":
                del items[position]
                changes.append(f"{question_id}: {label} from comment {comment_id} withdrawn")
    if not changes:
        return []
    tombstones = _plain_list(mapping.get("retracted"))
    if comment_id not in tombstones:
        mapping["retracted"] = sorted([*tombstones, comment_id])
    _refresh(mapping, manual, changes, at)
    return changes


def forget_github_input(mapping: MutableMapping) -> None:
    """Drop everything that came from PR comments, ahead of replaying the PR's history.

    Kept: answers given off GitHub (document, mailing list), follow-ups that already have an
    issue, logins added to `awaiting` by hand, and the fold (folded/retired). The replay
    brings back the rest exactly as the comments now read; deleted comments stay gone.
    """
    manual = _manual_awaiting(mapping)
    for key in ("answers", "proposals"):
        items = _list(mapping, key)
        items[:] = [item for item in items if item.get("comment_id") is None]
    followups = _list(mapping, "followups")
    followups[:] = [item for item in followups if item.get("number") is not None or item.get("comment_id") is None]
    mapping.pop("retracted", None)
    changes: list[str] = []
    _refresh(mapping, manual, changes, None)


# ---------------------------------------------------------------------------------------
# Derivation: status and awaiting from answers + accepted proposals
# ---------------------------------------------------------------------------------------


def derive_awaiting(mapping: Mapping) -> list[str]:
    """Logins a maintainer asked (by delegation or /ask) who have not answered since they were
    asked, and whom no maintainer's decision has settled since."""
    asked: dict[str, tuple[datetime, str]] = {}  # lower-case login -> (latest ask, spelling)
    for answer in _items(mapping, "answers"):
        if answer.get("asks_binding") is False:
            continue  # a non-maintainer's ask: input, never who is awaited
        moment = _moment(answer.get("at"))
        if _settled_after(mapping, moment, answer.get("comment_id")):
            continue
        for login in answer.get("asks") or ():
            key = str(login).lower()
            if key not in asked or moment >= asked[key][0]:
                asked[key] = (moment, str(login))
    answered: dict[str, datetime] = {}
    for answer in _items(mapping, "answers"):
        if _stance(answer.get("stance")) in ANSWERING:
            key = str(answer.get("author", "")).lower()
            moment = _moment(answer.get("at"))
            answered[key] = max(answered.get(key, _EARLIEST), moment)
    still = [(moment, login) for key, (moment, login) in asked.items() if not (key in answered and answered[key] >= moment)]
    return [login for _, login in sorted(still, key=lambda pair: (pair[0], pair[1].lower()))]


def _settled_after(mapping: Mapping, asked_at: datetime, asked_in: object) -> bool:
    """A maintainer's binding decision (answer or accepted proposal) after the ask answers it.

    GitHub's times are whole seconds: within one, the later comment (the higher id) is later.
    A comment that decides and asks at once ("/confirm" then "/ask @bob") keeps its ask."""
    for answer in _items(mapping, "answers"):
        if answer.get("binding") is True and _stance(answer.get("stance")) in DECIDING:
            moment, decided_in = _moment(answer.get("at")), answer.get("comment_id")
            if moment > asked_at or (moment == asked_at and isinstance(decided_in, int) and isinstance(asked_in, int) and decided_in > asked_in):
                return True
    for proposal in _items(mapping, "proposals"):
        decided = proposal.get("state") in (ProposalState.ACCEPTED.value, ProposalState.APPLIED.value)
        if decided and _stance(proposal.get("stance")) in DECIDING and _moment(proposal.get("decided_at") or proposal.get("at")) > asked_at:
            return True
    return False


def derive_status(mapping: Mapping) -> Status:
    """The status the answers, accepted proposals and `awaiting` add up to.

    folded/retired are kept: those are set by the fold and by retirement, not by answers.
    """
    current = mapping.get("status")
    if current in {status.value for status in TERMINAL}:
        return Status(current)
    decisions: list[tuple[datetime, int, Stance]] = []
    for answer in _items(mapping, "answers"):
        stance = _stance(answer.get("stance"))
        if answer.get("binding") is True and stance in DECIDING:
            decisions.append((_moment(answer.get("at")), _SEVERITY[stance], stance))
    for proposal in _items(mapping, "proposals"):
        stance = _stance(proposal.get("stance"))
        if proposal.get("state") in (ProposalState.ACCEPTED.value, ProposalState.APPLIED.value) and stance in DECIDING:
            moment = _moment(proposal.get("decided_at") or proposal.get("at"))
            decisions.append((moment, _SEVERITY[stance], stance))
    if not decisions:
        # An answer written in the document answers the question, even before anyone confirms it.
        documented = any(answer.get("source") == "document" for answer in _items(mapping, "answers"))
        return Status.ANSWERED if documented else Status.OPEN
    if mapping.get("awaiting"):
        return Status.ANSWERED
    return DECIDING[max(decisions, key=lambda decision: (decision[0], decision[1]))[2]]


# ---------------------------------------------------------------------------------------
# Proposals, follow-ups, folding
# ---------------------------------------------------------------------------------------


def accept_proposals(mapping: MutableMapping, by: str, at: str, ids: Collection[str] | None = None) -> list[str]:
    """A maintainer accepts the pending proposals (all, or those named): they become binding."""
    return _decide(mapping, ProposalState.ACCEPTED, by, at, ids)


def reject_proposals(mapping: MutableMapping, by: str, at: str, ids: Collection[str] | None = None) -> list[str]:
    """A maintainer rejects the pending proposals (all, or those named)."""
    return _decide(mapping, ProposalState.REJECTED, by, at, ids)


def add_followup(mapping: MutableMapping, title: str, kind: str, *, comment_id: int | None = None) -> bool:
    """Propose a follow-up; False when one with the same normalised title exists."""
    wanted = normalise_title(title)
    followups = _list(mapping, "followups")
    if not wanted or find_followup(mapping, title) is not None:
        return False
    entry: dict[str, Any] = {"title": " ".join(title.split()), "kind": kind, "url": None, "number": None, "state": FollowUpState.PROPOSED.value}
    if comment_id is not None:
        entry["comment_id"] = comment_id
    followups.append(entry)
    return True


def set_followup_issue(mapping: MutableMapping, title: str, number: int, url: str, state: str = "open") -> bool:
    """Record the issue opened (or closed) for a follow-up; adds the follow-up if it is new."""
    FollowUpState(state)  # reject unknown states before touching the record
    followups = _list(mapping, "followups")
    target = find_followup(mapping, title)
    if target is None:
        add_followup(mapping, title, "issue")
        target = followups[-1]
    changed = False
    for key, value in (("number", number), ("url", url), ("state", state)):
        if target.get(key) != value:
            target[key] = value
            changed = True
    return changed


def mark_folded(mapping: MutableMapping, at: str) -> bool:
    """The answer is committed into the document: status folded, accepted proposals applied."""
    changed = False
    for proposal in _items(mapping, "proposals"):
        if proposal.get("state") == ProposalState.ACCEPTED.value:
            proposal["state"] = ProposalState.APPLIED.value
            changed = True
    if mapping.get("status") != Status.FOLDED.value:
        mapping["status"] = Status.FOLDED.value
        changed = True
    if changed:
        mapping["updated_at"] = at
    return changed


def find_followup(mapping: Mapping, title: str) -> MutableMapping | None:
    """The follow-up with this title (compared as normalise_title does), if recorded."""
    wanted = normalise_title(title)
    return next((item for item in _items(mapping, "followups") if normalise_title(str(item.get("title", ""))) == wanted), None)


def normalise_title(title: str) -> str:
    """Follow-up titles compare case-, space- and trailing-punctuation-insensitively."""
    return " ".join(title.casefold().split()).rstrip(" .!?;:")


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _answer_entry(
    question_id: str,
    reading: Reading,
    author: str,
    association: str,
    is_maintainer: bool,
    comment_id: int,
    url: str | None,
    at: str,
) -> dict[str, Any] | None:
    """The one answer this comment gives to this question, or None if it says nothing about it."""
    stances: list[Stance] = []
    texts: list[str] = []
    source = "github"
    for answer in reading.answers:
        if _about(answer.question or reading.question, question_id):
            stances.append(answer.stance)
            texts.append(answer.text)
    asks = [login for login in reading.awaiting] if _about(reading.question, question_id) or (Stance.DELEGATE in stances) else []
    for command in reading.commands:
        if not _about(command.question or reading.question, question_id):
            continue
        if command.name in _ANSWER_COMMANDS:
            stances.append(_ANSWER_COMMANDS[command.name])
            texts.append(command.text)
        elif command.name is CommandName.ANSWER:
            stances.append(command.stance or Stance.CONFIRM)
            texts.append(command.text)
            source = "mailing-list"
        elif command.name is CommandName.ASK and command.login:
            asks.append(command.login)
    # One comment asks at most LOGINS_PER_COMMENT people: each may cost the bot a lookup.
    asks = _unique([login for login in asks if login.lower() != author.lower()])[:LOGINS_PER_COMMENT]
    if not stances and not asks:
        return None
    deciding = [stance for stance in stances if stance in DECIDING]
    stance = deciding[-1] if deciding else (stances[0] if stances else Stance.DELEGATE)
    entry: dict[str, Any] = {
        "author": author,
        "association": association,
        "stance": stance.value,
        "excerpt": _shorten(" … ".join(_unique([text.strip() for text in texts if text and text.strip()]))),
        "url": url,
        "at": at,
        "binding": bool(reading.binding and is_maintainer and not reading.heuristic and stance is not Stance.UNCLEAR),
        "comment_id": comment_id,
        "source": source,
    }
    if asks:
        entry["asks"] = asks
        if not is_maintainer:
            entry["asks_binding"] = False  # recorded as input: only maintainers change who is awaited
    return entry


def _sync_proposal(mapping: MutableMapping, question_id: str, entry: Mapping, *, heuristic: bool, is_maintainer: bool, changes: list[str]) -> None:
    """A maintainer's heuristic decision becomes (or updates) a proposal; others never do."""
    comment_id = entry["comment_id"]
    proposals = _list(mapping, "proposals")
    index = _find(proposals, "comment_id", comment_id)
    if index is not None and proposals[index].get("state") != ProposalState.PROPOSED.value:
        return  # already decided by a maintainer: an edit of the reply does not reopen it
    stance = _stance(entry["stance"])
    if not (heuristic and is_maintainer and stance is not None and stance in DECIDING):
        if index is not None:
            del proposals[index]
            changes.append(f"{question_id}: proposal from comment {comment_id} withdrawn (reply edited)")
        return
    kind = PROPOSAL_KIND[stance]
    proposal = {
        "id": f"{question_id}-{kind}-c{comment_id}",
        "kind": kind,
        "state": ProposalState.PROPOSED.value,
        "summary": _proposal_summary(question_id, stance, str(entry["author"])),
        "comment_id": comment_id,
        "stance": stance.value,
        "author": entry["author"],
        "at": entry["at"],
    }
    if index is None:
        proposals.append(proposal)
        changes.append(f"{question_id}: proposal {proposal['id']} awaits a maintainer's /accept")
    elif plain_value(proposals[index]) != proposal:
        proposals[index] = proposal
        changes.append(f"{question_id}: proposal {proposal['id']} updated")


def _proposal_summary(question_id: str, stance: Stance, author: str) -> str:
    if stance is Stance.CONFIRM:
        return f"{author}'s reply reads as confirming {question_id}: promote its inferred tags to maintainer"
    if stance is Stance.CORRECT:
        return f"{author}'s reply reads as correcting {question_id}: amend the claim"
    if stance is Stance.ANSWER:
        return f"{author}'s reply answers {question_id} with facts: fold them into the claim"
    return f"{author}'s reply reads as striking {question_id}: retire the claim"


def _followup_titles(question_id: str, reading: Reading) -> list[str]:
    titles = [cue.title for cue in reading.followups if _about(cue.question or reading.question, question_id)]
    titles += [
        command.text
        for command in reading.commands
        if command.name is CommandName.FOLLOWUP and command.text and _about(command.question or reading.question, question_id)
    ]
    return _unique([title for title in titles if title.strip()])


def _decide(mapping: MutableMapping, state: ProposalState, by: str, at: str, ids: Collection[str] | None) -> list[str]:
    question_id = str(mapping["id"])
    manual = _manual_awaiting(mapping)
    changes: list[str] = []
    for proposal in _items(mapping, "proposals"):
        if proposal.get("state") != ProposalState.PROPOSED.value or (ids is not None and proposal.get("id") not in ids):
            continue
        proposal["state"] = state.value
        proposal["decided_by"] = by
        proposal["decided_at"] = at
        changes.append(f"{question_id}: proposal {proposal.get('id')} {state.value} by {by}")
    if changes:
        _refresh(mapping, manual, changes, at)
    return changes


def _refresh(mapping: MutableMapping, manual: list[str], changes: list[str], at: str | None, answered_by: str | None = None) -> None:
    """Re-derive awaiting and status after a change, noting what moved.

    `manual` (logins added by hand) stay awaited until they answer in this change.
    """
    question_id = str(mapping["id"])
    derived = derive_awaiting(mapping)
    kept_manual = [login for login in manual if answered_by is None or login.lower() != answered_by.lower()]
    awaiting = _unique(kept_manual + derived)
    before = [str(login) for login in _plain_list(mapping.get("awaiting"))]
    if before != awaiting:
        mapping["awaiting"] = awaiting
        added = [login for login in awaiting if login.lower() not in {b.lower() for b in before}]
        removed = [login for login in before if login.lower() not in {a.lower() for a in awaiting}]
        if added:
            changes.append(f"{question_id}: now awaiting {', '.join(added)}")
        if removed:
            changes.append(f"{question_id}: no longer awaiting {', '.join(removed)}")
    old_status = mapping.get("status")
    new_status = derive_status(mapping).value
    if old_status != new_status:
        mapping["status"] = new_status
        changes.append(f"{question_id}: status {old_status} → {new_status}")
    if at is not None and _moment(at) >= _moment(mapping.get("updated_at")):
        mapping["updated_at"] = at


def _supersedes(entry: Mapping, previous: Mapping, *, newest: bool = False) -> bool:
    """Newest version of a comment wins by GitHub's updated_at. Equal times: the version known
    to be current wins, else a tie-break on content, never on arrival order."""
    new_moment, old_moment = _moment(entry.get("at")), _moment(previous.get("at"))
    if new_moment != old_moment:
        return new_moment > old_moment
    if newest:
        return plain_value(previous) != plain_value(entry)
    return _canonical(entry) > _canonical(plain_value(previous))


def _canonical(value: Any) -> str:
    return json.dumps(plain_value(value), sort_keys=True, default=str)


def _manual_awaiting(mapping: Mapping) -> list[str]:
    """Logins in `awaiting` that no answer accounts for: added by hand, kept until they answer."""
    derived = {login.lower() for login in derive_awaiting(mapping)}
    return [str(login) for login in _plain_list(mapping.get("awaiting")) if str(login).lower() not in derived]


def _describe_answer(question_id: str, entry: Mapping, *, replaced: bool) -> str:
    weight = "binding" if entry.get("binding") else "not binding"
    verb = "updated (comment edited)" if replaced else "recorded"
    return f"{question_id}: answer from {entry['author']} ({entry['stance']}, {weight}) {verb}"


def _about(question: str | None, question_id: str) -> bool:
    """None means the caller routed the comment here (an anchored thread)."""
    return question is None or canonical_question_id(question) == canonical_question_id(question_id)


def instant(value: Any) -> datetime | None:
    """An ISO 8601 time (or date) as an aware datetime; None when missing or unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _moment(value: Any) -> datetime:
    """A comparable instant; missing or unreadable times count as earliest."""
    return instant(value) or _EARLIEST


def _stance(value: Any) -> Stance | None:
    try:
        return Stance(value)
    except ValueError:
        return None


def _list(mapping: MutableMapping, key: str) -> list:
    """The list at `key`, created (or replacing a null) so it can be edited in place."""
    value = mapping.get(key)
    if not isinstance(value, list):
        mapping[key] = []
        value = mapping[key]
    return value


def _items(mapping: Mapping, key: str) -> list[MutableMapping]:
    """The entries at `key` that are mappings, editable in place (YAML and dict entries both are)."""
    value = mapping.get(key)
    return [item for item in value if isinstance(item, MutableMapping)] if isinstance(value, list) else []


def _find(items: Sequence, key: str, value: Any) -> int | None:
    for index, item in enumerate(items):
        if isinstance(item, Mapping) and item.get(key) == value:
            return index
    return None


def _plain_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def _unique(items: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            result.append(item)
    return result


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_LIMIT else text[: EXCERPT_LIMIT - 1].rsplit(" ", 1)[0] + "…"
