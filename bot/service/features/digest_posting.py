"""The weekly digest, posted by the service's scheduler on each tracked PR.

What to post, delete and minimize is decided in `bot.core.digest_publication` (look, post,
look again), as for the batch job; this module reads the thread and carries the decision out.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.digest_publication import DigestLook, look_for_digest, tidy_after_posting
from bot.core.digest_schedule import iso_week
from bot.core.digest_wording import Digest, render_digest
from bot.core.document import parse_document
from bot.github import pulls as github
from bot.service.features.replies import known_maintainers, settings_or_report
from bot.service.features.tracked_pulls import load_pull
from bot.service.runtime.handler_context import Context


@dataclass(frozen=True)
class DigestRun:
    week: str
    posted: int | None  # the comment id this run created and kept
    already: bool  # this week's digest was on the PR before this run
    removed: tuple[int, ...] = ()
    minimized: tuple[int, ...] = ()


async def post_weekly_digest(ctx: Context, number: int, now: datetime, *, week: str | None = None) -> DigestRun | None:
    """Post the digest for `week` (default: the UTC ISO week of `now`; the scheduler passes the
    week of the configured timezone, so marker, record and schedule agree)."""
    assert ctx.gh is not None and ctx.repo is not None
    settings = await settings_or_report(ctx, number)
    pull = load_pull(ctx, number)
    if settings is None or not settings.digest.enabled or not pull.tracked:
        return None
    week = week or iso_week(now)

    def render(look: DigestLook) -> Digest:
        text = pull.document_text(ctx)
        return render_digest(
            pull.typed_records(),
            parse_document(text, pull.state.document_path or "") if text is not None else None,
            look.previous_figures,
            now,
            maintainers=known_maintainers(pull, settings),
            pr_url=pull.state.url,
            week=week,
        )

    run = await post_once(ctx, number, await look_at_thread(ctx, number, week), render, dry_run=settings.dry_run)
    pull.state.last_digest_week = week  # also when it was there already: the next tick need not look again
    pull.save(ctx, [])
    return run


async def look_at_thread(ctx: Context, number: int, week: str, *, family: bool = False) -> DigestLook:
    assert ctx.gh is not None and ctx.repo is not None
    return look_for_digest(await github.list_comments(ctx.gh, ctx.repo, number, "issue_comment"), week, family=family)


async def post_once(
    ctx: Context, number: int, look: DigestLook, render: Callable[[DigestLook], Digest], *, dry_run: bool
) -> DigestRun:
    """Render and post `look.week`'s digest on issue or PR `number` unless the look found it
    there already; with `dry_run`, log it instead (once a week, like a real post)."""
    if not look.should_post:
        return DigestRun(look.week, None, already=True)
    digest = render(look)
    if dry_run:
        ctx.log.info("dry run: would post the %s %s on #%s:\n%s", look.week, _kind(look), number, digest.markdown)
        return DigestRun(look.week, None, already=False)
    return await _publish(ctx, number, digest.markdown, look)


async def _publish(ctx: Context, number: int, markdown: str, look: DigestLook) -> DigestRun:
    """Post, then delete this week's extra copies and minimize the earlier digests that the
    second look names."""
    assert ctx.gh is not None and ctx.repo is not None
    created = await github.post_issue_comment(ctx.gh, ctx.repo, number, markdown)
    after = await github.list_comments(ctx.gh, ctx.repo, number, "issue_comment")
    tidy = tidy_after_posting(after, look, int(created["id"]))
    removed = [extra.comment_id for extra in tidy.delete if await github.delete_issue_comment(ctx.gh, ctx.repo, extra.comment_id)]
    for earlier in tidy.minimize:
        await github.minimize_comment(ctx.gh, earlier.node_id)
    minimized = [earlier.comment_id for earlier in tidy.minimize]
    kept = tidy.kept.comment_id if tidy.kept is not None else None
    ctx.log.info("%s %s on #%s: comment %s (removed %s, minimized %s)", _kind(look), look.week, number, kept, removed, minimized)
    posted = tidy.posted.comment_id if tidy.posted is not None else None
    return DigestRun(look.week, posted, already=False, removed=tuple(removed), minimized=tuple(minimized))


def _kind(look: DigestLook) -> str:
    return "family digest" if look.family else "digest"
