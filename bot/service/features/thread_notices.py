"""The bot's one notice per review thread (and one on the PR for PR-level replies).

Look first, then write: the notice id is remembered per thread; when it is unknown (state
lost, or a crash between the POST and the save) the bot's own comment coming back as a
webhook re-registers it, so the next change edits it instead of posting a second copy.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from gidgethub import BadRequest

from bot.core.conversation import Comment
from bot.core.document import parse_document
from bot.core.markdown import quoted_notes
from bot.core.notice_text import notice_marker, parse_notice_marker, render_help, render_notice
from bot.core.planner import HumanItem, PlanOptions, Promotion, plan_document
from bot.github import pulls as github
from bot.github.normalise import comment_from_issue_comment, comment_from_review_comment
from bot.service.features.tracked_pulls import TrackedPull
from bot.service.runtime.handler_context import Context

SUMMARY_KEY = "pr"


async def upsert_thread_notice(ctx: Context, pull: TrackedPull, root_id: int, body: str) -> None:
    """Reply once in the thread, then edit that reply (one API call either way)."""
    assert ctx.gh is not None and ctx.repo is not None
    if str(root_id) not in pull.state.notices and ctx.attempt > 1:
        await _adopt_lost_notices(ctx, pull)
    known = pull.state.notices.get(str(root_id))
    if known is not None:
        try:
            await github.edit_review_comment(ctx.gh, ctx.repo, known, body)
            return
        except BadRequest as error:
            if error.status_code != 404:
                raise
            del pull.state.notices[str(root_id)]  # someone deleted it: post a fresh one
    created = await github.reply_in_thread(ctx.gh, ctx.repo, pull.state.number, root_id, body)
    pull.state.notices[str(root_id)] = int(created["id"])


async def upsert_summary_notice(ctx: Context, pull: TrackedPull, body: str) -> None:
    """The PR-level notice for replies outside review threads (bulk answers, /accept)."""
    assert ctx.gh is not None and ctx.repo is not None
    if pull.state.summary_notice is None and ctx.attempt > 1:
        pull.state.summary_notice = await _lost_summary_notice(ctx, pull)
    if pull.state.summary_notice is not None:
        try:
            await github.edit_issue_comment(ctx.gh, ctx.repo, pull.state.summary_notice, body)
            return
        except BadRequest as error:
            if error.status_code != 404:
                raise
            pull.state.summary_notice = None
    created = await github.post_issue_comment(ctx.gh, ctx.repo, pull.state.number, body)
    pull.state.summary_notice = int(created["id"])


def remember_notices(pull: TrackedPull, comments: Iterable[Comment]) -> None:
    """Adopt the bot's notices found among `comments` (one per thread, by its marker)."""
    for comment in comments:
        if comment.author_is_bot and comment.kind == "review_comment" and comment.in_reply_to_id and parse_notice_marker(comment.body):
            pull.state.notices.setdefault(str(comment.in_reply_to_id), comment.id)


async def _adopt_lost_notices(ctx: Context, pull: TrackedPull) -> None:
    """A retried delivery may follow a crash between posting a notice and saving its id: find
    such notices by their marker before posting. Only a retry looks, so a first attempt stays
    at one API call."""
    assert ctx.gh is not None and ctx.repo is not None
    found = await github.list_comments(ctx.gh, ctx.repo, pull.state.number, "review_comment")
    remember_notices(pull, [comment_from_review_comment(item) for item in found])


async def _lost_summary_notice(ctx: Context, pull: TrackedPull) -> int | None:
    assert ctx.gh is not None and ctx.repo is not None
    found = await github.list_comments(ctx.gh, ctx.repo, pull.state.number, "issue_comment")
    comments = [comment_from_issue_comment(item) for item in found]
    return next((c.id for c in comments if c.author_is_bot and parse_notice_marker(c.body) == SUMMARY_KEY), None)


def thread_notice_body(
    pull: TrackedPull,
    question_id: str,
    *,
    notes: Sequence[str],
    maintainers: Collection[str],
    document_text: str | None,
    dry_run: bool,
    wants_help: bool = False,
) -> str:
    if wants_help:
        return render_help(question_id)
    record = pull.record(question_id)
    promotions: Sequence[Promotion] = ()
    humans: Sequence[HumanItem] = ()
    if document_text is not None:
        promotions, humans = preview(pull, question_id, document_text)
    return render_notice(record, promotions=promotions, for_humans=humans, notes=notes, maintainers=maintainers, dry_run=dry_run)


def preview(pull: TrackedPull, question_id: str, document_text: str) -> tuple[Sequence[Promotion], Sequence[HumanItem]]:
    """What folding this question would change, as if its proposals were accepted (nothing, when
    the document cannot be read: the notice still says what the reply did)."""
    records = pull.typed_records()
    try:
        document = parse_document(document_text, pull.state.document_path or "")
        plan = plan_document(document, document_text, records, PlanOptions(only=frozenset({question_id}), path=pull.state.document_path))
    except Exception:  # noqa: BLE001 - a preview is a courtesy; it must never block the notice
        return (), ()
    return plan.promotions, [item for item in plan.for_humans if item.question == question_id]


def summary_body(pull: TrackedPull, touched: Sequence[str], notes: Sequence[str], maintainers: Collection[str], *, wants_help: bool, dry_run: bool) -> str:
    if wants_help:
        return render_help(None)
    lines = [notice_marker(SUMMARY_KEY), "**Threat-model review: what the last reply changed**", ""]
    for question_id in touched:
        mapping = pull.records[question_id]
        awaiting = ", ".join(f"`{login}`" for login in mapping.get("awaiting") or ())
        lines.append(f"- **{question_id}**: {mapping.get('status')}" + (f" · awaiting {awaiting}" if awaiting else ""))
    lines += quoted_notes(notes, 300)
    lines += ["", "A maintainer folds every confirmed answer in one commit with `/accept`. `/questions help` lists every command."]
    if dry_run:
        lines.append("\n_Dry run: nothing is written to the repository._")
    return "\n".join(lines) + "\n"
