"""Folding a PR's review conversation into question records (pure).

The webhook handlers apply one comment at a time; `sync` replays a PR's whole history.
Both go through `apply_comment`, so a full replay gives the same records as the webhooks
would have, whatever order they arrived in.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field

from bot.core.answers import (
    accept_proposals,
    add_followup,
    apply_reading,
    forget_github_input,
    instant,
    reject_proposals,
    retract_comment,
)
from bot.core.command_registry import CONTROL, PER_QUESTION
from bot.core.dialect import ids_in
from bot.core.reader import read_reply
from bot.core.reader_output import Command, CommandName, Reading
from bot.core.records import RecordsById


@dataclass(frozen=True)
class Comment:
    """A comment on the PR, normalised from a webhook payload or a REST listing."""

    id: int
    kind: str  # "review_comment" | "issue_comment" | "review"
    body: str
    author: str
    association: str  # GitHub author_association
    author_is_bot: bool
    created_at: str  # ISO 8601
    updated_at: str
    url: str
    path: str | None = None  # review comments only
    line: int | None = None  # line in the head version of the file (None when outdated)
    original_line: int | None = None
    in_reply_to_id: int | None = None  # the thread's first comment, for replies
    node_id: str | None = None


# --------------------------------------------------------------------------- mapping


def question_for_comment(
    comment: Comment,
    *,
    document_path: str | None,
    spans: Mapping[str, Sequence[int]],
    threads: Mapping[str, str],
    known: Collection[str],
) -> str | None:
    """The question a comment's thread is anchored to, or None for a PR-level comment.

    In order: a thread already mapped (its first comment was seen), the question whose
    lines the first comment sits on, the single question the first comment names.
    """
    if comment.kind != "review_comment":
        return None
    root = str(comment.in_reply_to_id or comment.id)
    if root in threads:
        return threads[root]
    if comment.in_reply_to_id is not None:
        return None  # a reply whose first comment we have not seen: the caller looks it up
    if document_path is not None and comment.path == document_path:
        line = comment.line or comment.original_line
        for question_id, (first, last) in spans.items():
            if line is not None and first <= line <= last:
                return question_id
    named = [match for match in _named_questions(comment.body) if match in known]
    return named[0] if len(set(named)) == 1 else None


def _named_questions(body: str) -> list[str]:
    # The documents' id grammar (linear, bounded digit runs), so every id form maps a comment.
    return list(ids_in(body or ""))


# --------------------------------------------------------------------------- folding


@dataclass
class CommentOutcome:
    """What one comment did to the records, and what the caller should do on GitHub."""

    comment_id: int
    question: str | None
    reading: Reading | None = None
    changes: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)  # question ids whose record changed
    fold_requested: bool = False  # a maintainer's /accept: fold every accepted promotion
    followups_to_open: list[tuple[str, str]] = field(default_factory=list)  # (question, title)
    wants_help: bool = False
    notes: list[str] = field(default_factory=list)  # to tell the author (unknown ids, no effect)
    ignored: str | None = None  # why nothing was read
    unreadable: str | None = None  # the reader failed on it: recorded, skipped, never retried forever


def apply_comment(
    records: RecordsById,
    comment: Comment,
    *,
    is_maintainer: bool,
    question: str | None,
    newest: bool = False,
) -> CommentOutcome:
    """Fold one comment (as of its updated_at) into the records; pure and idempotent.

    `newest`: the caller checked with GitHub that this is the comment's current text, so it
    wins over a version recorded with the same updated_at (GitHub's times are whole seconds)."""
    outcome = CommentOutcome(comment_id=comment.id, question=question)
    if comment.author_is_bot:
        outcome.ignored = "written by a bot"
        return outcome
    reading = read_reply(
        comment.body,
        author=comment.author,
        association=comment.association,
        is_maintainer=is_maintainer,
        anchored_question=question,
        known_questions=list(records),
    )
    outcome.reading = reading
    outcome.notes.extend(reading.problems)
    if reading.unknown_questions:
        outcome.notes.append("not a tracked question: " + ", ".join(reading.unknown_questions))
    touched_now = _questions_touched(reading, records)
    for question_id in touched_now:
        changes = apply_reading(
            records[question_id],
            reading,
            author=comment.author,
            association=comment.association,
            is_maintainer=is_maintainer,
            comment_id=comment.id,
            url=comment.url,
            at=comment.updated_at,
            newest=newest,
        )
        _note_changes(outcome, question_id, changes)
    for question_id, changes in _withdraw_superseded(records, comment, touched_now).items():
        _note_changes(outcome, question_id, changes)
    _apply_commands(records, reading, comment, is_maintainer, outcome)
    return outcome


def apply_comment_safely(
    records: RecordsById,
    comment: Comment,
    *,
    is_maintainer: bool,
    question: str | None,
    newest: bool = False,
) -> CommentOutcome:
    """`apply_comment`, where a comment the reader cannot read is an outcome, not an exception.

    Anyone can post a comment, so one the reader fails on (any failure, not only today's known
    ones) must not fail its PR for good. The reader runs before anything is written, so the
    records are as they were.
    """
    try:
        return apply_comment(records, comment, is_maintainer=is_maintainer, question=question, newest=newest)
    except Exception as error:  # noqa: BLE001 - whatever the reader raises, the PR goes on
        reason = f"{type(error).__name__}: {error}"
        return CommentOutcome(comment_id=comment.id, question=question, ignored="unreadable", unreadable=reason[:200])


def _withdraw_superseded(records: RecordsById, comment: Comment, still_said: Sequence[str]) -> dict[str, list[str]]:
    """An edit replaces the whole comment: what an older version said about a question the
    new text no longer answers is withdrawn (a stale, older version arriving late is not)."""
    withdrawn: dict[str, list[str]] = {}
    for question_id, mapping in records.items():
        if question_id in still_said:
            continue
        previous = next((a for a in mapping.get("answers") or () if a.get("comment_id") == comment.id), None)
        if previous is None:
            continue
        previous_at, now_at = instant(previous.get("at")), instant(comment.updated_at)
        if previous_at is not None and now_at is not None and previous_at > now_at:
            continue  # compared as instants, not strings: "Z" and "+00:00" spell the same time
        tombstones = list(mapping.get("retracted") or ())
        changes = retract_comment(mapping, comment.id, comment.updated_at)
        # An edit is not a deletion: a later edit may answer this question again.
        if tombstones:
            mapping["retracted"] = tombstones
        else:
            mapping.pop("retracted", None)
        if changes:
            withdrawn[question_id] = [change.replace("(comment deleted)", "(comment edited)") for change in changes]
    return withdrawn


def retract(records: RecordsById, comment_id: int, at: str | None) -> list[str]:
    """A deleted comment withdraws whatever it said, on every question."""
    changes: list[str] = []
    for mapping in records.values():
        changes.extend(retract_comment(mapping, comment_id, at))
    return changes


def replay(
    records: RecordsById,
    comments: Sequence[Comment],
    *,
    is_maintainer: Callable[[Comment], bool],
    document_path: str | None,
    spans: Mapping[str, Sequence[int]],
    threads: MutableMapping[str, str],
) -> list[CommentOutcome]:
    """Fold a PR's whole history, oldest first: what every webhook would have done."""
    known = list(records)
    outcomes = []
    for comment in sorted(comments, key=lambda item: (item.created_at, item.id)):
        question = question_for_comment(comment, document_path=document_path, spans=spans, threads=threads, known=known)
        if comment.kind == "review_comment" and question is not None:
            threads.setdefault(str(comment.in_reply_to_id or comment.id), question)
        outcomes.append(apply_comment_safely(records, comment, is_maintainer=is_maintainer(comment), question=question))
    return outcomes


def rebuild(
    records: RecordsById,
    comments: Sequence[Comment],
    *,
    is_maintainer: Callable[[Comment], bool],
    document_path: str | None,
    spans: Mapping[str, Sequence[int]],
    threads: MutableMapping[str, str],
) -> list[CommentOutcome]:
    """The records as if every webhook of the PR's history had arrived, whatever did before."""
    for mapping in records.values():
        forget_github_input(mapping)
    return replay(records, comments, is_maintainer=is_maintainer, document_path=document_path, spans=spans, threads=threads)


def _questions_touched(reading: Reading, records: Mapping[str, object]) -> list[str]:
    wanted = [answer.question or reading.question for answer in reading.answers]
    wanted += [command.question or reading.question for command in reading.commands if command.name in _PER_QUESTION]
    wanted += [cue.question or reading.question for cue in reading.followups]
    if reading.awaiting:
        wanted.append(reading.question)
    return [question_id for question_id in dict.fromkeys(wanted) if question_id is not None and question_id in records]


def _apply_commands(
    records: RecordsById,
    reading: Reading,
    comment: Comment,
    is_maintainer: bool,
    outcome: CommentOutcome,
) -> None:
    control = [command for command in reading.commands if command.name in _CONTROL]
    if not control:
        return
    if any(command.name is CommandName.HELP for command in control):
        outcome.wants_help = True
    decisions = [command for command in control if command.name is not CommandName.HELP]
    if decisions and not is_maintainer:
        outcome.notes.append(
            f"{comment.author} is not a maintainer here, so "
            + ", ".join(f"/{command.name.value}" for command in decisions)
            + " had no effect (recorded as input)"
        )
        return
    for command in decisions:
        targets = _command_targets(records, command, reading.question)
        if command.name is CommandName.FOLLOWUP:
            if not targets:
                outcome.notes.append(f"/followup on line {command.line}: which question? write /followup Qn <title>")
            for question_id in targets[:1]:
                if add_followup(records[question_id], command.text, "issue", comment_id=comment.id):
                    _note_changes(outcome, question_id, [f"{question_id}: follow-up requested: {command.text}"])
                outcome.followups_to_open.append((question_id, command.text))
            continue
        for question_id in targets:
            mapping = records[question_id]
            if command.name is CommandName.ACCEPT:
                changes = accept_proposals(mapping, comment.author, comment.updated_at)
                outcome.followups_to_open.extend(
                    (question_id, str(item["title"])) for item in mapping.get("followups") or () if item.get("state") == "proposed"
                )
            else:
                changes = reject_proposals(mapping, comment.author, comment.updated_at)
            _note_changes(outcome, question_id, changes)
        if command.name is CommandName.ACCEPT:
            outcome.fold_requested = True


def _command_targets(records: Mapping[str, Mapping], command: Command, question: str | None) -> list[str]:
    """Named question, else the thread's; a PR-level /accept or /reject covers every pending one."""
    named = command.question or question
    if named is not None:
        return [named] if named in records else []
    if command.name is CommandName.FOLLOWUP:
        return []
    return [question_id for question_id, mapping in records.items() if _has_pending(mapping)]


def _has_pending(mapping: Mapping) -> bool:
    items = list(mapping.get("proposals") or ()) + list(mapping.get("followups") or ())
    return any(item.get("state") == "proposed" for item in items)


def _note_changes(outcome: CommentOutcome, question_id: str, changes: list[str]) -> None:
    if changes:
        outcome.changes.extend(changes)
        if question_id not in outcome.touched:
            outcome.touched.append(question_id)


_CONTROL = CONTROL  # from the command registry: steer the bot
_PER_QUESTION = PER_QUESTION  # from the command registry: act on one question
