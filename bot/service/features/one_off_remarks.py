"""One-off remarks on a PR (an invalid config, a branch the bot cannot write): said once.

`ctx.once(key)` stops a second delivery from saying it again, but lets the same delivery's own
rerun through (a retry, or a rerun after a crash that came before the delivery was marked done),
so the remark also carries a hidden marker and is looked for before it is posted.
"""
from __future__ import annotations

from bot.core.limits import REMARK_MAX_CHARS
from bot.core.markdown import bounded, defuse_comments, marker_text
from bot.github import pulls as github
from bot.github.normalise import comment_from_issue_comment
from bot.service.runtime.handler_context import Context


def remark_marker(key: str) -> str:
    return f"<!-- threat-model-bot:remark {marker_text(key)} -->"


async def post_once(ctx: Context, number: int, key: str, text: str) -> bool:
    """Post `text` on PR (or issue) `number` unless it was said for `key`. True when posted."""
    assert ctx.gh is not None and ctx.repo is not None
    if not await ctx.once(key):
        return False
    marker = remark_marker(key)
    for item in await github.list_comments(ctx.gh, ctx.repo, number, "issue_comment"):
        comment = comment_from_issue_comment(item)
        if comment.author_is_bot and marker in comment.body:
            return False  # this delivery said it before it was cut short
    await github.post_issue_comment(ctx.gh, ctx.repo, number, f"{marker}\n{bounded(defuse_comments(text), REMARK_MAX_CHARS)}")
    return True
