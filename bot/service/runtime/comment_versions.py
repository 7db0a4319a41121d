"""Which version of an edited comment is the newest, when GitHub's times cannot tell.

GitHub's `updated_at` has whole seconds, so two edits within one second carry the same time
and their webhooks may arrive in any order. On such a tie (a version with the same time and
another text already applied) the bot asks GitHub for the comment as it stands: that text
wins, and any other version with that time is an older one. Costs one call, only on a tie.
"""
from __future__ import annotations

import hashlib
from enum import Enum

from bot.core.conversation import Comment
from bot.github import pulls as github
from bot.service.runtime.handler_context import Context
from bot.store.pull_state import PullState


class Version(Enum):
    ORDERED = "ordered"  # no tie: GitHub's updated_at orders it
    CURRENT = "current"  # a tie, and GitHub says this is the text now
    STALE = "stale"  # a tie, and GitHub holds another text: an older edit


def _fingerprint(comment: Comment) -> str:
    return f"{comment.updated_at} {hashlib.sha256(comment.body.encode()).hexdigest()[:16]}"


async def version_of(ctx: Context, state: PullState, comment: Comment) -> Version:
    applied = state.comment_versions.get(str(comment.id))
    if applied is None or applied == _fingerprint(comment) or applied.split(" ", 1)[0] != comment.updated_at:
        return Version.ORDERED
    assert ctx.gh is not None and ctx.repo is not None
    current = await github.get_comment(ctx.gh, ctx.repo, state.number, comment.kind, comment.id)
    if current is None:
        return Version.ORDERED  # deleted meanwhile: its own event withdraws it
    return Version.CURRENT if (current.get("body") or "") == comment.body else Version.STALE


def note_version(state: PullState, comment: Comment) -> None:
    state.comment_versions[str(comment.id)] = _fingerprint(comment)
