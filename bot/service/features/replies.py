"""A reply on a tracked PR, from webhook to record to the bot's one notice.

A maintainer's reply in a known thread costs two API calls: the repository settings (an
ETag hit when unchanged) and the notice (one reply, then edits). Folding and follow-ups
cost more, but only when a maintainer asks for them.
"""
from __future__ import annotations

import hashlib
from collections.abc import Collection
from functools import partial

from bot.core.conversation import Comment, CommentOutcome, apply_comment_safely, question_for_comment, retract
from bot.core.limits import LOGINS_PER_COMMENT
from bot.core.notice_text import parse_notice_marker
from bot.core.settings import RepoSettings
from bot.github import pulls as github
from bot.github.normalise import comment_from_review_comment
from bot.service.features.folding import fold, resolve_folded_threads
from bot.service.features.followup_issues import open_followups
from bot.service.features.maintainers import UNKNOWN, is_maintainer
from bot.service.features.one_off_remarks import post_once
from bot.service.features.thread_notices import (
    SUMMARY_KEY,
    summary_body,
    thread_notice_body,
    upsert_summary_notice,
    upsert_thread_notice,
)
from bot.service.features.tracked_pulls import TrackedPull, load_pull, track
from bot.service.runtime.comment_versions import Version, note_version, version_of
from bot.service.runtime.handler_context import Context
from bot.service.runtime.pull_locks import pull_lock
from bot.service.runtime.unreadable_comments import forget_readable, known_unreadable, note_unreadable_comment
from bot.store.repo_config import RepoConfigError


async def settings_or_report(ctx: Context, number: int) -> RepoSettings | None:
    """The repository's settings; an invalid file gets one clear comment on the PR and no action."""
    try:
        return await ctx.repo_settings()
    except RepoConfigError as error:
        assert ctx.gh is not None and ctx.repo is not None
        text = error.as_markdown()
        key = f"config-error:{ctx.repo}#{number}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"
        await post_once(ctx, number, key, text)
        ctx.log.warning("PR #%s: invalid repository configuration; no action taken", number)
        return None


async def tracked_pull(ctx: Context, number: int, settings: RepoSettings) -> TrackedPull | None:
    pull = load_pull(ctx, number)
    if pull.tracked:
        return pull
    if pull.state.not_tracked_at is not None:
        return None  # looked at this head already: no threat model; a push re-checks
    assert ctx.gh is not None and ctx.repo is not None
    # The PR's own events were missed (or came later): catch up from the PR itself.
    return await track(ctx, await github.get_pull(ctx.gh, ctx.repo, number), settings)


async def settings_and_pull(ctx: Context, number: int) -> tuple[RepoSettings, TrackedPull] | None:
    """The repository's settings and the tracked PR, or None when either is missing (an invalid
    configuration is reported on the PR once; an untracked PR is left alone)."""
    settings = await settings_or_report(ctx, number)
    if settings is None:
        return None
    pull = await tracked_pull(ctx, number, settings)
    return None if pull is None else (settings, pull)


async def handle_reply(ctx: Context, number: int, comment: Comment, *, deleted: bool = False) -> CommentOutcome | None:
    assert ctx.repo is not None
    async with pull_lock(ctx.repo, number):
        return await _handle_reply(ctx, number, comment, deleted=deleted)


