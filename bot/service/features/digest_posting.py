"""The weekly digest, posted by the service's scheduler on each tracked PR.

Look first, then write, then look again: this week's marker already on the PR means done;
after posting, every copy of this week's digest but the oldest is deleted, so two schedulers
(or a restart in between) still leave one. Last week's digest is then minimized as outdated.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.digest import PostedDigest, digest_for_week, iso_week, posted_digests, previous_digest, render_digest
from bot.core.document import parse_document
from bot.github import pulls as github
from bot.service.context import Context
from bot.service.replies import known_maintainers, settings_or_report
from bot.service.tracking import load_pull


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
    existing = await posted(ctx, number)
    if digest_for_week(existing, week) is not None:
        pull.state.last_digest_week = week  # so the next tick does not list the comments again
        pull.save(ctx, [])
        return DigestRun(week, None, already=True)
    previous = previous_digest(existing, week)
    text = pull.document_text(ctx)
    records = pull.typed_records()
    digest = render_digest(
        records,
        parse_document(text, pull.state.document_path or "") if text is not None else None,
        previous.figures if previous else None,
        now,
        maintainers=known_maintainers(pull, settings),
        pr_url=pull.state.url,
        week=week,
    )
    if settings.dry_run:  # logged once a week, like a real post
        ctx.log.info("dry run: would post the %s digest on PR #%s:\n%s", week, number, digest.markdown)
        run = DigestRun(week, None, already=False)
    else:
        run = await publish(ctx, number, digest.markdown, week, existing=existing)
    pull.state.last_digest_week = week
    pull.save(ctx, [])
    return run


async def posted(ctx: Context, number: int, *, family: bool = False) -> list[PostedDigest]:
    assert ctx.gh is not None and ctx.repo is not None
    return posted_digests(await github.list_comments(ctx.gh, ctx.repo, number, "issue_comment"), family=family)


async def publish(
    ctx: Context, number: int, markdown: str, week: str, *, family: bool = False,
    existing: list[PostedDigest] | None = None,
) -> DigestRun:
    """Post `week`'s digest on issue or PR `number` once, then minimize earlier ones.

    Look, post, look again: every copy of this week's digest but the oldest is deleted, so two
    schedulers (or a restart in between) converge on one. `family` selects family digests,
    which are told apart from a PR's own by their marker. `existing`: the caller's fresh look.
    """
    assert ctx.gh is not None and ctx.repo is not None
    if existing is None:
        existing = await posted(ctx, number, family=family)
    if digest_for_week(existing, week) is not None:
        return DigestRun(week, None, already=True)
    created = await github.post_issue_comment(ctx.gh, ctx.repo, number, markdown)
    after = await posted(ctx, number, family=family)
    this_week = [item for item in after if item.week == week]
    removed = []
    for extra in this_week[1:]:  # a racing scheduler posted too: keep the oldest, as it will
        if await github.delete_issue_comment(ctx.gh, ctx.repo, extra.comment_id):
            removed.append(extra.comment_id)
    minimized = []
    for item in after:
        if item.week < week and item.minimized is not True and item.node_id:
            await github.minimize_comment(ctx.gh, item.node_id)
            minimized.append(item.comment_id)
    kept = this_week[0].comment_id if this_week else None
    kind = "family digest" if family else "digest"
    ctx.log.info("%s %s on #%s: comment %s (removed %s, minimized %s)", kind, week, number, kept, removed, minimized)
    return DigestRun(week, kept if kept == int(created["id"]) else None, already=False, removed=tuple(removed), minimized=tuple(minimized))
