"""Replies on a tracked PR: review comments, review summaries and PR conversation comments."""
from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.github.normalise import (
    comment_from_issue_comment,
    comment_from_review,
    comment_from_review_comment,
    is_pending_review,
)
from bot.service.features.replies import handle_reply
from bot.service.runtime.handler_context import Context

router = Router()


@router.register("pull_request_review_comment", action="created")
@router.register("pull_request_review_comment", action="edited")
@router.register("pull_request_review_comment", action="deleted")
async def review_comment(event: Event, ctx: Context) -> None:
    comment = comment_from_review_comment(event.data["comment"])
    await handle_reply(ctx, int(event.data["pull_request"]["number"]), comment, deleted=event.data["action"] == "deleted")


@router.register("pull_request_review", action="submitted")
@router.register("pull_request_review", action="edited")
async def review_summary(event: Event, ctx: Context) -> None:
    review = event.data["review"]
    if is_pending_review(review) or not (review.get("body") or "").strip():
        return  # a review with only inline comments: those arrive as their own events
    await handle_reply(ctx, int(event.data["pull_request"]["number"]), comment_from_review(review))


@router.register("issue_comment", action="created")
@router.register("issue_comment", action="edited")
@router.register("issue_comment", action="deleted")
async def conversation_comment(event: Event, ctx: Context) -> None:
    issue = event.data["issue"]
    if "pull_request" not in issue:
        return  # a comment on a plain issue
    comment = comment_from_issue_comment(event.data["comment"])
    await handle_reply(ctx, int(issue["number"]), comment, deleted=event.data["action"] == "deleted")