async def _handle_reply(ctx: Context, number: int, comment: Comment, *, deleted: bool) -> CommentOutcome | None:
    if comment.author_is_bot:
        # Our own notice coming back (or another bot): nothing to read, no API call to spend.
        own = load_pull(ctx, number)
        if own.tracked and (_forget_own_notice(own, comment) if deleted else _register_own_notice(own, comment)):
            own.save(ctx, [])
        return None
    found = await settings_and_pull(ctx, number)
    if found is None:
        return None
    settings, pull = found
    if deleted:
        await _withdraw(ctx, pull, comment, settings)
        return None
    if comment.id in pull.state.deleted_comments:
        return None  # a late "created" or "edited" for a comment already deleted
    if known_unreadable(pull.state, comment):
        return None  # a redelivery of a version the reader already failed on
    version = await version_of(ctx, pull.state, comment)
    if version is Version.STALE:
        ctx.log.info("PR #%s comment %s: an older edit from the same second; the newer one stands", number, comment.id)
        return None
    question = await _question_of(ctx, pull, comment)
    maintainer = await is_maintainer(ctx, settings.maintainers, comment.author, comment.association)
    outcome = apply_comment_safely(
        pull.records, comment, is_maintainer=maintainer, question=question, newest=version is Version.CURRENT
    )
    note_version(pull.state, comment)
    if outcome.unreadable is not None:
        note_unreadable_comment(ctx, pull.state, comment, outcome.unreadable)
        pull.save(ctx, [])
        return outcome
    forget_readable(pull.state, comment)
    ctx.log.info("PR #%s comment %s by %s: %s", number, comment.id, comment.author, "; ".join(outcome.changes) or "no change")
    await _act(ctx, pull, comment, outcome, settings, maintainer)
    # Saved after the GitHub effects: a delivery cut before they finish replays as a change and
    # redoes them (the fold and follow-ups save their own records as they land).
    pull.save(ctx, outcome.touched)
    return outcome


async def _question_of(ctx: Context, pull: TrackedPull, comment: Comment) -> str | None:
    question_of = partial(
        question_for_comment,
        document_path=pull.state.document_path, spans=pull.state.spans, threads=pull.state.threads, known=list(pull.records),
    )
    question = question_of(comment)
    if comment.kind != "review_comment":
        return question
    root = comment.in_reply_to_id or comment.id
    if question is None and comment.in_reply_to_id is not None:
        assert ctx.gh is not None and ctx.repo is not None
        first = await github.get_review_comment(ctx.gh, ctx.repo, comment.in_reply_to_id)
        if first is not None:
            question = question_of(comment_from_review_comment(first))
    if question is not None:
        pull.state.threads.setdefault(str(root), question)
    return question


async def _act(ctx: Context, pull: TrackedPull, comment: Comment, outcome: CommentOutcome, settings: RepoSettings, maintainer: bool) -> None:
    """Fold, open follow-ups, then say what happened in the one notice."""
    assert ctx.gh is not None and ctx.repo is not None
    notes = list(outcome.notes)
    folded: tuple[str, ...] = ()
    if outcome.fold_requested and maintainer:
        pr = await github.get_pull(ctx.gh, ctx.repo, pull.state.number)
        result = await fold(ctx, pull, pr, settings)
        folded = result.folded
        if result.commit_sha:
            notes.append(f"Folded {', '.join(result.folded)} in {result.commit_sha[:7]}.")
            await resolve_folded_threads(ctx, pull, result.folded)
        elif result.via_pull_request:
            notes.append(f"The head branch cannot be pushed to; the fold is proposed at {result.via_pull_request}.")
    if outcome.followups_to_open and maintainer:
        for url in await open_followups(ctx, pull, settings, outcome.followups_to_open):
            notes.append(f"Follow-up: {url}")
    root = comment.in_reply_to_id or comment.id
    # A delivery cut between saving the records and posting the notice is replayed as "no change":
    # the thread is still owed its notice.
    owed = comment.kind == "review_comment" and outcome.question in pull.records and str(root) not in pull.state.notices
    if not (outcome.touched or notes or outcome.wants_help or folded or owed):
        return
    if settings.dry_run:
        ctx.log.info("dry run: would update the notice for comment %s (%s)", comment.id, "; ".join(outcome.changes))
        pull.save(ctx, [])
        return
    maintainers = known_maintainers(pull, settings) | await _awaited_maintainers(ctx, pull, settings, outcome.touched)
    if comment.kind == "review_comment" and outcome.question in pull.records:
        body = thread_notice_body(
            pull, outcome.question, notes=notes, maintainers=maintainers, document_text=pull.document_text(ctx),
            dry_run=False, wants_help=outcome.wants_help,
        )
        await upsert_thread_notice(ctx, pull, root, body)
    else:
        touched = list(dict.fromkeys([*outcome.touched, *folded]))
        await upsert_summary_notice(ctx, pull, summary_body(pull, touched, notes, maintainers, wants_help=outcome.wants_help, dry_run=False))
    await _refresh_folded_notices(ctx, pull, folded, root, maintainers)
    pull.save(ctx, [])


