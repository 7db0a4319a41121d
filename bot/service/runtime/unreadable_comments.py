"""Comments and documents the bot cannot read: noted once, then left alone.

Anyone can post on a public PR, so nothing one person writes may fail the PR's deliveries or
its reconciles for good. What the reader fails on is logged once with its id, kept in the
PR's state, and skipped until it changes (an edit of the comment, a new head for the document).
"""
from __future__ import annotations

from bot.core.conversation import Comment
from bot.service.runtime.handler_context import Context
from bot.store.pull_state import PullState


def known_unreadable(state: PullState, comment: Comment) -> bool:
    """This version of the comment failed before: do not spend a read on it again."""
    return state.unreadable_comments.get(str(comment.id)) == comment.updated_at


def note_unreadable_comment(ctx: Context, state: PullState, comment: Comment, reason: str) -> bool:
    """Record it (True the first time this version is seen), with one log line."""
    if known_unreadable(state, comment):
        return False
    state.unreadable_comments[str(comment.id)] = comment.updated_at
    ctx.log.warning("PR #%s: comment %s by %s cannot be read (%s); skipped until it is edited", state.number, comment.id, comment.author, reason)
    return True


def forget_readable(state: PullState, comment: Comment) -> None:
    """An edit that reads again is a comment like any other."""
    state.unreadable_comments.pop(str(comment.id), None)