async def _refresh_folded_notices(ctx: Context, pull: TrackedPull, folded: tuple[str, ...], skip_root: int, maintainers: Collection[str]) -> None:
    for root, question in pull.state.threads.items():
        if question in folded and int(root) != skip_root and root in pull.state.notices:
            body = thread_notice_body(pull, question, notes=(), maintainers=maintainers, document_text=None, dry_run=False)
            await upsert_thread_notice(ctx, pull, int(root), body)


async def _withdraw(ctx: Context, pull: TrackedPull, comment: Comment, settings: RepoSettings) -> None:
    if comment.id not in pull.state.deleted_comments:
        pull.state.deleted_comments.append(comment.id)
    changes = retract(pull.records, comment.id, ctx.clock().isoformat())
    touched = [qid for qid in pull.records if any(change.startswith(f"{qid}:") for change in changes)]
    ctx.log.info("PR #%s comment %s deleted: %s", pull.state.number, comment.id, "; ".join(changes) or "nothing to withdraw")
    root = str(comment.in_reply_to_id or comment.id)
    question = pull.state.threads.get(root)
    if changes and question and root in pull.state.notices and not settings.dry_run:
        body = thread_notice_body(
            pull, question, notes=(), maintainers=known_maintainers(pull, settings), document_text=pull.document_text(ctx), dry_run=False
        )
        await upsert_thread_notice(ctx, pull, int(root), body)
    pull.save(ctx, touched)  # after the notice, as in handle_reply: a cut delivery redoes it


def _forget_own_notice(pull: TrackedPull, comment: Comment) -> bool:
    """Our notice was deleted (by a person): post a fresh one next time instead of editing it."""
    for root, notice_id in list(pull.state.notices.items()):
        if notice_id == comment.id:
            del pull.state.notices[root]
            return True
    if pull.state.summary_notice == comment.id:
        pull.state.summary_notice = None
        return True
    return False


def _register_own_notice(pull: TrackedPull, comment: Comment) -> bool:
    """Our own notice came back as a webhook: remember it, so we edit it rather than post again.

    True when that taught us something (a notice id we had not recorded)."""
    question = parse_notice_marker(comment.body)
    if question is None:
        return False
    if comment.kind == "review_comment" and comment.in_reply_to_id is not None:
        if str(comment.in_reply_to_id) in pull.state.notices:
            return False
        pull.state.notices[str(comment.in_reply_to_id)] = comment.id
        return True
    if comment.kind == "issue_comment" and question == SUMMARY_KEY and pull.state.summary_notice is None:
        pull.state.summary_notice = comment.id
        return True
    return False


async def _awaited_maintainers(ctx: Context, pull: TrackedPull, settings: RepoSettings, touched: Collection[str]) -> set[str]:
    """Awaited people the bot has not seen answer yet: are they maintainers (may it @-mention them)?

    Asked of GitHub once per person and PR; the answer is kept in the PR's state.
    """
    known = {login.lower() for login in known_maintainers(pull, settings)}
    unknown = [
        login
        for question_id in touched
        for login in pull.records[question_id].get("awaiting") or ()
        if login.lower() not in known and login not in pull.state.people
    ]
    for login in list(dict.fromkeys(unknown))[:LOGINS_PER_COMMENT]:  # the rest are named, not mentioned
        pull.state.people[login] = await is_maintainer(ctx, settings.maintainers, login, UNKNOWN)
    return {login for login, maintainer in pull.state.people.items() if maintainer}


def known_maintainers(pull: TrackedPull, settings: RepoSettings) -> set[str]:
    """Logins the bot may @-mention: configured maintainers, people who answered as one, and
    awaited people GitHub said are maintainers."""
    known = {login for login in settings.maintainers.logins}
    known |= {login for login, maintainer in pull.state.people.items() if maintainer}
    for mapping in pull.records.values():
        for answer in mapping.get("answers") or ():
            if str(answer.get("association", "")).upper() in settings.maintainers.associations:
                known.add(str(answer.get("author")))
    return known
